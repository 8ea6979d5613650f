"""Reading data files into a `Dataset`, and writing CSV files atomically.

`read_data` reads .csv, .tsv, .parquet and .sav (SPSS) files.  The file is
read once, as bytes: the SHA-256 recorded in the `Dataset` is the hash of
exactly the bytes that were parsed, and the file is never written to.

Example::

    >>> import pyreadstat
    >>> from attachpath.data.io import read_data
    >>> pyreadstat.write_sav(sessions, "sessions.sav",
    ...                      column_labels={"ecr_anx": "ECR anxiety (item mean)"})
    >>> ds = read_data("sessions.sav")
    >>> ds.frame.shape, ds.labels["ecr_anx"]
    ((1955, 14), 'ECR anxiety (item mean)')
"""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from typing import TYPE_CHECKING

from attachpath.errors import DataError, OutputError

if TYPE_CHECKING:
    import pandas as pd

    from attachpath.data.columns import Columns

#: File extensions `read_data` understands (lower case, with the dot).
SUPPORTED_FORMATS = (".csv", ".tsv", ".parquet", ".sav")
#: More columns than this are refused before parsing (a header of 2 million
#: columns took more than 5 GB); a model uses a few dozen variables at most.
MAX_COLUMNS = 20000


@dataclass(frozen=True, eq=False)
class Dataset:
    """A data file as read: the table, its labels and where it came from.

    Attributes:
        frame: the data, one row per line / case of the file: a DataFrame, or a
            Columns table (data/columns.py) when read_data was given `numeric`.
        labels: column -> variable label (SPSS variable labels; empty for
            CSV, TSV and Parquet files).
        source: the path the data were read from.
        sha256: hex SHA-256 of the file's bytes (for provenance in reports).
        value_labels: column -> {code: label} (SPSS value labels; the codes
            stay in `frame`, they are not replaced by their labels).

    Example::

        >>> _ = open("clients.csv", "w").write("client,x\\n1,2.5\\n")
        >>> ds = read_data("clients.csv")
        >>> ds.sha256[:12], ds.frame["x"].tolist()
        ('8a4c9b540ce7', [2.5])
    """

    frame: "pd.DataFrame | Columns"
    labels: dict[str, str]
    source: Path
    sha256: str
    value_labels: dict[str, dict] = field(default_factory=dict)

    @property
    def reading(self) -> str | None:
        """How a .csv was read when it was not plain comma-separated
        ('semicolon-separated with decimal commas'), else None."""
        return self.frame.attrs.get("reading")

    @property
    def path(self) -> Path:
        """The same as `source` (the path the data were read from)."""
        return self.source


def read_data(path, *, encoding: str = "utf-8-sig", na_values=None, columns=None,
              numeric=None) -> Dataset:
    """Read a .csv, .tsv, .parquet or .sav file into a `Dataset`.

    CSV and TSV files are read as UTF-8 (a byte-order mark is allowed) unless
    `encoding` says otherwise; the usual missing-value codes (empty cell,
    NA, NaN, null, ...) become NaN.  SPSS files keep their variable labels
    (`Dataset.labels`) and value labels (`Dataset.value_labels`); user-defined
    missing values become NaN.  `na_values` (e.g. ["-99", "999"]) are more
    missing-value codes: matching cells of every format become NaN (numbers
    compare by value, so -99 also matches -99.0).  `columns` (a function of
    a column name) reads only the columns it accepts from a CSV or TSV file
    (a fit reads only its variables, however wide the file); the header's
    names stay in `frame.attrs["all_columns"]`.  `numeric` (a function of a
    column name: the columns a fit needs as numbers) lets a plain CSV or TSV
    file be read without pandas into a `Columns` table (read_columns); a file
    it does not take is read by pandas as always.

    Raises DataError, with a full sentence naming the file, when the file is
    missing, is a directory, has an extension not in SUPPORTED_FORMATS, cannot
    be parsed, or holds no rows.

    Example::

        >>> from attachpath.datasets import example_path
        >>> ds = read_data(example_path())
        >>> list(ds.frame.columns)[:3]
        ['therapist', 'client', 'session']
    """
    path = Path(path)
    if not path.exists():
        from attachpath.errors import missing_file_hint
        hint = missing_file_hint(path)
        raise DataError(f"The data file '{path}' does not exist{hint}"
                        + ("" if hint.endswith("?") else "."))
    if path.is_dir():
        raise DataError(f"'{path}' is a directory, not a data file.")
    refuse_special_file(path, "data file")
    ext = path.suffix.lower()
    if ext not in SUPPORTED_FORMATS:
        shown = f"extension '{path.suffix}'" if path.suffix else "no extension"
        hint = ""
        if ext in (".xlsx", ".xls", ".xlsm", ".ods"):
            hint = (" Save the sheet as CSV (in Excel: File > Save As > 'CSV UTF-8') "
                    "and give that file.")
        elif ext in (".lav", ".txt", ".r"):
            hint = (" Is it the model spec? The spec comes first and the data "
                    "after --data, as in: attachpath fit model.lav --data clients.csv.")
        raise DataError(
            f"Cannot read '{path}': it has {shown}, and the supported formats are "
            f"{', '.join(SUPPORTED_FORMATS)}.{hint}")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"Cannot read '{path}': {exc.strerror or exc}.") from exc
    return parse_data(raw, path, encoding=encoding, na_values=na_values, columns=columns,
                      numeric=numeric)


