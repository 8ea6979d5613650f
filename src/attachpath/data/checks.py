"""The data an estimator gets: numeric, finite, non-degenerate, clusters known.

`model_frame` runs once before every fit (the bootstrap does not call it) and
turns any problem with the data into a DataError that names the culprit:
the column, the row (index label and 1-based position) and the value.

Example::

    >>> from attachpath.data.checks import model_frame
    >>> X, info = model_frame(clients, ["ecr_anx", "cats_secure", "tds_ge"],
    ...                       cluster="therapist")
    >>> X.dtypes.unique(), info["n_clusters"], info["dropped_rows"]
    (array([dtype('float64')], dtype=object), 44, 0)
"""

from __future__ import annotations

import warnings
from functools import lru_cache

import numpy as np

from attachpath.data._messages import row_label, row_name, show
from attachpath.data.columns import Columns, factorize, isna, row_labels, values_of
from attachpath.errors import DataError, DataWarning, closest

#: Missing-data modes: "listwise" drops incomplete rows; "fiml" keeps them
#: (NaN stays in the frame) and drops only rows with every variable missing.
MISSING_MODES = ("listwise", "fiml")

# Singular-value ratio (smallest / largest, standardized data) below which the
# variables are taken as exactly collinear, and below which a warning says
# they are nearly so (about R^2 > 0.99999999 of one on the others).
_EXACT = 1e-9
_NEAR = 1e-4
# Below this ratio (R^2 > 1 - 1e-12, condition number of the covariance
# matrix > 1e12) nearly collinear variables are refused: ML cannot invert
# their covariance matrix reliably in double precision, and the failure
# would otherwise surface as a singular implied covariance blamed on the model.
_SINGULAR = 1e-6


def model_frame(frame, variables, *, cluster: str | None = None,
                missing: str = "listwise"):
    """Return (float64 DataFrame of `variables`, info) ready for an estimator.

    The frame keeps the index of the rows used; model_array gives the bare
    array (what an estimator needs, without building a DataFrame).

    Checks, each a DataError naming the culprit: a variable not in the data
    (with the closest column name as a hint), a non-numeric value (column,
    first bad row and the value), an infinite value, a constant variable,
    perfectly collinear variables (a minimal dependent set is named), and,
    when `cluster` is given, a cluster column that is absent, has missing
    ids, or has fewer than two clusters among the rows kept.  Booleans
    become 0.0/1.0; numeric text ("3.5") is accepted.

    With missing="listwise" rows with a missing value in any variable are
    dropped (DataWarning; count in info["dropped_rows"]).  With
    missing="fiml" they are kept and only rows missing on every variable are
    dropped.  Nearly collinear variables give a DataWarning.

    info keys: variables, n_rows_in, n_rows, dropped_rows,
    missing_by_variable, kept (bool array over the input rows), missing,
    and with a cluster: cluster, clusters (ids of the kept rows),
    cluster_codes (0..G-1 per kept row), n_clusters, cluster_sizes.

    Example::

        >>> import pandas as pd
        >>> df = pd.DataFrame({"x": [1.0, 2, 3, 4], "y": [2.0, 1, 4, 3], "therapist": [1, 1, 1, 2]})
        >>> X, info = model_frame(df, ["x", "y"], cluster="therapist")
        >>> info["clusters"][:3]
        array([1, 1, 1])
    """
    import pandas as pd
    X, info = model_array(frame, variables, cluster=cluster, missing=missing)
    if isinstance(frame, Columns):
        index = pd.Index(row_labels(frame, info["kept"]))
    else:
        index = frame.index[info["kept"]] if info["dropped_rows"] else frame.index
    return pd.DataFrame(X, index=index, columns=column_index(tuple(info["variables"])),
                        copy=False), info


