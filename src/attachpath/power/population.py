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
class Population:
    """Population values of every row of the table and the implied moments."""

    partable: ParTable
    theta: np.ndarray        # values of the table's free parameters
    values: np.ndarray       # value of every row (fixed and free)
    sigma: np.ndarray        # implied covariance matrix of the observed variables
    mu: np.ndarray           # implied means
    notes: tuple[str, ...]

    @property
    def observed(self) -> tuple[str, ...]:
        return self.partable.observed

    def value_of(self, lhs: str, op: str, rhs: str) -> float:
        """The population value of a row (either orientation of ~~), NaN if the
        population has no such row."""
        for k, r in enumerate(self.partable.rows):
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
    ram = ram_of(pt)
    sigma, mu, *_ = ram.implied(theta, values)
    sigma = 0.5 * (sigma + sigma.T)
    eig = np.linalg.eigvalsh(sigma)
    if not np.all(np.isfinite(eig)) or eig.min() <= 1e-10 * max(1.0, eig.max()):
        raise ModelError("The population's implied covariance matrix is not positive "
                         "definite, so no data can be drawn from it; check the values "
                         "of the variances and covariances in the population spec.")
    theta.setflags(write=False)
    values.setflags(write=False)
    return Population(pt, theta, values, sigma, mu, tuple(notes))


def freed_spec(spec) -> str:
    """The default analysis of a population spec: lavaan syntax with every
    fixed value freed and the (co)variances among exogenous observed variables
    left to sem()'s defaults (fixed.x covariates).  := lines are kept."""
    text, file = read_spec(spec)
    stmts = parse(text, file=file)
    latent = {s.lhs for s in stmts if s.op == "=~"}
    caused = {s.lhs for s in stmts if s.op == "~"} | {s.rhs for s in stmts if s.op == "=~"}
    lines = []
    for s in stmts:
        if s.op == ":=":
            lines.append(f"{s.lhs} := {s.rhs}")
            continue
        if s.op in ("==", "<", ">"):
            lines.append(f"{s.lhs} {s.op} {s.rhs}")
            continue
        exo = lambda v: v not in latent and v not in caused   # noqa: E731
        if s.op == "~~" and exo(s.lhs) and exo(s.rhs):
            continue
        if s.op == "~1":
            continue
        lab = f"{s.label}*" if s.label else ""
        lines.append(f"{s.lhs} {s.op} {lab}{s.rhs}")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Analysis:
    """One analysis model fitted to every simulated data set.

    kind "single": single-level ML on the client rows (cluster-robust SEs
    when the design has therapists).  A "twolevel" kind will plug in here
    with its own fitting function in replicate.py."""

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
    check_identification(pt)
    return pt


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
            value = pop.value_of(r.lhs, r.op, r.rhs)
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