def parse_data(raw: bytes, path, *, encoding: str = "utf-8-sig", na_values=None,
               columns=None, numeric=None) -> Dataset:
    """The Dataset that read_data gives for a file at `path` holding `raw`
    (e.g. a file about to be written, so that its provenance is exact)."""
    path = Path(path)
    ext = path.suffix.lower()
    if not raw.strip():
        raise DataError(f"The data file '{path}' is empty.")

    _refuse_wide(raw, path, ext)
    labels: dict[str, str] = {}
    value_labels: dict[str, dict] = {}
    table = None
    if numeric is not None and not na_values and ext in (".csv", ".tsv") and \
            len(raw) <= LIGHT_MAX_BYTES:
        table = read_columns(raw, "," if ext == ".csv" else "\t", encoding,
                             columns or (lambda c: True), numeric)
    if table is not None:
        frame = table
    elif ext in (".csv", ".tsv"):
        frame = _read_delimited(raw, path, "," if ext == ".csv" else "\t", encoding, columns)
    elif ext == ".parquet":
        frame = _read_parquet(raw, path)
    else:
        frame, labels, value_labels = _read_sav(raw, path)

    if na_values:
        frame = _declare_missing(frame, na_values)
    if len(frame) == 0:
        raise DataError(f"The data file '{path}' has column names but no rows of data.")
    return Dataset(frame=frame, labels=labels, source=path,
                   sha256=hashlib.sha256(raw).hexdigest(), value_labels=value_labels)


def _refuse_wide(raw: bytes, path: Path, ext: str) -> None:
    """DataError for more than MAX_COLUMNS columns, found from the header or
    the file's metadata without parsing the data."""
    if ext in (".csv", ".tsv"):
        header = raw.split(b"\n", 1)[0]
        n = header.count(b"," if ext == ".csv" else b"\t") + 1
    elif ext == ".parquet":
        try:
            import pyarrow.parquet as pq
            n = pq.ParquetFile(io.BytesIO(raw)).metadata.num_columns
        except Exception:      # unreadable: the reader reports it
            return
    else:
        return                 # SPSS files hold their own variable count limits
    if n > MAX_COLUMNS:
        raise DataError(f"The data file '{path}' has {n} columns; attachpath reads at most "
                        f"{MAX_COLUMNS}. Save the columns the model uses (and the cluster "
                        f"column) in a file of their own.")


def refuse_special_file(path: Path, what: str) -> None:
    """A FIFO, device or socket would block or never end when read: refuse it."""
    import stat
    try:
        mode = path.stat().st_mode
    except OSError:
        return                      # reading will report it
    if not stat.S_ISREG(mode):
        kind = ("a named pipe (FIFO)" if stat.S_ISFIFO(mode) else
                "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else
                "a socket" if stat.S_ISSOCK(mode) else "not a regular file")
        raise DataError(f"'{path}' is {kind}, not a regular file; give the {what} as a "
                        f"file saved on disk.")


