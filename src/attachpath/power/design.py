"""Study designs: how many cases a simulated data set has and how they nest.

* SimpleDesign(n): n independent clients.
* ClusteredDesign(therapists, clients_per_therapist, icc): clients nested in
  therapists with a therapist random intercept on every variable.  The total
  covariance stays the population Σ: a therapist effect with covariance
  icc·Σ plus a client deviation with covariance (1 − icc)·Σ, so every
  variable has intraclass correlation `icc` and the client-level model holds
  for the total (marginal) covariance, which is what a client-level analysis
  with therapist-robust SEs estimates.  A mean caseload that is not a whole
  number (330 clients of 44 therapists: 7.5) is spread as evenly as possible
  (sizes differ by at most one).

* SessionDesign(therapists, clients_per_therapist, sessions, ...): session
  rows within clients within therapists, drawn from a two-level population
  (population.Levels): each client's part ~ N(μ_B, Σ_B), split into a
  therapist part (share `icc`) and a client part as above, plus a session
  deviation ~ N(μ_W, Σ_W) per session row.  Caseloads and session counts
  follow the study simulator (attachpath.simulate.caseloads and
  session_pattern): skewed gamma(caseload_shape) caseloads with at least two
  clients each (caseload_shape 0: even caseloads), sessions between the
  minimum and the maximum with a per-session dropout hazard and skipped
  intermediate sessions (MCAR here).  Caseloads and sessions are drawn anew
  for every replicate, from the replicate's own stream.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SimpleDesign:
    n: int
    kind: str = "simple"

    @property
    def size(self) -> int:
        return self.n

    def columns(self) -> dict:
        return {"n": self.n, "therapists": None, "clients_per_therapist": None, "icc": None}

    def label(self) -> str:
        return f"n = {self.n}"

    def draw(self, rng: np.random.Generator, chol: np.ndarray, mu: np.ndarray):
        Z = rng.standard_normal((self.n, len(mu)))
        return mu + Z @ chol.T, None


class _Caseloads:
    """Clients counted from therapists × clients per therapist (the design
    size the power curves are drawn against)."""

    @property
    def n(self) -> int:
        return int(round(self.therapists * self.clients_per_therapist))

    @property
    def size(self) -> int:
        return self.n


@dataclass(frozen=True)
class ClusteredDesign(_Caseloads):
    therapists: int
    clients_per_therapist: float
    icc: float = 0.1
    kind: str = "clustered"


    def columns(self) -> dict:
        return {"n": self.n, "therapists": self.therapists,
                "clients_per_therapist": self.clients_per_therapist, "icc": self.icc}

    def label(self) -> str:
        return f"{self.therapists} therapists × {self.clients_per_therapist:g} clients"

    def cluster_sizes(self) -> np.ndarray:
        g, n = self.therapists, self.n
        return np.array([n // g + (1 if t < n % g else 0) for t in range(g)], dtype=int)

    def clusters(self) -> np.ndarray:
        return np.repeat(np.arange(self.therapists), self.cluster_sizes())

    def draw(self, rng: np.random.Generator, chol: np.ndarray, mu: np.ndarray):
        p = len(mu)
        U = rng.standard_normal((self.therapists, p)) @ (np.sqrt(self.icc) * chol).T
        E = rng.standard_normal((self.n, p)) @ (np.sqrt(1.0 - self.icc) * chol).T
        cl = self.clusters()
        return mu + U[cl] + E, cl


@dataclass(frozen=True)
class SessionDraw:
    """One simulated session data set: rows (N x variables, the population's
    observed order), the client of each row (0..n−1, rows sorted by client)
    and the therapist of each client."""

    X: np.ndarray
    client: np.ndarray
    therapist: np.ndarray


@dataclass(frozen=True)
class SessionDesign(_Caseloads):
    therapists: int
    clients_per_therapist: float
    min_sessions: int
    max_sessions: int
    icc: float = 0.1
    dropout: float = 0.15
    skip: float = 0.08
    caseload_shape: float = 1.0
    kind: str = "sessions"


    @property
    def sessions(self) -> str:
        lo, hi = self.min_sessions, self.max_sessions
        return f"{lo}" if lo == hi else f"{lo}-{hi}"

    def columns(self) -> dict:
        return {"n": self.n, "therapists": self.therapists,
                "clients_per_therapist": self.clients_per_therapist, "icc": self.icc,
                "sessions": self.sessions, "dropout": self.dropout, "skip": self.skip,
                "caseload_shape": self.caseload_shape}

    def label(self) -> str:
        return (f"{self.therapists} therapists × {self.clients_per_therapist:g} clients × "
                f"{self.sessions.replace('-', '–')} sessions")

    def caseloads(self, rng: np.random.Generator) -> np.ndarray:
        from ..simulate import caseloads
        if self.caseload_shape == 0:
            return ClusteredDesign(self.therapists, self.clients_per_therapist).cluster_sizes()
        return caseloads(rng, self.therapists, self.n, self.caseload_shape)

    def draw(self, rng: np.random.Generator, levels, chol_w: np.ndarray,
             chol_b: np.ndarray, names: tuple[str, ...]) -> SessionDraw:
        """Rows of `names` from the two-level population `levels` (chol_w,
        chol_b: Cholesky factors of its Σ_W and Σ_B)."""
        from ..simulate import session_pattern
        therapist = np.repeat(np.arange(self.therapists), self.caseloads(rng))
        n, qb, qw = self.n, len(levels.between), len(levels.within)
        U = rng.standard_normal((self.therapists, qb)) @ (np.sqrt(self.icc) * chol_b).T
        E = rng.standard_normal((n, qb)) @ (np.sqrt(1.0 - self.icc) * chol_b).T
        B = levels.mu_b + U[therapist] + E                      # clients x between
        S = self.max_sessions
        present = session_pattern(rng, np.full((n, S), self.dropout if S > self.min_sessions
                                               else 0.0), self.min_sessions, self.skip)[1]
        client, _ = np.nonzero(present)                          # rows sorted by client
        W = levels.mu_w + rng.standard_normal((len(client), qw)) @ chol_w.T
        X = np.zeros((len(client), len(names)))
        for k, v in enumerate(names):
            if v in levels.between:
                X[:, k] += B[client, levels.between.index(v)]
            if v in levels.within:
                X[:, k] += W[:, levels.within.index(v)]
        return SessionDraw(X, client, therapist)
