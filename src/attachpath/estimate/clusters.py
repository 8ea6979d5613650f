"""Cluster structure, made once from the data and carried through a fit.

A `Clusters` value numbers the clusters of a set of units (cases, or the
clients of a two-level model) and sums per-unit quantities within them.
Sums are segment sums over the units sorted once by cluster, so memory stays
linear in the units (no units x clusters matrix) whatever the number of
clusters.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np


@dataclass(frozen=True, eq=False)
class Clusters:
    """Which cluster each unit belongs to.

    name: the column that holds the ids (e.g. "therapist"); ids: the id of
    each cluster (sorted); codes: 0..G-1 per unit; sizes: units per cluster."""

    name: str
    ids: np.ndarray
    codes: np.ndarray
    sizes: np.ndarray

    @classmethod
    def from_ids(cls, name: str, unit_ids) -> "Clusters":
        ids, codes, sizes = np.unique(np.asarray(unit_ids), return_inverse=True,
                                      return_counts=True)
        return cls(name, ids, codes.astype(np.intp), sizes)

    @property
    def n(self) -> int:
        """Number of clusters."""
        return len(self.sizes)

    @property
    def n_units(self) -> int:
        return len(self.codes)

    @cached_property
    def _order(self):
        order = np.argsort(self.codes, kind="stable")
        starts = np.concatenate([[0], np.cumsum(self.sizes)[:-1]])
        return order, starts

    def sum(self, values: np.ndarray) -> np.ndarray:
        """Per-unit rows summed within clusters (G x ...)."""
        order, starts = self._order
        return np.add.reduceat(np.asarray(values)[order], starts, axis=0)

    def mean(self, values: np.ndarray) -> np.ndarray:
        values = np.asarray(values, dtype=float)
        return self.sum(values) / self.sizes.reshape((-1,) + (1,) * (values.ndim - 1))

    def members(self) -> list[np.ndarray]:
        """Unit indices of each cluster (for resampling whole clusters)."""
        order, starts = self._order
        return np.split(order, starts[1:])

    def describe(self) -> dict:
        return {"name": self.name, "n": int(self.n), **size_summary(self.sizes)}

    def notes(self, npar: int) -> list[str]:
        """What makes cluster-corrected SEs doubtful: few clusters, clusters
        of one unit, no more clusters than free parameters."""
        g, out = self.n, []
        if g < 30:
            out.append(f"Only {g} clusters in '{self.name}': cluster-robust standard errors "
                       f"and tests are unreliable with fewer than about 30 clusters.")
        single = int(np.sum(self.sizes == 1))
        if single:
            out.append(f"{single} cluster(s) of '{self.name}' hold a single case.")
        if g <= npar:
            out.append(f"The {g} clusters do not exceed the {npar} free parameters: the "
                       f"cluster-robust covariance matrix is rank deficient, so SEs and "
                       f"the scaled test are not trustworthy.")
        return out


def size_summary(counts) -> dict:
    counts = np.asarray(counts)
    return {"min": int(counts.min()), "max": int(counts.max()), "mean": float(counts.mean())}
