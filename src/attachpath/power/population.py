"""The population of a power study: a lavaan-syntax spec with fixed values,
its implied moments, and the analysis models fitted to data drawn from it.

Values follow lavaan's simulateData() (standardized = FALSE, its default):
every number written in the spec is the population value; what the spec
leaves unspecified is filled as simulateData fills it: variances 1 (residual
variances of outcomes, variances of exogenous variables and of factors),
factor loadings 1, everything else 0 (covariances, intercepts, means; a
regression coefficient left without a value is 0, with a warning as in
lavaan).  Exogenous observed variables are random (simulateData's fixed.x =
FALSE).  The draws are multivariate normal with the implied Σ and μ.

The default analysis is the population spec with every value freed and the
(co)variance statements among exogenous observed variables dropped, so the
analysis is what sem() would fit to the written model (covariates fixed.x).

Two-level populations (`level: 1` / `level: 2` blocks, sessions within
clients) hold the within model (Σ_W, μ_W of the session deviations) and the
between model (Σ_B, μ_B of the client parts) with the same filling rules per
block (`Levels`); a level-1 variable that is also at level 2 is the sum of
its client part and its session deviation.  Their analyses are the
two-level model ("twolevel", the population spec freed) and the client-means
model ("means": the level-2 block as a single-level spec, fitted to the
sessions averaged per client), so both strategies meet the same data.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

from ..errors import ModelError, SpecWarning
from ..partable import ParTable, build, check_identification
from ..spec import partable_of, read_spec
from ..syntax import parse

REPORTED_OPS = ("=~", "~", "~~", ":=")


@dataclass(frozen=True)
class Levels:
    """A two-level population's moments: the within (session deviation)
    variables `within` with Σ_W, μ_W and the between (client part) variables
    `between` with Σ_B, μ_B, in each block's variable order."""

    within: tuple[str, ...]
    between: tuple[str, ...]
    sigma_w: np.ndarray
    mu_w: np.ndarray
    sigma_b: np.ndarray
    mu_b: np.ndarray

    def role(self, v: str) -> str:
        """"both", "within" (level 1 only) or "between" (level 2 only)."""
        return ("both" if v in self.within and v in self.between
                else "within" if v in self.within else "between")


@dataclass(frozen=True)
class Population:
    """Population values of every row of the table and the implied moments
    (single-level: sigma and mu; two-level: `levels`, sigma and mu None)."""

    partable: ParTable
    theta: np.ndarray        # values of the table's free parameters
    values: np.ndarray       # value of every row (fixed and free)
    sigma: np.ndarray | None  # implied covariance matrix of the observed variables
    mu: np.ndarray | None     # implied means
    notes: tuple[str, ...]
    levels: Levels | None = None

    @property
    def observed(self) -> tuple[str, ...]:
        return self.partable.observed

    @property
    def multilevel(self) -> bool:
        return self.levels is not None

    def value_of(self, lhs: str, op: str, rhs: str, block: int | None = None) -> float:
        """The population value of a row (either orientation of ~~) of
        `block` (1 within, 2 between; any block when None), NaN if the
        population has no such row."""
        for k, r in enumerate(self.partable.rows):
            if block is not None and r.block != block:
                continue
            if r.op == op and ((r.lhs, r.rhs) == (lhs, rhs)
                               or (op == "~~" and (r.rhs, r.lhs) == (lhs, rhs))):
                return float(self.values[k])
        return float("nan")


def population_of(spec) -> Population:
    text, file = read_spec(spec)
    return _population(text, file)


