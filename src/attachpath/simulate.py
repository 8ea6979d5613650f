"""Simulated CATS/TDS psychotherapy data with known between-client paths.

The design follows Jacobsen et al. (2024): clients nested in therapists,
pre-treatment attachment (ECR), repeated session measures of therapeutic
attachment (CATS) and therapeutic distance (TDS), and interpersonal problems
(IIP) before and after therapy.  Defaults come from shared/notes/domain.md §2
(inferred priors, not published values).

Model (each client j of therapist t, session s = 1..k_j)::

    session score   y_jsv = eta_jv + growth_v * (s - 1) + w_jsv,  clipped to the scale
    client level    eta_j = mu + B (eta_j - mu) + zeta_j + u_t      (recursive)

* eta_jv, the "latent client mean" of a session measure v, is the client's
  expected score at session 1; growth is common to all clients (no random
  slopes), so between-client regression slopes do not depend on the session
  chosen as reference.
* u_t are therapist random intercepts (normal), zeta_j client disturbances
  (normal; the three CATS disturbances are correlated), w_jsv within-client
  session deviations: the CATS deviations are correlated, and the TDS
  deviations depend on the CATS-Secure deviation (`b_within`, `ga_within`).
* ECR, IIP-pre and IIP-post are client-level; ECR and IIP-pre are clipped to
  their scales *before* they act as predictors, so the coefficients on them
  refer to the observed scores.

What `Simulation.truth` means: ``a``, ``b``, ``c`` and ``indirect_abc = a*b*c``
are the population (between-client) regression coefficients of the model
above, marginal over therapists, in raw units:

* a: ecr_anx -> latent client mean of cats_secure,
* b: latent cats_secure mean -> latent tds_ge mean,
* c: latent tds_ge mean -> iip_post, controlling for iip_pre.

Each equation holds exactly whatever other upstream predictors are added
(their population coefficients are 0), except that adding another CATS scale
to the cats_secure equation changes `a` (the CATS disturbances correlate).
Regressions on *observed* client means are attenuated because a mean of a
few sessions measures the latent mean with error; ``truth["manifest_approx"]``
gives first-order approximations for that case.  Clipping to the scales (a few
percent of scores, reported in ``truth["clipped_share"]``) is ignored by the
truth.

Example::

    >>> from attachpath.simulate import simulate
    >>> sim = simulate(seed=1)
    >>> int(sim.sessions.client.nunique()), int(sim.sessions.therapist.nunique())
    (330, 44)
    >>> t = sim.truth
    >>> abs(t["indirect_abc"] - t["a"] * t["b"] * t["c"]) < 1e-9
    True
    >>> t["standardized"]
    {'a': -0.35, 'b': 0.4, 'c': -0.3, 'indirect_abc': 0.042}
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from attachpath.errors import DataError, closest

#: Seed of the bundled example data set (attachpath.datasets).
EXAMPLE_SEED = 2024

#: Scale ranges; scores are clipped to them.
SCALES = {
    "ecr_anx": (1.0, 7.0), "ecr_avoid": (1.0, 7.0),
    "cats_secure": (1.0, 6.0), "cats_avoid": (1.0, 6.0), "cats_preoc": (1.0, 6.0),
    "tds_ge": (1.0, 5.0), "tds_ga": (1.0, 5.0),
    "iip_pre": (0.0, 4.0), "iip_post": (0.0, 4.0),
}

#: Session measures: mean at session 1, total SD of session scores, client
#: ICC (between-client share of the session-level variance, therapist part
#: included), therapist share of that variance, growth per session.
SESSION_MEASURES = {
    "cats_secure": {"mean": 4.30, "sd": 0.75, "icc": 0.70, "therapist": 0.03, "growth": 0.025},
    "cats_avoid": {"mean": 2.45, "sd": 0.65, "icc": 0.70, "therapist": 0.02, "growth": -0.020},
    "cats_preoc": {"mean": 2.40, "sd": 0.70, "icc": 0.70, "therapist": 0.02, "growth": 0.000},
    "tds_ge": {"mean": 3.20, "sd": 0.70, "icc": 0.65, "therapist": 0.03, "growth": 0.030},
    "tds_ga": {"mean": 3.00, "sd": 0.70, "icc": 0.65, "therapist": 0.03, "growth": 0.030},
}

#: Client-level measures: mean, SD, therapist share of the variance.
CLIENT_MEASURES = {
    "ecr_anx": {"mean": 3.9, "sd": 1.2, "therapist": 0.0},
    "ecr_avoid": {"mean": 3.2, "sd": 1.0, "therapist": 0.0},
    "iip_pre": {"mean": 1.6, "sd": 0.55, "therapist": 0.0},
    "iip_post": {"mean": 1.3, "sd": 0.55, "therapist": 0.05},
}

#: Standardized population values (correlations / standardized paths of the
#: latent between-client variables; `*_within` for session deviations).
DEFAULT_EFFECTS = {
    "a": -0.35,             # ecr_anx -> cats_secure
    "b": 0.40,              # cats_secure -> tds_ge
    "c": -0.30,             # tds_ge -> iip_post (iip_pre held constant)
    "d": 0.62,              # iip_pre -> iip_post
    "direct": 0.0,          # ecr_anx -> iip_post
    "ga": -0.25,            # cats_secure -> tds_ga
    "anx_preoc": 0.40,      # ecr_anx -> cats_preoc
    "anx_avoid": 0.20,      # ecr_anx -> cats_avoid
    "avoid_avoid": 0.40,    # ecr_avoid -> cats_avoid
    "anx_pre": 0.35,        # ecr_anx -> iip_pre
    "r_ecr": 0.25,          # correlation of ecr_anx and ecr_avoid
    "r_secure_avoid": -0.60,  # residual correlations of the CATS client means
    "r_secure_preoc": 0.40,
    "r_avoid_preoc": 0.10,
    "b_within": 0.30,       # session deviations: cats_secure -> tds_ge
    "ga_within": -0.10,     # session deviations: cats_secure -> tds_ga
    "rw_secure_avoid": -0.40,  # correlations of CATS session deviations
    "rw_secure_preoc": 0.10,
    "rw_avoid_preoc": 0.20,
}

# Between-client variables in a causal (topological) order, and the paths.
_ORDER = ["ecr_anx", "ecr_avoid", "iip_pre", "cats_secure", "cats_avoid", "cats_preoc",
          "tds_ge", "tds_ga", "iip_post"]
_PATHS = {  # outcome -> {predictor: effect key}
    "iip_pre": {"ecr_anx": "anx_pre"},
    "cats_secure": {"ecr_anx": "a"},
    "cats_avoid": {"ecr_anx": "anx_avoid", "ecr_avoid": "avoid_avoid"},
    "cats_preoc": {"ecr_anx": "anx_preoc"},
    "tds_ge": {"cats_secure": "b"},
    "tds_ga": {"cats_secure": "ga"},
    "iip_post": {"tds_ge": "c", "iip_pre": "d", "ecr_anx": "direct"},
}
_CATS = ["cats_secure", "cats_avoid", "cats_preoc"]
_RESID_R = {("cats_secure", "cats_avoid"): "r_secure_avoid",
            ("cats_secure", "cats_preoc"): "r_secure_preoc",
            ("cats_avoid", "cats_preoc"): "r_avoid_preoc"}
_WITHIN_R = {("cats_secure", "cats_avoid"): "rw_secure_avoid",
             ("cats_secure", "cats_preoc"): "rw_secure_preoc",
             ("cats_avoid", "cats_preoc"): "rw_avoid_preoc"}

#: Column order of `Simulation.sessions`.
COLUMNS = ["therapist", "client", "session", "cats_secure", "cats_avoid", "cats_preoc",
           "tds_ge", "tds_ga", "ecr_anx", "ecr_avoid", "iip_pre", "iip_post", "age", "female"]


@dataclass(frozen=True, eq=False)
class Simulation:
    """A simulated data set with the values that generated it.

    Attributes:
        sessions: long data, one row per attended session, columns COLUMNS
            (client-level variables repeated on each row of a client).
        truth: population values (see the module docstring for what they
            refer to); JSON-serializable.
        params: every setting used (seed, design, effects, measures).
        latent: one row per client with the latent client means (at
            session 1) of the session measures and the client-level scores.
    """

    sessions: pd.DataFrame
    truth: dict
    params: dict
    latent: pd.DataFrame


def simulate(seed: int = EXAMPLE_SEED, n_therapists: int = 44, n_clients: int = 330,
             min_sessions: int = 2, max_sessions: int = 10, effects: dict | None = None, *,
             dropout: float = 0.15, dropout_mar: float = -0.3, skip: float = 0.08,
             missing: float = 0.02, missing_post: float = 0.0,
             caseload_shape: float = 1.0, therapist_icc: float | None = None,
             therapist_icc_ecr: float = 0.0) -> Simulation:
    """Simulate one data set; the same arguments give identical output.

    Args:
        seed: seed of numpy's default_rng.
        n_therapists, n_clients: design size; every therapist gets at least 2
            clients, the rest are spread with skewed (gamma(caseload_shape))
            weights, so caseloads sum exactly to n_clients.
        min_sessions, max_sessions: range of the number of session rows per
            client.
        effects: overrides of DEFAULT_EFFECTS (standardized values).
        dropout: probability of ending after each session from min_sessions on
            (at an average CATS-Secure score).
        dropout_mar: log-odds change of ending per SD of the session's
            CATS-Secure score (MAR dropout; 0 gives MCAR).
        skip: probability that an intermediate session has no questionnaire
            (the row is absent; never the first or last, never below
            min_sessions rows).
        missing: probability that the CATS block or the TDS block of a
            session row is missing (never in session 1).
        missing_post: share of clients without iip_post (MAR: more likely
            with higher iip_pre); 0 by default, so the data are complete at
            client level.
        caseload_shape: gamma shape of the caseload weights (smaller = more
            skewed).
        therapist_icc: therapist share of the disturbance variance of every
            client-level outcome (the latent client means of CATS and TDS,
            and iip_post), e.g. 0 to 0.3 (the study's plausible range; 0.15 in
            the coverage study); None keeps the small per-measure shares of
            SESSION_MEASURES / CLIENT_MEASURES.  ECR and IIP-pre, measured
            before therapy, get none from it (ECR: see therapist_icc_ecr).  The paths stay
            the same (marginal over therapists); truth["levels"] gives the
            implied variances and ICCs at each level.
        therapist_icc_ecr: therapist share of the variance of the
            pretreatment ECR scores (ecr_anx and ecr_avoid), 0 by default.
            Clients are not allotted to therapists at random in practice
            (referral, specialisation), so pretreatment attachment can differ
            between caseloads; with a share > 0 the predictor of path a has a
            therapist design effect too.  The paths stay the marginal ones
            (the therapist and client parts of ECR are independent of the
            outcomes' disturbances), as for therapist_icc.

    Raises DataError for settings that cannot be simulated (e.g. fewer than
    two clients per therapist, effects implying a negative variance).

    Example::

        >>> sim = simulate(seed=7, n_therapists=10, n_clients=60)
        >>> bool(sim.sessions.groupby("client").size().between(2, 10).all())
        True
    """
    eff = _effects(effects)
    _check_design(n_therapists, n_clients, min_sessions, max_sessions,
                  dict(dropout=dropout, skip=skip, missing=missing, missing_post=missing_post),
                  dropout_mar, caseload_shape, therapist_icc, therapist_icc_ecr)
    model = _between_model(eff, therapist_icc, therapist_icc_ecr)
    rng = np.random.default_rng(seed)

    # Design: caseloads and therapists' random intercepts.
    caseload = caseloads(rng, n_therapists, n_clients, caseload_shape)
    therapist = np.repeat(np.arange(1, n_therapists + 1), caseload)
    t_idx = therapist - 1
    client = np.arange(1, n_clients + 1)

    # Between-client (latent) variables, in causal order.
    k = len(_ORDER)
    L = _chol(model["psi_client"])
    zeta = rng.standard_normal((n_clients, k)) @ L.T
    u = rng.standard_normal((n_therapists, k))
    if therapist_icc is None and not therapist_icc_ecr:   # the original draws
        u = u * np.sqrt(model["var_therapist"])
    else:
        u = u @ _chol(model["psi_therapist"]).T
    dist = zeta + u[t_idx]
    mu, B = model["mean"], model["B"]
    eta = np.empty((n_clients, k))
    for i, v in enumerate(_ORDER):
        eta[:, i] = mu[i] + (eta[:, :i] - mu[:i]) @ B[i, :i] + dist[:, i]
        if v in ("ecr_anx", "ecr_avoid", "iip_pre"):  # observed predictors: clip first
            eta[:, i] = np.clip(eta[:, i], *SCALES[v])
    col = {v: i for i, v in enumerate(_ORDER)}

    # Sessions: all max_sessions potential sessions, then dropout and skips.
    S = max_sessions
    svars = list(SESSION_MEASURES)
    sess = np.arange(1, S + 1)
    w = _within_deviations(rng, eff, n_clients, S)
    scores, outside, raw_clip = {}, {}, {}
    for v in svars:
        m = SESSION_MEASURES[v]
        y = eta[:, [col[v]]] + m["growth"] * (sess - 1) + w[v]
        lo, hi = SCALES[v]
        outside[v] = (y < lo) | (y > hi)
        scores[v] = np.clip(y, lo, hi)

    m = SESSION_MEASURES["cats_secure"]
    z = (scores["cats_secure"] - (m["mean"] + m["growth"] * (sess - 1))) / m["sd"]
    p_end = 1.0 / (1.0 + np.exp(-(math.log(dropout / (1 - dropout)) + dropout_mar * z))) \
        if dropout > 0 else np.zeros_like(z)
    present = session_pattern(rng, p_end, min_sessions, skip)[1]
    blanks = {blk: (rng.random((n_clients, S)) < missing) & (sess > 1)
              for blk in ("cats", "tds")}

    rows_c, rows_s = np.nonzero(present)
    for v in svars:
        raw_clip[v] = float(outside[v][rows_c, rows_s].mean())
    data = {
        "therapist": therapist[rows_c],
        "client": client[rows_c],
        "session": sess[rows_s],
    }
    for v in svars:
        vals = scores[v][rows_c, rows_s].copy()
        vals[blanks[v.split("_")[0]][rows_c, rows_s]] = np.nan
        data[v] = vals

    # Client-level variables.
    post_lo, post_hi = SCALES["iip_post"]
    post_raw = eta[:, col["iip_post"]]
    raw_clip["iip_post"] = float(np.mean((post_raw < post_lo) | (post_raw > post_hi)))
    for v in ("ecr_anx", "ecr_avoid", "iip_pre"):
        raw_clip[v] = float(np.mean((eta[:, col[v]] == SCALES[v][0])
                                    | (eta[:, col[v]] == SCALES[v][1])))
    post = np.clip(post_raw, post_lo, post_hi)
    n_miss = int(round(missing_post * n_clients))
    if n_miss:
        zpre = (eta[:, col["iip_pre"]] - CLIENT_MEASURES["iip_pre"]["mean"]) \
            / CLIENT_MEASURES["iip_pre"]["sd"]
        p = np.exp(0.5 * zpre)
        post = post.copy()
        post[rng.choice(n_clients, size=n_miss, replace=False, p=p / p.sum())] = np.nan
    age = np.clip(np.round(rng.normal(40.2, 12.0, n_clients)), 18, 80).astype(np.int64)
    female = (rng.random(n_clients) < 0.75).astype(np.int64)
    client_level = {"ecr_anx": eta[:, col["ecr_anx"]], "ecr_avoid": eta[:, col["ecr_avoid"]],
                    "iip_pre": eta[:, col["iip_pre"]], "iip_post": post,
                    "age": age, "female": female}
    for v, vals in client_level.items():
        data[v] = vals[rows_c]
    sessions = pd.DataFrame(data)[COLUMNS]

    latent = pd.DataFrame({"client": client, "therapist": therapist})
    for v in _ORDER:
        latent[v] = eta[:, col[v]]
    latent["iip_post"] = post

    params = {
        "seed": seed, "n_therapists": n_therapists, "n_clients": n_clients,
        "min_sessions": min_sessions, "max_sessions": max_sessions,
        "dropout": dropout, "dropout_mar": dropout_mar, "skip": skip, "missing": missing,
        "missing_post": missing_post, "caseload_shape": caseload_shape,
        "therapist_icc": therapist_icc,
        # only when set, so the bundled example's truth.json stays as it was
        **({"therapist_icc_ecr": therapist_icc_ecr} if therapist_icc_ecr else {}),
        "effects": dict(eff), "session_measures": SESSION_MEASURES,
        "client_measures": CLIENT_MEASURES, "scales": {k_: list(v) for k_, v in SCALES.items()},
    }
    truth = _truth(model, eff, sessions, raw_clip)
    return Simulation(sessions=sessions, truth=_clean(truth), params=_clean(params),
                      latent=latent)


# --------------------------------------------------------------------------- model

def caseloads(rng: np.random.Generator, n_therapists: int, n_clients: int,
              shape: float = 1.0) -> np.ndarray:
    """Clients per therapist: at least 2 each, the rest spread with skewed
    gamma(shape) weights, summing exactly to n_clients (also used by the
    power study's nested designs)."""
    weights = rng.gamma(shape, size=n_therapists)
    return 2 + rng.multinomial(n_clients - 2 * n_therapists, weights / weights.sum())


def session_pattern(rng: np.random.Generator, p_end, min_sessions: int, skip: float):
    """(last session attended per client, clients x sessions mask of the
    session rows present).  p_end: probability of ending after each session
    (clients x max sessions), applied from min_sessions on;
    skip: probability that an intermediate session has no row (never the
    first or last, never below min_sessions rows)."""
    n_clients, S = np.shape(p_end)
    sess = np.arange(1, S + 1)
    ends = rng.random((n_clients, S)) < p_end
    ends[:, : min_sessions - 1] = False
    ends[:, S - 1] = True
    last = ends.argmax(axis=1) + 1                       # k_j: last session attended
    attended = sess[None, :] <= last[:, None]
    skipped = (rng.random((n_clients, S)) < skip) & (sess > 1) & (sess[None, :] < last[:, None])
    too_few = (attended & ~skipped).sum(axis=1) < min_sessions
    skipped[too_few] = False
    return last, attended & ~skipped


def _effects(effects):
    eff = dict(DEFAULT_EFFECTS)
    for key, val in (effects or {}).items():
        if key not in eff:
            hint = closest(key, list(eff))
            raise DataError(f"Unknown effect '{key}' for simulate()"
                            + (f"; did you mean '{hint}'?" if hint else
                               f"; known effects: {', '.join(eff)}."), column=key)
        if not isinstance(val, (int, float)) or not math.isfinite(val) or abs(val) >= 1:
            raise DataError(f"Effect '{key}' must be a standardized value between -1 and 1, "
                            f"not {val!r}.", column=key, value=val)
        eff[key] = float(val)
    return eff


def _check_design(n_t, n_c, lo, hi, probs, dropout_mar, shape, therapist_icc=None,
                  therapist_icc_ecr=0.0):
    if not (isinstance(n_t, (int, np.integer)) and n_t >= 1):
        raise DataError(f"n_therapists must be a positive whole number, not {n_t!r}.")
    if not (isinstance(n_c, (int, np.integer)) and n_c >= 2 * n_t):
        raise DataError(f"n_clients must be at least twice n_therapists (every therapist "
                        f"has at least 2 clients), but got {n_c!r} clients for {n_t} "
                        f"therapists.")
    if not (isinstance(lo, (int, np.integer)) and isinstance(hi, (int, np.integer))
            and 1 <= lo <= hi):
        raise DataError(f"Sessions per client must satisfy 1 <= min_sessions <= "
                        f"max_sessions, but got {lo!r} and {hi!r}.")
    for name, p in probs.items():
        if not (0 <= p < 1):
            raise DataError(f"{name} must be a probability in [0, 1), not {p!r}.")
    if not math.isfinite(dropout_mar) or not (shape > 0):
        raise DataError("dropout_mar must be finite and caseload_shape positive.")
    if therapist_icc is not None and not (isinstance(therapist_icc, (int, float))
                                          and 0 <= therapist_icc < 1):
        raise DataError(f"therapist_icc must be a share in [0, 1) (the study's range is "
                        f"0 to 0.3), not {therapist_icc!r}.", value=therapist_icc)
    if not (isinstance(therapist_icc_ecr, (int, float)) and 0 <= therapist_icc_ecr < 1):
        raise DataError(f"therapist_icc_ecr must be a share in [0, 1), not "
                        f"{therapist_icc_ecr!r}.", value=therapist_icc_ecr)


def _sd_between(v: str) -> float:
    if v in SESSION_MEASURES:
        m = SESSION_MEASURES[v]
        return m["sd"] * math.sqrt(m["icc"])
    return CLIENT_MEASURES[v]["sd"]


def _var_therapist(v: str) -> float:
    m = SESSION_MEASURES.get(v) or CLIENT_MEASURES[v]
    return m["therapist"] * m["sd"] ** 2


#: Client-level outcomes that therapist_icc applies to (ECR and IIP-pre are
#: measured before therapy, so therapists cannot shape them).
_THERAPIST_OUTCOMES = ("cats_secure", "cats_avoid", "cats_preoc", "tds_ge", "tds_ga",
                       "iip_post")


#: Pretreatment attachment scores that therapist_icc_ecr applies to.
_ECR = ("ecr_anx", "ecr_avoid")


def _between_model(eff: dict, therapist_icc: float | None = None,
                   therapist_icc_ecr: float = 0.0) -> dict:
    """Raw-unit recursive model of the between-client variables (order _ORDER)."""
    k = len(_ORDER)
    idx = {v: i for i, v in enumerate(_ORDER)}
    Bs = np.zeros((k, k))
    for out, preds in _PATHS.items():
        for pred, key in preds.items():
            Bs[idx[out], idx[pred]] = eff[key]
    # Standardized disturbance covariance: each variable gets variance 1.
    Ps = np.zeros((k, k))
    Ps[0, 0] = Ps[1, 1] = 1.0
    Ps[0, 1] = Ps[1, 0] = eff["r_ecr"]
    for i in range(2, k):
        inv = np.linalg.inv(np.eye(k) - Bs)
        sigma = inv @ Ps @ inv.T
        explained = float(Bs[i] @ sigma @ Bs[i])
        Ps[i, i] = 1.0 - explained
        if Ps[i, i] <= 0:
            raise DataError(f"The effects explain all the variance of '{_ORDER[i]}' "
                            f"(R^2 = {explained:.3f}); use smaller standardized effects.")
        for (v1, v2), key in _RESID_R.items():  # once both variances are known
            p, q = idx[v1], idx[v2]
            if max(p, q) == i:
                Ps[p, q] = Ps[q, p] = eff[key] * math.sqrt(Ps[p, p] * Ps[q, q])
    sub = Ps[np.ix_([idx[v] for v in _CATS], [idx[v] for v in _CATS])]
    if np.linalg.eigvalsh(sub).min() <= 0:
        raise DataError("The residual correlations of the CATS client means "
                        "(r_secure_avoid, r_secure_preoc, r_avoid_preoc) are not a valid "
                        "correlation matrix.")
    D = np.array([_sd_between(v) for v in _ORDER])
    B = Bs * D[:, None] / D[None, :]
    P = Ps * np.outer(D, D)
    var_t = np.array([_var_therapist(v) for v in _ORDER])
    psi_t = np.diag(var_t)
    if therapist_icc is not None:
        # the therapist part of the outcomes' disturbances is a share of their
        # whole covariance (correlated as the client parts are), so both parts
        # stay positive definite whatever the share
        out = np.array([v in _THERAPIST_OUTCOMES for v in _ORDER])
        psi_t = therapist_icc * P * np.outer(out, out)
    if therapist_icc_ecr:
        # the same for ECR's own covariance (anx with avoid); ECR's
        # disturbances are uncorrelated with the outcomes', so the therapist
        # and client parts of the whole stay uncorrelated across the blocks
        # and the total disturbance covariance (hence the paths) is still P
        ecr = np.array([v in _ECR for v in _ORDER])
        psi_t = psi_t.copy()
        psi_t[np.ix_(ecr, ecr)] = therapist_icc_ecr * P[np.ix_(ecr, ecr)]
    var_t = np.diag(psi_t).copy()
    psi_client = P - psi_t
    bad = np.flatnonzero(np.diag(psi_client) <= 0)
    if len(bad):
        raise DataError(f"The therapist variance of '{_ORDER[bad[0]]}' exceeds its "
                        f"residual variance; use smaller effects or therapist shares.")
    mean = np.array([(SESSION_MEASURES.get(v) or CLIENT_MEASURES[v])["mean"] for v in _ORDER])
    inv = np.linalg.inv(np.eye(k) - B)
    return {"B": B, "B_std": Bs, "psi": P, "psi_client": psi_client, "var_therapist": var_t,
            "sigma": inv @ P @ inv.T, "sigma_therapist": inv @ psi_t @ inv.T,
            "psi_therapist": psi_t,
            "mean": mean, "sd_between": D}


def _chol(cov: np.ndarray) -> np.ndarray:
    """Cholesky factor that tolerates exact zeros on the diagonal."""
    keep = np.diag(cov) > 0
    L = np.zeros_like(cov)
    L[np.ix_(keep, keep)] = np.linalg.cholesky(cov[np.ix_(keep, keep)])
    return L


def _within_sd(v: str) -> float:
    m = SESSION_MEASURES[v]
    return m["sd"] * math.sqrt(1 - m["icc"])


def _within_deviations(rng, eff, n, S) -> dict:
    """Session deviations w (n x S per measure)."""
    R = np.eye(3)
    for (v1, v2), key in _WITHIN_R.items():
        i, j = _CATS.index(v1), _CATS.index(v2)
        R[i, j] = R[j, i] = eff[key]
    if np.linalg.eigvalsh(R).min() <= 0:
        raise DataError("The within-client CATS correlations (rw_*) are not a valid "
                        "correlation matrix.")
    L = np.linalg.cholesky(R)
    zc = rng.standard_normal((n, S, 3)) @ L.T
    w = {v: zc[:, :, i] * _within_sd(v) for i, v in enumerate(_CATS)}
    zsec = zc[:, :, 0]
    for v, key in (("tds_ge", "b_within"), ("tds_ga", "ga_within")):
        beta = eff[key]
        w[v] = (beta * zsec + math.sqrt(1 - beta ** 2) * rng.standard_normal((n, S))) \
            * _within_sd(v)
    return w


# --------------------------------------------------------------------------- truth

def _population_ols(sigma, names, y: dict, xs: list) -> dict:
    """Population OLS coefficients of sum(w*var for var, w in y) on the variables xs."""
    idx = {v: i for i, v in enumerate(names)}
    wy = np.zeros(len(names))
    for v, wt in y.items():
        wy[idx[v]] = wt
    X = [idx[v] for v in xs]
    sxx = sigma[np.ix_(X, X)]
    sxy = sigma[X] @ wy
    return dict(zip(xs, np.linalg.solve(sxx, sxy).tolist()))


def _truth(model, eff, sessions, clipped) -> dict:
    B, sigma, names = model["B"], model["sigma"], _ORDER
    idx = {v: i for i, v in enumerate(names)}

    def path(out, pred):
        return float(B[idx[out], idx[pred]])

    a, b, c = path("cats_secure", "ecr_anx"), path("tds_ge", "cats_secure"), \
        path("iip_post", "tds_ge")
    paths = {out: {pred: path(out, pred) for pred in preds} for out, preds in _PATHS.items()}
    paths_std = {out: {pred: eff[key] for pred, key in preds.items()}
                 for out, preds in _PATHS.items()}

    beta_pm = sigma[idx["cats_secure"], idx["cats_preoc"]] / sigma[idx["cats_preoc"], idx["cats_preoc"]]
    beta_af = sigma[idx["cats_secure"], idx["cats_avoid"]] / sigma[idx["cats_avoid"], idx["cats_avoid"]]
    esat_anx = {"cats_secure": 1.0, "cats_preoc": -beta_pm}
    esat_avoid = {"cats_secure": 1.0, "cats_avoid": -beta_af}
    ext_names = names + ["esat_anx", "esat_avoid"]
    W = np.zeros((len(ext_names), len(names)))
    W[: len(names), :] = np.eye(len(names))
    for r, combo in ((len(names), esat_anx), (len(names) + 1, esat_avoid)):
        for v, wt in combo.items():
            W[r, idx[v]] = wt
    ext = W @ sigma @ W.T
    implied = {}
    for y, xs in (("cats_secure", ["ecr_anx"]), ("cats_secure", ["ecr_anx", "ecr_avoid"]),
                  ("esat_anx", ["ecr_anx"]), ("esat_avoid", ["ecr_avoid"]),
                  ("tds_ge", ["esat_anx"]), ("tds_ga", ["esat_avoid"]),
                  ("tds_ga", ["cats_secure", "cats_avoid"]),
                  ("iip_post", ["tds_ge", "iip_pre"]), ("iip_post", ["tds_ge"]),
                  ("iip_post", ["ecr_anx", "iip_pre"])):
        implied[f"{y} ~ {' + '.join(xs)}"] = _population_ols(ext, ext_names, {y: 1.0}, xs)

    sd = np.sqrt(np.diag(sigma))
    between = {v: {"mean_at_session_1": float(model["mean"][idx[v]]),
                   "variance": float(sigma[idx[v], idx[v]]),
                   "therapist_variance": float(model["var_therapist"][idx[v]])}
               for v in names}
    icc = {}
    for v, m in SESSION_MEASURES.items():
        icc[v] = {"client": m["icc"], "therapist": m["therapist"],
                  "within_variance": _within_sd(v) ** 2, "growth_per_session": m["growth"]}
    icc["iip_post"] = {"therapist": CLIENT_MEASURES["iip_post"]["therapist"]}

    manifest = _manifest_approx(model, eff, sessions, a, b, c)
    std = {"a": eff["a"], "b": eff["b"], "c": eff["c"],
           "indirect_abc": eff["a"] * eff["b"] * eff["c"]}
    return {
        "definition": (
            "a, b, c and indirect_abc = a*b*c are population between-client regression "
            "coefficients in raw units, marginal over therapists: a = ecr_anx -> latent "
            "client mean of cats_secure; b = latent cats_secure mean -> latent tds_ge mean; "
            "c = latent tds_ge mean -> iip_post controlling for iip_pre. The latent client "
            "mean of a session measure is the client's expected score at session 1 (growth "
            "is common to all clients, so slopes do not depend on the reference session). "
            "'standardized' uses the between-client SDs. Regressions on observed client "
            "means are attenuated; see manifest_approx. Clipping to the scales is ignored."),
        "a": a, "b": b, "c": c, "indirect_abc": a * b * c,
        "standardized": std,
        "paths": paths, "paths_standardized": paths_std,
        "within": {"tds_ge": {"cats_secure": eff["b_within"] * _within_sd("tds_ge")
                              / _within_sd("cats_secure")},
                   "tds_ga": {"cats_secure": eff["ga_within"] * _within_sd("tds_ga")
                              / _within_sd("cats_secure")}},
        "implied": implied,
        "esat": {"cats_preoc_slope": float(beta_pm), "cats_avoid_slope": float(beta_af),
                 "note": "population slopes of the latent cats_secure mean on the latent "
                         "cats_preoc / cats_avoid means (esat_anx / esat_avoid residuals)"},
        "between": between,
        "between_sd": dict(zip(names, sd.tolist())),
        "icc": icc,
        "manifest_approx": manifest,
        "clipped_share": clipped,
        "levels": _levels(model),
    }


def _levels(model) -> dict:
    """Variances of the latent client means split into therapist and client
    parts (therapist intercepts carried down the paths), the therapist ICC
    of each (therapist share of the between-client variance), and the
    within-client (session) variances."""
    sig, sig_t = model["sigma"], model["sigma_therapist"]
    out = {"definition": (
        "between-client variance of each latent client mean (marginal over "
        "therapists) = therapist part + client part; therapist_icc = therapist "
        "part / between-client variance; within: session deviations' variance "
        "around the client mean"),
        "therapist": {}, "client": {}, "within": {}}
    for i, v in enumerate(_ORDER):
        total, t = float(sig[i, i]), float(sig_t[i, i])
        out["therapist"][v] = {"variance": t, "therapist_icc": t / total if total > 0 else 0.0}
        out["client"][v] = {"variance": total - t}
    for v in SESSION_MEASURES:
        out["within"][v] = {"variance": _within_sd(v) ** 2}
    return out


def _manifest_approx(model, eff, sessions, a, b, c) -> dict:
    """First-order expected coefficients when observed client means replace latent ones.

    Uses this data set's rows per client (n_j) and mean session number; the
    observed mean of v is eta_v + growth_v * (mean session - 1) + mean of the
    within deviations, whose variance is sigma_w^2 / n_j.  Ignores clipping,
    item-level missingness and the selectivity of MAR dropout.
    """
    g = sessions.groupby("client", sort=False)
    n = g.size().to_numpy(dtype=float)
    sbar = g["session"].mean().to_numpy(dtype=float)
    inv_n = float(np.mean(1.0 / n))
    var_s = float(np.var(sbar))
    sigma = model["sigma"]
    idx = {v: i for i, v in enumerate(_ORDER)}
    gr = {v: SESSION_MEASURES[v]["growth"] for v in SESSION_MEASURES}
    sw2 = {v: _within_sd(v) ** 2 for v in SESSION_MEASURES}
    err = {v: sw2[v] * inv_n + gr[v] ** 2 * var_s for v in SESSION_MEASURES}
    vcs, vge = sigma[idx["cats_secure"], idx["cats_secure"]], sigma[idx["tds_ge"], idx["tds_ge"]]
    bw = eff["b_within"] * _within_sd("tds_ge") / _within_sd("cats_secure")
    b_m = (b * vcs + bw * sw2["cats_secure"] * inv_n + gr["cats_secure"] * gr["tds_ge"] * var_s) \
        / (vcs + err["cats_secure"])
    cov_ge_pre = sigma[idx["tds_ge"], idx["iip_pre"]]
    vpre = sigma[idx["iip_pre"], idx["iip_pre"]]
    vres = vge - cov_ge_pre ** 2 / vpre
    lam = vres / (vres + err["tds_ge"])
    c_m = c * lam
    return {
        "a": a, "b": float(b_m), "c": float(c_m), "indirect_abc": float(a * b_m * c_m),
        "reliability": {v: float(sigma[idx[v], idx[v]] / (sigma[idx[v], idx[v]] + err[v]))
                        for v in SESSION_MEASURES},
        "note": ("approximate expected OLS coefficients of cats_secure_mean ~ ecr_anx, "
                 "tds_ge_mean ~ cats_secure_mean and iip_post ~ tds_ge_mean + iip_pre on "
                 "observed client means (this data set's session counts; ignores clipping, "
                 "item missingness and MAR dropout); b includes the leak of the within "
                 "effect into means of few sessions."),
    }


def _clean(obj):
    """JSON-ready copy: numpy scalars to Python, floats rounded to 10 decimals."""
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float):
        return round(obj, 10) + 0.0
    return obj


# --------------------------------------------------------------------------- files

def write_simulation(sim: Simulation, out_dir, *, decimals: int | None = None,
                     names=("sessions.csv", "truth.json")) -> tuple[Path, Path]:
    """Write sim.sessions as CSV and truth (with params) as JSON into `out_dir`.

    The directory is created if needed; other files in it are left alone.
    Both files are written to temporary files first and then moved into
    place (os.replace), so an existing sessions.csv / truth.json is replaced
    whole or not at all.  `decimals` rounds the session data.

    Example::

        >>> write_simulation(simulate(seed=3), "sim3")
        (PosixPath('sim3/sessions.csv'), PosixPath('sim3/truth.json'))
    """
    from attachpath.data.io import write_texts_atomic
    from attachpath.errors import OutputError

    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputError(f"Cannot write the simulation to '{out_dir}': it is a file, "
                          f"not a directory.")
    out_dir.mkdir(parents=True, exist_ok=True)
    frame = sim.sessions if decimals is None else sim.sessions.round(decimals)
    csv_text = frame.to_csv(index=False, lineterminator="\n")
    truth_text = json.dumps({**sim.truth, "params": sim.params}, indent=2) + "\n"
    paths = (out_dir / names[0], out_dir / names[1])
    write_texts_atomic([(csv_text, paths[0]), (truth_text, paths[1])])
    return paths


def _regenerate_example(out_dir=None) -> tuple[Path, Path]:
    """(Re)write the bundled example: seed EXAMPLE_SEED, 4 decimals.

    Writes example_sessions.csv and example_truth.json into `out_dir`
    (default: the attachpath/datasets package directory).  Run it as
    ``python -m attachpath.simulate --regenerate-example``.
    """
    out_dir = Path(out_dir) if out_dir is not None else Path(__file__).parent / "datasets"
    sim = simulate(seed=EXAMPLE_SEED)
    return write_simulation(sim, out_dir, decimals=4,
                            names=("example_sessions.csv", "example_truth.json"))


def main(argv=None) -> int:
    """`python -m attachpath.simulate --regenerate-example [--out DIR]`."""
    parser = argparse.ArgumentParser(prog="python -m attachpath.simulate",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--regenerate-example", action="store_true",
                        help="rewrite the bundled example data set")
    parser.add_argument("--out", default=None,
                        help="directory to write into (default: the package's datasets)")
    args = parser.parse_args(argv)
    if not args.regenerate_example:
        parser.print_help()
        return 2
    paths = _regenerate_example(args.out)
    print("wrote " + " and ".join(str(p) for p in paths))
    return 0


if __name__ == "__main__":
    sys.exit(main())