def _declare_missing(frame: pd.DataFrame, na_values) -> pd.DataFrame:
    """Cells equal to one of `na_values` become NaN (numbers by value)."""
    import pandas as pd
    texts = {str(v).strip() for v in na_values}
    numbers = []
    for t in texts:
        try:
            numbers.append(float(t))
        except ValueError:
            pass
    out = frame.copy()
    for col in out.columns:
        s = out[col]
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            if numbers:
                out[col] = s.mask(s.isin(numbers))
        else:
            out[col] = s.mask(s.astype(str).str.strip().isin(texts))
    return out


def _read_delimited(raw: bytes, path: Path, sep: str, encoding: str,
                    columns=None) -> pd.DataFrame:
    import pandas as pd
    kind = "CSV" if sep == "," else "TSV"
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        bad = raw[exc.start:exc.start + 1]
        raise DataError(
            f"Cannot read '{path}' as {kind}: line {line} holds the byte "
            f"0x{bad.hex()}, which is not valid {encoding.replace('-sig', '')} text (the file "
            f"was probably saved as Latin-1/Windows-1252). Save it as UTF-8 (in Excel: "
            f"'CSV UTF-8'), or from Python pass encoding='cp1252' to read_data.") from exc
    import warnings
    header = text.split("\n", 1)[0]
    european = sep == "," and "," not in header and ";" in header
    if european:
        # Excel in a locale with a decimal comma saves "CSV" with semicolons
        sep = ";"
    else:
        _check_separator(header, path, sep, kind)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", pd.errors.ParserWarning)
            # index_col=False: an extra field in the first row must not turn the
            # first column into the index and shift every column silently
            usecols = (lambda c: columns(str(c).strip())) if columns is not None else None
            frame = pd.read_csv(io.StringIO(text), sep=sep, index_col=False, usecols=usecols)
            decimal_comma = european and _decimal_commas(frame)
            if decimal_comma:
                frame = pd.read_csv(io.StringIO(text), sep=sep, index_col=False, decimal=",",
                                    usecols=usecols)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        _check_field_counts(text, path, sep, kind)
        raise DataError(f"Cannot read '{path}' as {kind}: {_first_line(exc)}.") from exc
    if any(issubclass(w.category, pd.errors.ParserWarning) for w in caught):
        _check_field_counts(text, path, sep, kind)
    _check_header(frame, path, text, sep)
    if columns is not None:
        frame.attrs["all_columns"] = _header_names(text, sep)
        # pandas reading some columns no longer notices a row with more fields
        # than the header: a quick count of separators, the full check if it finds one
        lines = text.split("\n")
        n = lines[0].count(sep)
        if any(line.count(sep) > n for line in lines[1:]):
            _check_field_counts(text, path, sep, "CSV" if sep != "\t" else "TSV")
    if european:
        how = ("semicolon-separated with decimal commas" if decimal_comma
               else "semicolon-separated")
        frame.attrs["reading"] = how
        from attachpath.errors import DataWarning
        warnings.warn(reading_note(path, how), DataWarning, stacklevel=4)
    return frame


# -- reading a plain CSV without pandas (data/columns.py says why) -----------

#: pandas' default missing-value codes (pandas._libs.parsers.STR_NA_VALUES;
#: a test keeps the two equal).  A cell is missing when it is one of these
#: exactly (no spaces around it).
NA_CODES = frozenset({"", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan",
                      "1.#IND", "1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a",
                      "nan", "null"})
#: Files up to this size are read without pandas when they can be: beyond it
#: pandas' parser (0.15 s for 7 MB) outruns the Python one (about 0.5 s per
#: MB) by more than importing pandas costs (0.8 s).
LIGHT_MAX_BYTES = 1_000_000