@lru_cache(maxsize=32)
def _population(text: str, file: str | None) -> Population:
    from ..estimate.ram import ram_of
    pt = partable_of(text if file is None else file, meanstructure=True)
    values = np.array([r.value for r in pt.rows], dtype=float)
    theta = np.full(pt.npar, np.nan)
    unset_paths = []
    for k, r in enumerate(pt.rows):
        if r.op not in ("=~", "~", "~~", "~1"):
            continue
        if r.free and np.isfinite(theta[r.free - 1]):
            values[k] = theta[r.free - 1]          # a shared label: one value
            continue
        if not np.isfinite(values[k]):
            if r.op == "=~" or (r.op == "~~" and r.lhs == r.rhs):
                values[k] = 1.0
            else:
                values[k] = 0.0
                if r.op == "~":
                    unset_paths.append(f"{r.lhs} ~ {r.rhs}")
        if r.free:
            theta[r.free - 1] = values[k]
    notes = []
    if unset_paths:
        notes.append(f"The population gives no value to {len(unset_paths)} regression "
                     f"coefficient(s) ({', '.join(unset_paths[:5])}"
                     f"{', ...' if len(unset_paths) > 5 else ''}); they are set to 0, as "
                     f"lavaan's simulateData does.")
        warnings.warn(notes[-1], SpecWarning, stacklevel=3)
    theta.setflags(write=False)
    values.setflags(write=False)
    if pt.multilevel:
        moments = []
        for b, what in ((1, "within (level 1)"), (2, "between (level 2)")):
            rows = np.array([k for k, r in enumerate(pt.rows) if r.block == b], dtype=int)
            sigma, mu, *_ = ram_of(pt.block(b)).implied(theta, values[rows])
            moments += [_positive_definite(sigma, f"{what} "), mu]
        s1, m1, s2, m2 = moments
        levels = Levels(pt.blocks[0].observed, pt.blocks[1].observed, s1, m1, s2, m2)
        return Population(pt, theta, values, None, None, tuple(notes), levels)
    sigma, mu, *_ = ram_of(pt).implied(theta, values)
    return Population(pt, theta, values, _positive_definite(sigma, ""), mu, tuple(notes))


def _positive_definite(sigma: np.ndarray, what: str) -> np.ndarray:
    sigma = 0.5 * (sigma + sigma.T)
    eig = np.linalg.eigvalsh(sigma)
    if not np.all(np.isfinite(eig)) or eig.min() <= 1e-10 * max(1.0, eig.max()):
        raise ModelError(f"The population's implied {what}covariance matrix is not "
                         f"positive definite, so no data can be drawn from it; check the "
                         f"values of the variances and covariances in the population spec.")
    return sigma


def freed_spec(spec) -> str:
    """The default analysis of a population spec: lavaan syntax with every
    fixed value freed and the (co)variances among exogenous observed variables
    left to sem()'s defaults (fixed.x covariates).  := lines are kept."""
    text, file = read_spec(spec)
    return _freed(parse(text, file=file))


def _freed(stmts, keep_levels: bool = True) -> str:
    """Lavaan syntax of `stmts` with values freed and exogenous (co)variances
    dropped, per level; `level:` headers kept when keep_levels."""
    def exo_test(level):
        block = [s for s in stmts if s.level == level]
        latent = {s.lhs for s in block if s.op == "=~"}
        caused = {s.lhs for s in block if s.op == "~"} | {s.rhs for s in block if s.op == "=~"}
        return lambda v: v not in latent and v not in caused
    tests = {}
    lines, current = [], ""
    for s in stmts:
        if s.op == ":=":
            lines.append(f"{s.lhs} := {s.rhs}")
            continue
        if s.op in ("==", "<", ">"):
            lines.append(f"{s.lhs} {s.op} {s.rhs}")
            continue
        exo = tests.setdefault(s.level, exo_test(s.level))
        if s.op == "~~" and exo(s.lhs) and exo(s.rhs):
            continue
        if s.op == "~1":
            continue
        if keep_levels and s.level != current:
            lines.append(f"level: {s.level}")
            current = s.level
        lab = f"{s.label}*" if s.label else ""
        lines.append(f"{s.lhs} {s.op} {lab}{s.rhs}")
    return "\n".join(lines) + "\n"