def model_array(frame, variables, *, cluster: str | None = None,
                missing: str = "listwise"):
    """(float64 array of `variables`, info): model_frame's checks and info
    without building the DataFrame, for the estimator.  `frame` is a
    DataFrame or a Columns table (data/columns.py: no pandas needed)."""
    if missing not in MISSING_MODES:
        raise DataError(f"missing must be one of {', '.join(MISSING_MODES)}, not "
                        f"{show(missing)}.")
    if isinstance(variables, str):
        variables = [variables]
    variables = list(dict.fromkeys(variables))
    if not variables:
        raise DataError("The model uses no observed variables, so there is no data to check.")
    for v in variables:
        _require(frame, v, "variable")
    if cluster is not None:
        _require(frame, cluster, "cluster column")

    n = len(frame)
    if n == 0:
        raise DataError("The data have no rows.")
    X = _as_float(frame, variables)
    inf = np.isinf(X)
    if inf.any():
        j = int(np.flatnonzero(inf.any(axis=0))[0])
        i = int(np.flatnonzero(inf[:, j])[0])
        raise DataError(
            f"Variable '{variables[j]}' has an infinite value ({show(X[i, j])}) at "
            f"{row_name(frame, i)}.", column=variables[j], row=row_label(frame, i),
            value=float(X[i, j]))

    ids = None
    if cluster is not None:
        ids = values_of(frame, cluster)
        miss_id = isna(ids)
        if miss_id.any():
            i = int(np.flatnonzero(miss_id)[0])
            raise DataError(
                f"The cluster column '{cluster}' has a missing id at {row_name(frame, i)} "
                f"({int(miss_id.sum())} rows in all); every row needs its cluster.",
                column=cluster, row=row_label(frame, i))

    warn_missing_codes(X, variables)
    nan = np.isnan(X)
    by_var = dict(zip(variables, nan.sum(axis=0).tolist()))
    keep = ~nan.any(axis=1) if missing == "listwise" else ~nan.all(axis=1)
    n_kept = int(keep.sum())
    dropped = n - n_kept
    if n_kept == 0:
        raise DataError(
            f"No rows are left: every one of the {n} rows has a missing value in "
            f"{'at least one' if missing == 'listwise' else 'every one'} of the variables "
            f"({_counts(by_var)}).")
    if dropped:
        how = "a missing value" if missing == "listwise" else "no observed value"
        warnings.warn(
            f"Dropped {dropped} of {n} rows with {how} in the model variables "
            f"({_counts(by_var)}).", DataWarning, stacklevel=2)
    if dropped:
        X = X[keep]

    complete = missing == "listwise" or not nan.any()
    _check_constant(X, variables, complete)
    ss = _check_collinear(X, variables, complete)
    _check_scales(X, variables, complete, ss)

    info = {"variables": variables, "n_rows_in": n, "n_rows": n_kept,
            "dropped_rows": dropped, "missing_by_variable": by_var, "kept": keep,
            "missing": missing}
    if ids is not None:
        kept_ids = ids[keep] if dropped else ids
        codes, uniques = factorize(kept_ids)
        if len(uniques) < 2:
            raise DataError(
                f"The cluster column '{cluster}' has only one cluster "
                f"({show(uniques[0])}) among the {n_kept} rows used; cluster-robust "
                f"standard errors need at least two.", column=cluster)
        info.update(cluster=cluster, clusters=kept_ids, cluster_codes=codes,
                    n_clusters=int(len(uniques)),
                    cluster_sizes=np.bincount(codes, minlength=len(uniques)))
    return X, info