# Numbers read_columns converts itself (spaces and tabs around them allowed,
# as pandas allows them); any other cell in a numeric column hands the file to
# pandas.  Whole numbers of at most 18 digits fit int64 as pandas reads them;
# longer ones (int64, uint64 or float in pandas) go to pandas too.  A column
# is checked by one match over its cells joined with _JOIN (a per-cell
# Python loop cost 4 s for 100,000 rows).
_NUM = r"[ \t]*[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?[ \t]*"
_INT = r"[ \t]*[-+]?\d{1,18}[ \t]*"
_NA = "|".join(re.escape(c) for c in sorted(NA_CODES, key=len, reverse=True))
_END = r"(?=\x00|\Z)"
_JOIN = "\x00"
_ALL_INTS = re.compile(rf"{_INT}(?:\x00{_INT})*")
_ALL_NUMBERS = re.compile(rf"(?:(?![ \t]*[-+]?\d{{19}}){_NUM}|{_NA}){_END}"
                          rf"(?:\x00(?:(?![ \t]*[-+]?\d{{19}}){_NUM}|{_NA}){_END})*")
# a cell pandas would read as a number or as missing: then pandas types the column
_ANY_NUMBER = re.compile(rf"(?:\A|\x00)(?:{_NUM}|{_NA}|[ \t]*[-+]?(?i:inf|infinity|nan)[ \t]*)"
                         rf"{_END}")


def read_columns(raw: bytes, sep: str, encoding: str, columns, numeric):
    """The columns of a plain delimited file that `columns` accepts, as a
    Columns table with the values pandas' read_csv gives them; None for any
    file that is not plain, so that the caller reads it with pandas and every
    message and warning stays pandas' path's.

    Plain: decodes; the header holds `sep`, no empty or repeated names;
    every row has the header's number of fields (empty lines are skipped,
    as pandas skips them); each column taken is all numbers and missing
    codes (float64, or int64 when every cell is a whole number), or, when
    `numeric` does not accept its name, all text without missing cells.

    Numbers are read correctly rounded (Python's float).  pandas' default
    parser is not always: for some numbers with 17 or more significant
    digits (0.10000000000000021) it gives the neighbouring double, one unit
    in the last place away.  Here the light reader is the right one; a fit
    from a DataFrame read by pandas can differ from the same fit from the
    path in the last bits only (tests/data/test_data_columns.py)."""
    import csv
    import numpy as np

    from attachpath.data.columns import Columns
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError:
        return None
    header = text.split("\n", 1)[0]
    if sep not in header or _JOIN in text:
        return None                 # European files and wrong separators: pandas' path
    try:
        rows = [row for row in csv.reader(io.StringIO(text), delimiter=sep, strict=True)
                if row]
    except csv.Error:   # an unclosed quote, text after a closing quote, a lone \r, ...
        return None
    if len(rows) < 2:
        return None
    names = [c.strip() for c in rows[0]]
    width = len(names)
    if not all(names) or len(set(names)) < width or any(len(r) != width for r in rows):
        return None
    data = {}
    for j, name in enumerate(names):
        if not columns(name):
            continue
        cells = [r[j] for r in rows[1:]]
        joined = _JOIN.join(cells)
        if _ALL_INTS.fullmatch(joined):
            data[name] = np.fromiter(map(int, cells), np.int64, len(cells))
        elif _ALL_NUMBERS.fullmatch(joined):
            data[name] = np.fromiter((float("nan") if c in NA_CODES else float(c)
                                      for c in cells), float, len(cells))
        elif numeric(name) or _ANY_NUMBER.search(joined):
            return None             # text in a number column, or numbers in a text one
        else:
            data[name] = np.array(cells, dtype=object)
    return Columns(data, {"all_columns": names})


def reading_note(path, how: str) -> str:
    """The sentence that reports how a non-standard CSV was read."""
    return f"Read '{path}' as a {how} file (a European Excel export)."


_DECIMAL_COMMA = r"^\s*[-+]?\d*,\d+\s*$"
_INTEGER = r"^\s*[-+]?\d+\s*$"


