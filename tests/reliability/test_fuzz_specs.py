"""Hand edits of the study's own specs (specs/*.lav), fuzzed.

tests/syntax/test_fuzz.py fuzzes the parser with random text and with
mutations of three inline samples.  Here the seeds are the spec files a
researcher actually edits, the edits are the kinds people make (typos in
names, a wrong or missing operator, a dropped '+' or '*', a deleted or
repeated line, pasted characters), and the whole path a spec takes before
fitting runs: parse, the parameter table, identification, the variables
against the bundled data and the data checks.  Every mutation must either
pass or raise an attachpath error (SpecError with file:line:column and the
offending text, ModelError, DataError): never another exception, and from
the command line never a traceback or an "internal error".
"""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attachpath import fitting
from attachpath.cli import main
from attachpath.errors import AttachpathError, SpecError
from reliability_support import SPECS

SEEDS = {p.name: p.read_text(encoding="utf-8") for p in sorted(SPECS.glob("*.lav"))}
NAMES = sorted({m for text in SEEDS.values()
                for m in re.findall(r"\b[a-z][a-z_]*\b", re.sub(r"#.*", "", text))})
OPERATORS = ["~", "=~", "~~", ":=", "==", "<", ">", "=", "->", "~>", "=~~", "<-", "|", ":"]
TYPED = list("~=*+-/^()<>:;|%!#'\",. \t\n01abNA") + ["\u00a0", "\u201c", "\u00e9", "`"]

FUZZ = settings(max_examples=250, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def test_seeds_are_the_spec_files():
    assert len(SEEDS) >= 5 and all(SEEDS.values())


def _typo(data, word):
    i = data.draw(st.integers(0, max(len(word) - 1, 0)))
    kind = data.draw(st.sampled_from(["drop", "double", "swap", "case"]))
    if kind == "drop" and len(word) > 1:
        return word[:i] + word[i + 1:]
    if kind == "double":
        return word[:i] + word[i] + word[i:]
    if kind == "swap" and i + 1 < len(word):
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    return word.upper()


def edit(data, text):
    """One to four edits of the kinds a person makes in a spec file."""
    for _ in range(data.draw(st.integers(1, 4), label="edits")):
        lines = text.split("\n")
        kind = data.draw(st.sampled_from([
            "typo-name", "operator", "drop-plus-or-star", "drop-line", "repeat-line",
            "join-lines", "split-line", "insert-char", "delete-span", "swap-lines",
            "rename-label", "strip-comment-mark"]), label="kind")
        if kind == "typo-name":
            name = data.draw(st.sampled_from(NAMES))
            if name in text:
                text = text.replace(name, _typo(data, name), 1)
        elif kind == "operator":
            spots = [m for m in re.finditer(r"=~|~~|:=|==|~|<|>", text)]
            if spots:
                m = data.draw(st.sampled_from(spots))
                text = text[:m.start()] + data.draw(st.sampled_from(OPERATORS)) + text[m.end():]
        elif kind == "drop-plus-or-star":
            spots = [m.start() for m in re.finditer(r"[+*]", text)]
            if spots:
                i = data.draw(st.sampled_from(spots))
                text = text[:i] + text[i + 1:]
        elif kind in ("drop-line", "repeat-line", "swap-lines"):
            k = data.draw(st.integers(0, len(lines) - 1))
            if kind == "drop-line":
                del lines[k]
            elif kind == "repeat-line":
                lines.insert(k, lines[k])
            else:
                m = data.draw(st.integers(0, len(lines) - 1))
                lines[k], lines[m] = lines[m], lines[k]
            text = "\n".join(lines)
        elif kind == "join-lines" and len(lines) > 1:
            k = data.draw(st.integers(0, len(lines) - 2))
            glue = data.draw(st.sampled_from(["", " ", "; ", " + "]))
            text = "\n".join(lines[:k] + [lines[k] + glue + lines[k + 1]] + lines[k + 2:])
        elif kind == "split-line":
            i = data.draw(st.integers(0, len(text)))
            text = text[:i] + "\n" + text[i:]
        elif kind == "insert-char":
            i = data.draw(st.integers(0, len(text)))
            text = text[:i] + data.draw(st.sampled_from(TYPED)) + text[i:]
        elif kind == "delete-span":
            i = data.draw(st.integers(0, len(text)))
            j = data.draw(st.integers(i, min(len(text), i + 8)))
            text = text[:i] + text[j:]
        elif kind == "rename-label":
            labels = re.findall(r"\b([a-z_]+)\*", text)
            if labels:
                old = data.draw(st.sampled_from(labels))
                text = text.replace(f"{old}*", f"{_typo(data, old)}*", 1)
        elif kind == "strip-comment-mark":
            spots = [m.start() for m in re.finditer("#", text)]
            if spots:
                i = data.draw(st.sampled_from(spots))
                text = text[:i] + text[i + 1:]
    return text


def check_spec_error(err: SpecError, text: str, file: str) -> None:
    assert err.message and str(err)
    assert err.file == file
    if err.line:
        lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        assert 1 <= err.line <= len(lines)
        assert err.source_line == lines[err.line - 1]
        assert 1 <= err.col <= len(err.source_line) + 1
        assert f"{file}:{err.line}:{err.col}" in str(err)
        if err.text:
            # the caret is on the culprit: from some point of its (space-
            # normalised) text on, it and the code from the column agree as far
            # as both go (the caret may mark the operator inside a term, as in
            # x1:x2, and the culprit may continue on the next line)
            squeeze = lambda s: re.sub(r"\s+", "", s)      # noqa: E731
            rest = squeeze(re.split(r"[#!]", err.source_line[err.col - 1:])[0])
            culprit = squeeze(err.text)
            assert any(culprit[k:][:len(rest)] == rest[:len(culprit) - k]
                       for k in range(max(len(culprit), 1))), \
                (err.text, err.source_line, err.col)
    else:
        # only whole-file problems have no position
        assert any(w in err.message for w in ("empty", "no model statements")), err.message


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory, example_clients):
    d = tmp_path_factory.mktemp("fuzz")
    example_clients.to_csv(d / "clients.csv", index=False)
    return d