def means_spec(spec) -> str:
    """The client-means analysis of a two-level population: its between
    (second `level:`) block as a single-level spec, values freed, with the
    := lines that use only that block's labels (a contextual effect b − w
    has no meaning in client means)."""
    import re
    text, file = read_spec(spec)
    stmts = parse(text, file=file)
    levels = list(dict.fromkeys(s.level for s in stmts if s.level))
    if len(levels) != 2:
        raise ModelError("The client-means analysis needs a two-level population spec "
                         "('level: 1' and 'level: 2' blocks).")
    inner = {s.label for s in stmts if s.level == levels[0] and s.label}
    kept, dropped = [], set(inner)
    for s in stmts:
        if s.op == ":=":
            used = set(re.findall(r"[A-Za-z_.][A-Za-z0-9_.]*", s.rhs))
            if used & dropped:
                dropped.add(s.lhs)
                continue
            kept.append(s)
        elif s.op in ("==", "<", ">"):
            if not (set(re.findall(r"[A-Za-z_.][A-Za-z0-9_.]*", f"{s.lhs} {s.rhs}"))
                    & dropped):
                kept.append(s)
        elif s.level == levels[1]:
            kept.append(s)
    return _freed(kept, keep_levels=False)


@dataclass(frozen=True)
class Analysis:
    """One analysis model fitted to every simulated data set.

    kind "single": single-level ML on the client rows (cluster-robust SEs
    when the design has therapists); on session data (a two-level
    population) the client rows are the sessions averaged per client.
    kind "twolevel": two-level ML on the session rows, clients as level-2
    units (replicate.fit_twolevel), therapist-robust SEs."""

    name: str
    text: str
    kind: str = "single"


def analysis_partable(analysis: Analysis) -> ParTable:
    # the mean structure is on whenever data are clustered (as lavaan's
    # cluster=); intercepts are not reported, so always keeping it is harmless
    return _analysis_pt(analysis.text)


@lru_cache(maxsize=32)
def _analysis_pt(text: str) -> ParTable:
    pt = build(parse(text), meanstructure=True, text=text)
    if not pt.multilevel:
        check_identification(pt)
    return pt


def kind_of(text: str) -> str:
    """"twolevel" for a spec with `level:` blocks, else "single"."""
    return "twolevel" if _analysis_pt(text).multilevel else "single"


def reported_rows(pt: ParTable) -> tuple[int, ...]:
    """Table positions of the rows a power study reports: free =~, ~, ~~ rows
    and := rows (intercepts and fixed rows are not tested)."""
    return tuple(k for k, r in enumerate(pt.rows)
                 if r.op == ":=" or (r.op in REPORTED_OPS and r.free))


def true_values(pop: Population, pt: ParTable) -> tuple[np.ndarray, np.ndarray]:
    """(θ of the analysis at the population values, value of each reported
    row).  A path, loading or covariance the population does not have is 0;
    a variance it does not have (of a variable exogenous in the population
    but explained in the analysis) is NaN, and so are its bias and coverage.
    := rows are the analysis' own expressions evaluated at that θ."""
    from ..effects import Defined
    theta = np.full(pt.npar, np.nan)
    for r in pt.rows:
        if r.free and r.op in ("=~", "~", "~~", "~1"):
            # two-level populations: a two-level analysis row has the value
            # of its own level; a client-means row that of the between level
            block = None if not pop.multilevel else (r.block if pt.multilevel else 2)
            value = pop.value_of(r.lhs, r.op, r.rhs, block)
            if np.isnan(value) and (r.op in ("=~", "~") or (r.op == "~~" and r.lhs != r.rhs)):
                # a path or covariance the population does not have is 0 there
                # (an analysis that adds a direct effect tests a zero effect)
                value = 0.0
            theta[r.free - 1] = value
    defined = Defined.from_partable(pt)
    dvals = defined.evaluate(theta) if len(defined) else np.zeros(0)
    out = []
    d = 0
    for k in reported_rows(pt):
        r = pt.rows[k]
        if r.op == ":=":
            out.append(dvals[defined.names.index(r.lhs)])
        else:
            out.append(theta[r.free - 1])
    return theta, np.array(out, dtype=float)