def _decimal_commas(frame: pd.DataFrame) -> bool:
    """Whether a semicolon-separated table writes its numbers with decimal
    commas: some text column holds only numbers such as '3,5' (and whole
    numbers)."""
    for c in frame.columns:
        col = frame[c]
        if col.dtype.kind in "biufcmM":      # numbers already (text is object or str)
            continue
        vals = col.dropna().astype(str)
        vals = vals[vals.str.strip() != ""]
        if len(vals) and vals.str.match(_DECIMAL_COMMA).any() and \
                (vals.str.match(_DECIMAL_COMMA) | vals.str.match(_INTEGER)).all():
            return True
    return False


def _check_separator(header: str, path: Path, sep: str, kind: str) -> None:
    """A header without the expected separator but with another one: the
    file is semicolon- or tab-separated (or a .tsv holds commas)."""
    if sep in header:
        return
    other = {";": "semicolon", "\t": "tab", ",": "comma"}
    for mark, name in other.items():
        if mark != sep and mark in header:
            fix = ("save it with commas as separators and '.' as the decimal mark"
                   if mark == ";" else
                   "give it the extension .tsv" if mark == "\t" else
                   "give it the extension .csv")
            raise DataError(
                f"Cannot read '{path}' as {kind}: its header {header[:60]!r} looks "
                f"{name}-separated; {fix}.")


def _check_field_counts(text: str, path: Path, sep: str, kind: str) -> None:
    """DataError at the first row with more (non-empty) fields than the header:
    pandas would otherwise drop them or shift the columns."""
    import csv
    rows = csv.reader(io.StringIO(text), delimiter=sep)
    header = next(rows, [])
    for row in rows:
        if len(row) > len(header) and any(c.strip() for c in row[len(header):]):
            mark = {",": "comma", "\t": "tab", ";": "semicolon"}.get(sep, repr(sep))
            raise DataError(
                f"Cannot read '{path}' as {kind}: line {rows.line_num} has {len(row)} "
                f"fields but the header has {len(header)} column names. A value there "
                f"probably holds a stray {mark} (e.g. a decimal comma: write 3.5, not "
                f"3,5), or a column name is missing; fix that line.")


def _header_names(text: str, sep: str) -> list[str]:
    import csv
    first = next(csv.reader(io.StringIO(text.split("\n", 1)[0]), delimiter=sep), [])
    return [c.strip() for c in first]


def _check_header(frame: pd.DataFrame, path: Path, text: str, sep: str) -> None:
    """Strip spaces around column names; refuse empty or repeated names
    (pandas would silently rename a repeat 'x' to 'x.1')."""
    first = _header_names(text, sep)
    names = first if len(first) == frame.shape[1] else [str(c).strip() for c in frame.columns]
    seen: dict[str, int] = {}
    for k, name in enumerate(first if len(first) >= frame.shape[1] else names, start=1):
        if not name:
            continue
        if name in seen:
            raise DataError(
                f"The column name '{name}' appears twice in the header of '{path}' "
                f"(columns {seen[name]} and {k}); rename one of them.", column=name)
        seen[name] = k
    if len(names) == frame.shape[1]:
        frame.columns = [n if n else str(c) for n, c in zip(names, frame.columns)]
    else:       # only some columns were read: strip their names too
        frame.columns = [str(c).strip() for c in frame.columns]


PARQUET_EXTRA = "pip install 'attachpath[parquet]'"


def _read_parquet(raw: bytes, path: Path) -> pd.DataFrame:
    # pyarrow is an optional extra (about 170 MB, needed for nothing else)
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise DataError(f"Reading the Parquet file '{path}' needs pyarrow, which is not "
                        f"installed: install attachpath's parquet extra with "
                        f"{PARQUET_EXTRA} (or save the data as CSV).") from None
    import pandas as pd
    try:
        return pd.read_parquet(io.BytesIO(raw))
    except Exception as exc:  # pyarrow raises several unrelated types
        raise DataError(f"Cannot read '{path}' as Parquet: {_first_line(exc)}.") from exc


def _read_sav(raw: bytes, path: Path):
    import pyreadstat

    try:
        frame, meta = pyreadstat.read_sav(io.BytesIO(raw))
    except Exception as exc:  # ReadstatError, PyreadstatError, OSError ...
        raise DataError(f"Cannot read '{path}' as an SPSS .sav file: "
                        f"{_first_line(exc)}.") from exc
    labels = {col: lab for col, lab in meta.column_names_to_labels.items()
              if lab not in (None, "")}
    value_labels = {col: dict(vl) for col, vl in meta.variable_value_labels.items()}
    return frame, labels, value_labels


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0].rstrip(".") if text else type(exc).__name__


