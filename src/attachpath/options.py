"""The options of a fit, built in one place for the API and the CLI.

The default standard errors follow one rule (`default_se`): cluster-robust
("robust" with a cluster column: the sandwich with scores summed within
therapists, and the scaled test) when a cluster column is given, else
"standard" (expected information), as lavaan's sem(cluster=) with
estimator="MLR" versus plain sem().  `ap.fit`, `ap.compare` and every
command use it; nobody else spells it out.

    >>> default_se(None, "therapist"), default_se(None, None), default_se("standard", "therapist")
    ('robust', 'standard', 'standard')
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

#: how variables are named in diagrams and reports: the data's variable
#: labels (SPSS) when it has them, or the names in the spec
LABEL_CHOICES = ("data", "names")


def default_se(se: str | None, cluster: str | None) -> str:
    """The SE kind to use when `se` is not given: robust with a cluster, else standard."""
    return se if se else ("robust" if cluster else "standard")


@dataclass(frozen=True)
class FitOptions:
    """What `ap.fit` takes besides the spec and the data (see fitting.fit)."""

    cluster: str | None = None
    se: str | None = None
    level: float = 0.95
    mc_draws: int = 0
    bootstrap: int = 1000
    boot_ci: str = "percentile"
    seed: int | None = None
    progress: bool | None = None
    labels: str = "data"
    missing: str = "listwise"
    information: str | None = None
    auxiliary: tuple[str, ...] = ()

    def kwargs(self) -> dict:
        """Keyword arguments for ap.fit, with the SE default rule applied."""
        out = asdict(self)
        out["se"] = default_se(self.se, self.cluster)
        return out


def check_labels(labels: str) -> str:
    if labels not in LABEL_CHOICES:
        from .errors import OptionError
        raise OptionError(f"labels must be 'data' (the data's variable labels, when it has "
                          f"them) or 'names' (the spec's names), not {labels!r}.")
    return labels
