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

A two-level design (sessions within clients within therapists, with its own
between-level population) will be another class with the same interface:
`kind`, `columns()`, `size` and `draw(rng, population)` returning the
(rows x variables) data and the cluster ids.
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


@dataclass(frozen=True)
class ClusteredDesign:
    therapists: int
    clients_per_therapist: float
    icc: float = 0.1
    kind: str = "clustered"

    @property
    def n(self) -> int:
        return int(round(self.therapists * self.clients_per_therapist))

    @property
    def size(self) -> int:
        return self.n

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