def write_csv_atomic(frame: pd.DataFrame, path, *, index: bool = False,
                     float_format: str | None = None) -> Path:
    """Write `frame` as CSV to `path` so that readers never see half a file.

    The CSV goes to a temporary file in the same directory, which then
    replaces `path` with os.replace (atomic on POSIX and Windows).  Lines end
    in '\\n' on every platform.  Raises OutputError when the directory does
    not exist.  Returns the path written.

    Example::

        >>> write_csv_atomic(clients.head(3), "clients.csv")
        PosixPath('clients.csv')
    """
    text = frame.to_csv(index=index, float_format=float_format, lineterminator="\n")
    return write_text_atomic(text, path)


def write_text_atomic(text: str, path) -> Path:
    """Write `text` (UTF-8) to `path` through a temporary file and os.replace.

    Example::

        >>> write_text_atomic('{"a": 1}\\n', "truth.json")
        PosixPath('truth.json')
    """
    return write_texts_atomic([(text, path)])[0]


def check_table_format(path: Path, flag: str) -> None:
    """An output table must be in a format read_data reads back: refuse
    other extensions before any work (CSV text under a .sav name would make
    every later command fail)."""
    if Path(path).is_dir():
        raise OutputError(f"{flag} '{path}' is a directory; give a file name in it, "
                          f"such as '{Path(path) / 'clients.csv'}'.")
    if Path(path).suffix.lower() not in SUPPORTED_FORMATS:
        shown = f"the extension '{Path(path).suffix}'" if Path(path).suffix else "no extension"
        raise OutputError(f"{flag} '{path}' has {shown}; attachpath writes "
                          f"{', '.join(SUPPORTED_FORMATS)} (the extension names the format).")


def encode_table(frame: pd.DataFrame, path: Path, labels: dict | None = None):
    """`frame` in the format `path`'s extension names: CSV/TSV text (numbers
    in outputs.FLOAT_FORMAT), or Parquet / SPSS bytes.  SPSS files carry the
    variable labels of `labels` (column -> label) that belong to columns."""
    from attachpath.files import FLOAT_FORMAT
    ext = Path(path).suffix.lower()
    check_table_format(path, "The output")
    if ext in (".csv", ".tsv"):
        return frame.to_csv(index=False, lineterminator="\n", float_format=FLOAT_FORMAT,
                            sep="," if ext == ".csv" else "\t")
    if ext == ".parquet":
        buf = io.BytesIO()
        frame.to_parquet(buf, index=False)
        return buf.getvalue()
    import tempfile
    import pyreadstat
    column_labels = {c: labels[c] for c in frame.columns if labels and labels.get(c)}
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "out.sav"
        try:
            pyreadstat.write_sav(frame, str(target), column_labels=column_labels or None)
        except Exception as exc:   # pyreadstat raises several unrelated types
            raise OutputError(f"Cannot write '{path}' as SPSS: {_first_line(exc)}; "
                              f"write a .csv instead.") from None
        return target.read_bytes()


def write_texts_atomic(items) -> list[Path]:
    """Write several (text or bytes, path) outputs: all temporary files first, then replace.

    If writing any temporary file fails, nothing is replaced.  Unlike
    attachpath.files, a missing directory is an error here: the data
    commands write where the user pointed, and never create folders.

    Example::

        >>> write_texts_atomic([("a\\n", "a.csv"), ("b\\n", "b.csv")])
        [PosixPath('a.csv'), PosixPath('b.csv')]
    """
    from attachpath.files import write_files_atomic
    items = [(text, Path(path)) for text, path in items]
    for _, path in items:
        if not path.parent.is_dir():
            raise OutputError(f"Cannot write '{path}': the directory '{path.parent}' "
                              f"does not exist.")
    write_files_atomic(Path("."), {path: text for text, path in items})
    return [path for _, path in items]
