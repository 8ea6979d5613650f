"""Modification indices and expected parameter changes, as lavaan's
modificationIndices().

For every parameter the model fixes (at zero, by leaving it out, or at a
value, like a marker loading) the score test asks how much the chi-square
would drop if that one parameter were freed, all others re-estimated.  At
θ̂ the extended model (θ̂, candidate at its fixed value) has gradient g of
F_ML, non-zero only for the candidates, and unit expected information I
(Saris, Satorra & Sörbom, 1987).  With the per-case log-likelihood score
s = −g/2 and V = I₁₁ − I₁₂ I₂₂⁻¹ I₂₁ (the information of a candidate net of
the free parameters; only its diagonal is needed):

    MI  = N · s² / V          (a 1-df chi-square)
    EPC = s / V               (the one-step Newton change of the candidate)

and sepc.lv / sepc.all / sepc.nox are the EPC standardized as std.lv /
std.all / std.nox standardize an estimate (variances and covariances from
the fitted model).  Candidates with V below ε^(1/3) cannot be freed on
their own (e.g. a marker loading while the factor variance is free) and
are left out, as lavaan does.

The candidates are lavaan's (lav_partable_full): loadings of every factor
on every observed non-covariate not in a regression, covariances among
indicators, covariances among latent variables, regressions among all
variables in regressions (not indicators on factors), intercepts with a
mean structure, and every fixed row of the model.  Pairs of fixed.x
covariates are left out: their moments are the sample's, so their MI is 0
(lavaan lists them with mi = 0).

Adding paths because their MI is large changes what the tests of the model
mean (the model is no longer tested on data that did not suggest it); see
CAUTION.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from .estimate import ml
from .estimate.ram import ram_of
from .partable import NAN, Param, ParTable

COLUMNS = ["lhs", "op", "rhs", "mi", "epc", "sepc.lv", "sepc.all", "sepc.nox"]
MODEL_OPS = ("~", "=~", "~~", "~1")

CAUTION = ("Modification indices are post hoc: a path added because its index is "
           "large was suggested by these data, so the chi-square test, p values and "
           "confidence intervals of the modified model no longer mean what they "
           "claim; treat such a model as exploratory and confirm it on new data.")


def _unique(items) -> list[str]:
    return list(dict.fromkeys(items))


def _lower_pairs(names) -> list[tuple[str, str]]:
    """(a, b) for a at or before b in `names` (lavaan's lower triangle)."""
    return [(a, b) for j, a in enumerate(names) for b in names[j:]]


def candidate_rows(pt: ParTable) -> list[tuple[str, str, str]]:
    """lavaan's candidate parameters not in the table (lhs, op, rhs)."""
    x = set(pt.covariates)
    lat = list(pt.latent)
    ov_nox = [v for v in pt.observed if v not in x]
    ov_ind = {r.rhs for r in pt.rows if r.op == "=~" and r.rhs not in set(lat)}
    eqs = _unique([r.lhs for r in pt.rows if r.op == "~"]
                  + [r.rhs for r in pt.rows if r.op == "~"])
    out: list[tuple[str, str, str]] = []
    out += [(f, "=~", v) for f in lat for v in ov_nox if v not in eqs]
    out += [(a, "~~", b) for a, b in _lower_pairs(ov_nox) if a in ov_ind and b in ov_ind]
    out += [(a, "~~", b) for a, b in _lower_pairs(lat)]
    out += [(y, "~", v) for y in eqs for v in eqs
            if y != v and not (y in ov_ind and v in lat)]
    if pt.meanstructure:
        out += [(v, "~1", "") for v in list(pt.observed) + lat]
    return out


def extended_table(pt: ParTable) -> tuple[ParTable, list[int]]:
    """The table with every candidate free: the model's fixed rows freed
    (new parameters after the model's) and lavaan's other candidates
    appended.  Returns the table and the row positions of the candidates."""
    x = set(pt.covariates)

    def key(lhs, op, rhs):
        return (op, frozenset((lhs, rhs))) if op == "~~" else (op, lhs, rhs)

    def skipped(lhs, op, rhs):
        # fixed.x covariate moments (and regressions among covariates): MI 0
        return (lhs in x and (rhs in x or op == "~1"))

    k = pt.npar
    rows: list[Param] = []
    cand: list[int] = []
    present = set()
    for r in pt.rows:
        present.add(key(r.lhs, r.op, r.rhs))
        if r.op in MODEL_OPS and not r.free and not r.exo and not skipped(r.lhs, r.op, r.rhs):
            k += 1
            cand.append(len(rows))
            rows.append(replace(r, free=k, label=""))
        else:
            rows.append(r)
    for lhs, op, rhs in candidate_rows(pt):
        if key(lhs, op, rhs) in present or skipped(lhs, op, rhs):
            continue
        present.add(key(lhs, op, rhs))
        k += 1
        cand.append(len(rows))
        rows.append(Param(id=len(rows) + 1, lhs=lhs, op=op, rhs=rhs, free=k,
                          value=0.0, user=10))
    return replace(pt, rows=tuple(rows), text=pt.text + "\n# + modification index candidates"), cand


def _information_fixed_x(pt: ParTable, ram, theta, values) -> np.ndarray:
    """Unit expected information J'WJ of the extended model with the weight
    of the covariate-only moments (means of covariates, their variances and
    covariances) set to zero: with fixed.x those moments are the sample's,
    not data the model explains, as in lavaan's expected information.  It
    matters only for candidates that move a covariate (x ~ y); the model's
    own parameters have no derivative there."""
    sigma, *_ = ram.implied(theta, values)
    J = ram.jacobian(theta, values)
    W = ml.weight(np.linalg.inv(sigma), ram.meanstructure).copy()
    x = np.array([v in set(pt.covariates) for v in pt.observed])
    if x.any():
        from .estimate.ram import vech_indices
        li, lj = vech_indices(len(pt.observed))
        xx = x[li] & x[lj]
        drop = np.concatenate([x, xx]) if ram.meanstructure else xx
        W[drop, :] = 0.0
        W[:, drop] = 0.0
    return J.T @ W @ J


def modification_indices(pt: ParTable, theta, values, moments: ml.Moments) -> pd.DataFrame:
    """lavaan's modificationIndices(fit) columns for a model fitted by ML at
    θ̂ (`values`: the fixed value of every table row, covariates filled in),
    sorted by mi, largest first."""
    from .effects import standardized, standardized_lv_nox, row_values

    ext, cand = extended_table(pt)
    if not cand:
        return pd.DataFrame(columns=COLUMNS)
    ram = ram_of(ext)
    k0 = pt.npar
    vals = np.concatenate([np.asarray(values, dtype=float),
                           np.full(len(ext.rows) - len(pt.rows), NAN)])
    theta_ext = np.concatenate([np.asarray(theta, dtype=float), np.zeros(ext.npar - k0)])
    for i in cand:
        r = ext.rows[i]
        # a freed fixed row starts at its fixed value, a new one at 0
        theta_ext[r.free - 1] = 0.0 if r.user == 10 else pt.rows[i].value
        vals[i] = NAN
    g = ml.gradient(ram, theta_ext, moments, vals)
    info = _information_fixed_x(ext, ram, theta_ext, vals)
    model, extra = np.arange(k0), np.array([ext.rows[i].free - 1 for i in cand])
    I12 = info[np.ix_(extra, model)]
    I22 = info[np.ix_(model, model)]
    V = np.diag(info[np.ix_(extra, extra)]) - np.einsum(
        "ij,ji->i", I12, np.linalg.solve(I22, I12.T)) if k0 else np.diag(
        info[np.ix_(extra, extra)])
    V = np.where(V < np.finfo(float).eps ** (1 / 3), np.nan, V)
    score = -0.5 * g[extra]                   # per-case log-likelihood score
    mi = moments.n * score ** 2 / V
    epc = score / V

    # standardize |EPC| as an estimate of that row would be; variances use
    # their current value (lavaan's cov.std), tiny ones give 0
    est = row_values(ext, theta_ext, vals)
    is_var = np.array([ext.rows[i].op == "~~" and ext.rows[i].lhs == ext.rows[i].rhs
                       for i in cand])
    size = np.where(is_var, est[cand], np.abs(epc))
    tiny = is_var & (np.abs(size) < np.sqrt(np.finfo(float).eps))
    est[cand] = np.abs(size)
    sign = np.sign(epc)
    std_all = standardized(ext, ram, theta_ext, vals, est=est)[cand]
    std_lv, std_nox = (s[cand] for s in standardized_lv_nox(ext, ram, theta_ext, vals, est=est))
    sepc = [np.where(tiny, 0.0, sign * s) for s in (std_lv, std_all, std_nox)]

    out = pd.DataFrame({
        "lhs": [ext.rows[i].lhs for i in cand], "op": [ext.rows[i].op for i in cand],
        "rhs": [ext.rows[i].rhs for i in cand], "mi": mi, "epc": epc,
        "sepc.lv": sepc[0], "sepc.all": sepc[1], "sepc.nox": sepc[2]})
    out = out[np.isfinite(out["mi"])]
    return out.sort_values("mi", ascending=False, kind="stable").reset_index(drop=True)