# Values that data sets use as missing-value codes: -9, 9, -99, 99, -999,
# 999, ... and the same with 8s.  Such a value is warned about when it lies
# far outside the other values of its column: further from their range than
# MISSING_CODE_DISTANCE times its width (-99 among ECR scores of 1 to 7, 999
# among ages of 18 to 80; not 99 among ages).
_CODES = np.array([s * float(d * (10 ** k - 1) // 9) for d in (9, 8)
                   for k in range(1, 6) for s in (1, -1)])
_SMALLEST_CODE = float(np.min(np.abs(_CODES)))
MISSING_CODE_DISTANCE = 3.0


def missing_codes(x: np.ndarray) -> dict[float, int]:
    """{code: count} of the missing-value-like codes in the column x that sit
    far outside its other values."""
    x = x[np.isfinite(x)]
    is_code = np.isin(x, _CODES)
    if not is_code.any() or is_code.all():
        return {}
    rest = x[~is_code]
    lo, hi = float(rest.min()), float(rest.max())
    reach = MISSING_CODE_DISTANCE * max(hi - lo, 1e-12)
    codes, counts = np.unique(x[is_code], return_counts=True)
    return {float(c): int(n) for c, n in zip(codes, counts)
            if c < lo - reach or c > hi + reach}


def warn_missing_codes(X: np.ndarray, names) -> None:
    """A DataWarning per column that holds values like missing-value codes."""
    # one isin over the columns that reach a code's size (|x| >= 8): most
    # columns (scale scores) hold no such value, and isin costs more per fit
    # than the comparison
    big = np.flatnonzero((np.abs(X) >= _SMALLEST_CODE).any(axis=0))
    suspects = big[np.isin(X[:, big], _CODES).any(axis=0)] if len(big) else big
    for j in suspects:
        name = names[j]
        found = missing_codes(X[:, j])
        if found:
            codes = ", ".join(f"{c:g} ({n}×)" for c, n in found.items())
            warnings.warn(
                f"The column '{name}' holds {sum(found.values())} value(s) that look like "
                f"missing-value codes, far outside its other values: {codes}. They are "
                f"used as numbers; if they mean 'missing', declare them with "
                f"--na-values={','.join(f'{c:g}' for c in found)} (na_values= in read_data).",
                DataWarning, stacklevel=3)


@lru_cache(maxsize=256)
def column_index(names: tuple[str, ...]):
    """A shared pd.Index of `names`.  Building a string Index costs more than
    the rest of a small frame in pandas 3; an Index is immutable, so frames
    of the same model (fits, bootstrap, compare) can share one."""
    import pandas as pd
    return pd.Index(names)


def _require(frame, col, what) -> None:
    if col not in frame.columns:
        # a frame read for some columns keeps the header's names for hints
        names = [str(c) for c in frame.attrs.get("all_columns", frame.columns)]
        hint = closest(col, names)
        msg = f"The {what} '{col}' is not in the data."
        if hint:
            msg += f" Did you mean '{hint}'?"
        else:
            shown = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
            msg += f" The data have: {shown}."
        raise DataError(msg, column=col)


def _counts(by_var: dict) -> str:
    parts = [f"{v}: {k}" for v, k in by_var.items() if k]
    return "missing " + ", ".join(parts) if parts else "none missing"


def _as_float(frame, variables) -> np.ndarray:
    """The columns as one float64 array; DataError at the first non-numeric value."""
    if isinstance(frame, Columns):
        cols = [frame.column(v) for v in variables]
        if all(c.dtype.kind in "fiub" for c in cols):
            # in the memory order the DataFrame path below gives (column-major
            # from to_numpy, else row-major): sums over X, and so the last
            # bits of every estimate, follow it
            plain = (all(frame.column(c).dtype.kind in "fiub" for c in frame.columns)
                     and len(frame.columns) <= 4 * len(variables))
            X = np.empty((len(frame), len(cols)), order="F" if plain else "C")
            for j, c in enumerate(cols):
                X[:, j] = c
            return X
        frame = frame.to_frame()    # text in a model variable: pandas' checks and messages
    names = frame.columns.tolist()
    kinds = [dt.kind if isinstance(dt, np.dtype) else "O" for dt in frame.dtypes.tolist()]
    where = {name: j for j, name in enumerate(names)}
    for v in variables:
        if names.count(v) > 1:
            raise DataError(f"The data have {names.count(v)} columns named '{v}'; "
                            f"rename them so that the model's variable is unambiguous.",
                            column=v)
    numeric = [kinds[where[v]] in "fiu" for v in variables]
    # In pandas 3 every frame[v] builds a Series (about 15 µs), which made this
    # the slowest step of a small fit; a frame of plain numeric columns not
    # much wider than the model converts in one call instead.
    if all(numeric) and all(k in "fiub" for k in kinds) and len(names) <= 4 * len(variables):
        return frame.to_numpy(dtype=float)[:, [where[v] for v in variables]]
    X = np.empty((len(frame), len(variables)), dtype=float)
    for j, v in enumerate(variables):
        X[:, j] = _column_as_float(frame, v)
    return X


def _column_as_float(frame, v: str) -> np.ndarray:
    import pandas as pd
    s = frame[v]
    dt = s.dtype
    if isinstance(dt, pd.CategoricalDtype):
        s = s.astype(object)
        dt = s.dtype
    if pd.api.types.is_bool_dtype(dt) or (pd.api.types.is_numeric_dtype(dt)
                                          and not pd.api.types.is_complex_dtype(dt)):
        return s.to_numpy(dtype=float, na_value=np.nan)
    if pd.api.types.is_datetime64_any_dtype(dt) or pd.api.types.is_timedelta64_dtype(dt):
        i = int(np.flatnonzero(s.notna().to_numpy())[0]) if s.notna().any() else 0
        raise DataError(
            f"Variable '{v}' holds dates or times (e.g. {show(s.iloc[i])} at "
            f"{row_name(frame, i)}), not numbers.", column=v, row=frame.index[i],
            value=s.iloc[i])
    if pd.api.types.is_complex_dtype(dt):
        raise DataError(f"Variable '{v}' holds complex numbers.", column=v)
    try:
        coerced = pd.to_numeric(s, errors="coerce")
    except (TypeError, ValueError):  # e.g. lists or dicts in cells
        coerced = pd.Series(np.nan, index=s.index)
    bad = s.notna().to_numpy() & coerced.isna().to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        x = s.iloc[i]
        import re
        hint = ""
        if isinstance(x, str) and re.fullmatch(r"\s*[-+]?\d*,\d+\s*", x):
            hint = f" It looks like a decimal comma: write {x.strip().replace(',', '.')}."
        elif isinstance(x, str) and x.strip().lower() in (".", "-", "n/a", "na.", "missing",
                                                          "?", "--", "none", "#n/a", "-99"):
            hint = " If it marks a missing value, leave the cell empty or write NA."
        raise DataError(
            f"Variable '{v}' has a non-numeric value {show(x)} at {row_name(frame, i)}; "
            f"model variables must be numbers (missing values may be empty or NA).{hint}",
            column=v, row=frame.index[i], value=x)
    return coerced.to_numpy(dtype=float, na_value=np.nan)


def _check_constant(X: np.ndarray, variables, complete: bool) -> None:
    if not complete:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns
            lo, hi = np.nanmin(X, axis=0), np.nanmax(X, axis=0)
    else:
        lo, hi = X.min(axis=0), X.max(axis=0)
    for j, v in enumerate(variables):
        if np.isnan(lo[j]):
            raise DataError(f"Variable '{v}' has no observed values in the rows used"
                            f"{' (it is missing in every row)' if not complete else ''}.",
                            column=v)
        observed = int(np.sum(~np.isnan(X[:, j]))) if not complete else len(X)
        if observed == 1:
            raise DataError(
                f"Variable '{v}' has a single observed value ({show(lo[j])}) in the "
                f"rows used; its variance cannot be estimated. Leave it out of the "
                f"model or collect more data on it.", column=v, value=float(lo[j]))
        if lo[j] == hi[j]:
            raise DataError(
                f"Variable '{v}' is constant (every row used has the value "
                f"{show(lo[j])}), so it carries no information for the model.",
                column=v, value=float(lo[j]))


def _check_collinear(X: np.ndarray, variables, complete: bool) -> np.ndarray | None:
    """DataError for exactly collinear variables, DataWarning for nearly
    collinear ones; returns the centred sums of squares when X is complete."""
    p = X.shape[1]
    if p < 2:
        return None
    if not complete:
        rows = ~np.isnan(X).any(axis=1)
        complete = bool(rows.all())
        Z = X if complete else X[rows]
    else:
        Z = X
    m = Z.shape[0]
    if m <= p:
        if complete:
            raise DataError(f"The {p} variables need more than {p} rows, but only {m} "
                            f"are left: {', '.join(variables)}.")
        return None  # fiml with few complete rows: nothing reliable to check
    Z = Z - Z.mean(axis=0)
    ss = np.einsum("ij,ij->j", Z, Z)
    sd = np.sqrt(ss)
    if (sd == 0).any():
        return None  # constant among complete rows only (fiml); the estimator will see it
    Z = Z / sd
    # The eigenvalues of Z'Z are the squared singular values; they settle the
    # common well-conditioned case cheaply, and the SVD (accurate down to the
    # _EXACT ratio, which Z'Z is not) runs only near the warning threshold.
    eig = np.linalg.eigvalsh(Z.T @ Z)
    if eig[0] > 100 * _NEAR ** 2 * eig[-1]:
        return ss if complete else None
    s = np.linalg.svd(Z, compute_uv=False)
    ratio = s[-1] / s[0]
    if ratio >= _NEAR:
        return ss if complete else None
    exact = ratio < _EXACT
    names = _dependent_set(Z, variables, 1e-6 if exact else 1e-3)
    if exact:
        if len(names) == 2:
            raise DataError(
                f"Variables '{names[0]}' and '{names[1]}' are perfectly collinear (one is "
                f"a linear function of the other), so the model cannot separate them; "
                f"drop one.", column=names[-1])
        raise DataError(
            f"Variables {_join(names)} are perfectly collinear: '{names[-1]}' is a linear "
            f"combination of {_join(names[:-1])}, so the model cannot separate them; "
            f"drop one.", column=names[-1])
    if ratio < _SINGULAR:
        raise DataError(
            f"Variables {_join(names)} are nearly perfectly collinear: '{names[-1]}' is "
            f"a linear combination of {_join(names[:-1])} up to a relative difference of "
            f"{ratio:.1e}, too small for ML to tell them apart (their covariance matrix "
            f"is numerically singular). Drop one of them, or combine them into one "
            f"score.", column=names[-1])
    warnings.warn(
        f"Variables {_join(names)} are nearly collinear (one is almost a linear "
        f"combination of the others; smallest/largest singular value {ratio:.1e}); "
        f"estimates involving them will be unstable.", DataWarning, stacklevel=3)
    return ss if complete else None


#: Ratio of the largest to the smallest variance above which a DataWarning
#: says to rescale (lavaan warns at 1000; ML optimizers struggle far beyond).
_SCALE_RATIO = 1e6


def _check_scales(X: np.ndarray, variables, complete: bool,
                  ss: np.ndarray | None = None) -> None:
    if X.shape[1] < 2:
        return
    if ss is not None:
        var = ss / X.shape[0]
    elif not complete:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            var = np.nanvar(X, axis=0)
    else:
        var = X.var(axis=0)
    hi, lo = int(np.nanargmax(var)), int(np.nanargmin(var))
    if not var[lo] > 0 or var[hi] / var[lo] <= _SCALE_RATIO:
        return
    factor = 10 ** int(round(np.log10(np.sqrt(var[hi] / var[lo]))))
    warnings.warn(
        f"The variances of the model variables differ by a factor of "
        f"{var[hi] / var[lo]:.0e} ('{variables[hi]}': {var[hi]:.3g}, '{variables[lo]}': "
        f"{var[lo]:.3g}); the estimation may fail to converge. Rescale, e.g. divide "
        f"'{variables[hi]}' by {factor:g} or multiply '{variables[lo]}' by {factor:g}.",
        DataWarning, stacklevel=3)


def _dependent_set(Z: np.ndarray, variables, tol: float) -> list[str]:
    """A minimal set of (nearly) linearly dependent columns of standardized Z.

    Columns are added in order to an independent basis; the first column whose
    residual on the basis is below `tol` (relative norm) is dependent, and it
    with the basis columns it needs is a minimal dependent set (the
    representation on an independent basis is unique).
    """
    basis: list[int] = []
    for j in range(Z.shape[1]):
        if basis:
            B = Z[:, basis]
            coef, *_ = np.linalg.lstsq(B, Z[:, j], rcond=None)
            resid = Z[:, j] - B @ coef
            if np.linalg.norm(resid) < tol:  # columns have unit norm
                used = [basis[k] for k in np.flatnonzero(np.abs(coef) > 1e-3 * np.abs(coef).max())]
                return [variables[k] for k in sorted(used)] + [variables[j]]
        basis.append(j)
    # Fallback: the columns loading on the smallest right singular vector.
    _, _, vt = np.linalg.svd(Z, full_matrices=False)
    v = np.abs(vt[-1])
    return [variables[k] for k in np.flatnonzero(v > 1e-3 * v.max())]


def _join(names) -> str:
    quoted = [f"'{n}'" for n in names]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]
