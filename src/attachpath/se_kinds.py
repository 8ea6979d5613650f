"""The kinds of standard errors a fit can have, as small values that describe
themselves: one registry instead of a table of names per writer.

    >>> from attachpath.se_kinds import se_kind
    >>> se_kind("robust.cluster").short
    'cluster-robust'
    >>> se_kind("robust.cluster").scaled_test
    True
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SEKind:
    name: str              # Result.se_kind, fit.json "se"
    short: str             # a few words, for tables
    sentence: str          # the summary's and report's description
    figure: str            # the figure note's words
    lavaan: str            # lavaan's "Standard errors" line
    scaled_test: bool = False    # comes with the Yuan-Bentler scaled test
    bootstrap: bool = False
    clustered: bool = False      # corrected for clusters

    def __str__(self) -> str:
        return self.sentence


KINDS = {k.name: k for k in (
    SEKind("standard", "standard", "standard (expected information)",
           "ML standard errors", "Standard"),
    SEKind("standard.observed", "standard", "standard (observed information)",
           "ML standard errors (observed information)", "Standard"),
    SEKind("robust", "robust", "robust (Huber-White sandwich, observed information)",
           "robust (Huber–White) standard errors", "Robust.huber.white", scaled_test=True),
    SEKind("robust.cluster", "cluster-robust",
           "cluster-robust (sandwich, scores summed within clusters)",
           "cluster-robust standard errors", "Robust.cluster", scaled_test=True,
           clustered=True),
    SEKind("robust.cluster.cr2", "cluster-robust (CR2)",
           "cluster-robust (sandwich, scores summed within clusters, bias-reduced CR2 meat)",
           "cluster-robust (CR2) standard errors", "Robust.cluster (CR2)", scaled_test=True,
           clustered=True),
    SEKind("bootstrap", "bootstrap", "bootstrap", "bootstrap standard errors", "Bootstrap",
           bootstrap=True),
    SEKind("bootstrap.cluster", "cluster bootstrap",
           "cluster bootstrap (clusters resampled)", "cluster-bootstrap standard errors",
           "Bootstrap (clusters)", bootstrap=True, clustered=True),
    SEKind("none", "none", "none", "no standard errors", "None"),
)}


def se_kind(name: str) -> SEKind:
    """The SEKind of a name; an unknown name lists the valid ones."""
    try:
        return KINDS[name]
    except KeyError:
        from .errors import OptionError
        raise OptionError(f"Unknown kind of standard errors {name!r}; the kinds are "
                          f"{', '.join(KINDS)}.") from None