@settings(FUZZ, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])
@given(st.data())
def test_edited_spec_files_give_attachpath_errors_only(fuzz_dir, example_clients, data):
    name = data.draw(st.sampled_from(sorted(SEEDS)), label="spec")
    text = edit(data, SEEDS[name])
    path = fuzz_dir / name
    path.write_text(text, encoding="utf-8")
    try:
        fitting.check(path, example_clients)
    except SpecError as err:
        assert err.exit_code == 2
        check_spec_error(err, text, str(path))
    except AttachpathError as err:
        assert err.exit_code == 2 and str(err)
        assert str(path) in str(err) or "data" in str(err).lower() or "column" in str(err)


@settings(max_examples=60, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.data())
def test_edited_spec_files_from_the_command_line(fuzz_dir, capsys, data):
    name = data.draw(st.sampled_from(sorted(SEEDS)), label="spec")
    text = edit(data, SEEDS[name])
    path = fuzz_dir / "edited.lav"
    path.write_text(text, encoding="utf-8")
    capsys.readouterr()
    code = main(["check", str(path), "--data", str(fuzz_dir / "clients.csv"),
                 "--cluster", "therapist"])
    out, err = capsys.readouterr()
    assert code in (0, 2), err
    assert "Traceback" not in err and "internal error" not in err
    if code == 2:
        assert err.startswith("attachpath: error: ")
        first = err.splitlines()[0]
        # located in the file the user edited: 'file:line:col: ' for a problem
        # in a statement, 'file: ' for one of the whole model
        if "edited.lav:" in first:
            assert re.search(r"edited\.lav(:\d+:\d+)?: ", first), first
    else:
        assert "OK" in out


def test_fuzz_reaches_model_and_data_errors(example_clients):
    """The edits are not all caught by the parser: some give valid syntax whose
    model or variables are wrong, so the later checks are exercised too."""
    text = SEEDS["serial_esat_anx.lav"]
    with pytest.raises(SpecError, match="Did you mean 'tds_ge'"):
        fitting.check(text.replace("tds_ge", "tds_gee", 1), example_clients)
    with pytest.raises(SpecError, match="neither a parameter label"):
        fitting.check(text.replace("b_ge*esat", "bge*esat", 1), example_clients)
