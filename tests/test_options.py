"""One rule for the default SEs, used by the API and every command (issue 18, item 10)."""

from __future__ import annotations

import warnings

import pytest

import attachpath as ap
from attachpath.cli import build_parser
from attachpath.cli.options import fit_options
from attachpath.options import FitOptions, default_se

SPEC = "tds_ge ~ cats_secure + ecr_anx\n"


def test_default_se_rule():
    assert default_se(None, "therapist") == "robust"
    assert default_se(None, None) == "standard"
    assert default_se("bootstrap", "therapist") == "bootstrap"


@pytest.mark.parametrize("cluster, kind", [("therapist", "robust.cluster"), (None, "standard")])
def test_api_default_is_the_cli_default(cluster, kind, tmp_path):
    clients = ap.datasets.load_example_clients()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = ap.fit(SPEC, clients, cluster=cluster)
    assert res.se_kind == kind
    argv = ["fit", "m.lav", "--data", "d.csv"] + (["--cluster", cluster] if cluster else [])
    opts = fit_options(build_parser().parse_args(argv))
    assert opts.kwargs()["se"] == default_se(None, cluster)
    for command in (["compare", "a.lav", "b.lav", "--out", "o"], ["diagram", "m.lav", "--out", "o.svg"]):
        args = build_parser().parse_args(command + ["--data", "d.csv"]
                                         + (["--cluster", cluster] if cluster else []))
        assert fit_options(args).kwargs()["se"] == default_se(None, cluster)


def test_fit_options_from_the_command_line():
    args = build_parser().parse_args(["fit", "m.lav", "--data", "d.csv", "--cluster", "t",
                                      "--mc", "100", "--seed", "3", "--level", "0.9",
                                      "--labels", "names", "--quiet"])
    assert fit_options(args) == FitOptions(cluster="t", mc_draws=100, seed=3, level=0.9,
                                           labels="names", progress=False)


def test_bad_labels_value_is_an_option_error():
    from attachpath.errors import OptionError
    with pytest.raises(OptionError, match="'data'.*'names'"):
        ap.fit(SPEC, ap.datasets.load_example_clients(), labels="both")
