"""Results kept for the last few points of an iteration.

A scoring step asks for the value, then the gradient and the information at
one θ, and inference asks again at θ̂: whatever they share (implied moments,
Jacobians, inverses) is computed once per point.  One rule for every
likelihood: keyed by the bytes of the point's arrays, a handful of points
kept on the owner, and the arrays of a kept result read-only, because every
caller at that point shares them.
"""

from __future__ import annotations

import numpy as np


def at_point(owner, slot: str, point, compute, keep: int = 8):
    """compute() at `point` (a tuple of arrays), kept in owner.<slot>."""
    key = tuple(np.asarray(a, dtype=float).tobytes() for a in point)
    memo = owner.__dict__.setdefault(slot, {})
    if key not in memo:
        if len(memo) > keep:
            memo.clear()
        out = compute()
        _read_only(out)
        memo[key] = out
    return memo[key]


def at_theta(owner, slot: str, theta, values, compute):
    """compute(θ, values), kept in owner.<slot> for a single θ; a batch of θ
    (leading dimensions) is computed each time."""
    theta = np.asarray(theta, dtype=float)
    if theta.ndim == 1:
        return at_point(owner, slot, (theta, values), lambda: compute(theta, values))
    return compute(theta, values)


def _read_only(x) -> None:
    if isinstance(x, np.ndarray):
        x.setflags(write=False)
    elif isinstance(x, (tuple, list)):
        for item in x:
            _read_only(item)
