"""From long session data to one row per client (and back to within-client scores).

`prepare` checks the nesting of sessions in clients in therapists and
aggregates session-level measures to client means; `esat_scores` adds the
"earned secure therapeutic attachment" residual scores.

Which columns are session-level and which client-level?  When neither
`session_vars` nor `client_vars` is given, every column other than the ids is
classified from the data:

* numeric (or boolean) columns whose non-missing values differ within at
  least one client are session-level (averaged per client);
* columns that are constant within every client (ignoring missing values)
  are client-level (carried over);
* a numeric column that is constant within nearly every client but varies
  within a few (at most NEAR_CONSTANT_SHARE of the clients with two or more
  values) is a client-level variable with entry errors: a DataError names
  the clients and their values, and says to list the column in
  `session_vars` (``--session-vars``) if it really is measured per session;
* non-numeric columns that vary within a client can be neither; they are
  left out with a DataWarning.

When only one of the two lists is given, the other is inferred the same way
from the remaining columns; remaining columns of the wrong kind are left out
and listed in ``report["left_out"]``.  When both are given, only those columns
are used.  A column listed in `client_vars` that varies within a client is a
DataError.

Example::

    >>> from attachpath.data.prepare import prepare, esat_scores
    >>> prep = prepare(sessions, session="session")
    >>> clients = esat_scores(prep.clients, level="client")
    >>> clients[["client", "cats_secure", "cats_secure_n", "esat_anx"]].shape
    (330, 4)
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

from typing import TYPE_CHECKING

import numpy as np

from attachpath.data._messages import row_name, show
from attachpath.errors import DataError, DataWarning, closest

if TYPE_CHECKING:      # pandas is imported where used: a fit imports this package too
    import pandas as pd


# A numeric column that varies within at most this share of the clients (with
# two or more values) is taken for a client-level variable with entry errors
# (e.g. a pretreatment score mistyped in one session), never averaged silently.
NEAR_CONSTANT_SHARE = 0.05


@dataclass(frozen=True, eq=False)
class Prepared:
    """The result of `prepare`.

    Attributes:
        clients: one row per client, sorted by therapist then client: client,
            therapist, the client mean of each session-level variable (same
            name), `<var>_n` (sessions the mean rests on), `n_sessions` (rows
            of the client), then the client-level variables.
        within: one row per session with the ids and `<var>_within` (session
            score minus the client mean), or None when not asked for.
        report: counts (rows, clients, therapists, sessions per client, ...).
        session_vars: the session-level variables, in column order.
        client_vars: the client-level variables, in column order.
    """

    clients: pd.DataFrame
    within: pd.DataFrame | None
    report: dict
    session_vars: tuple[str, ...] = ()
    client_vars: tuple[str, ...] = ()


def prepare(sessions: pd.DataFrame, client: str = "client",
            therapist: str | None = "therapist", session: str | None = None,
            session_vars=None, client_vars=None, within: bool = False) -> Prepared:
    """Check the nesting of `sessions` and aggregate it to one row per client.

    Args:
        sessions: long data, one row per session.
        client, therapist: id columns (therapist=None: no therapist level).
        session: session-number column; None uses a column named "session"
            if there is one.  Used to order the within rows and to reject a
            session recorded twice for a client.
        session_vars, client_vars: column lists; inferred when None (see the
            module docstring).
        within: also return person-mean-centred session scores.

    Raises DataError for a missing id (naming the row), a client seen by more
    than one therapist, a session recorded twice, a client-level variable
    that is not constant within a client (naming the client, the variable and
    two differing values), and unknown or non-numeric session variables.

    Client means are pandas' groupby means over the non-missing sessions
    (NaN when a client has none).

    Example::

        >>> prep = prepare(sessions, session="session", within=True)
        >>> prep.report["clients"], prep.within.columns[-1]
        (330, 'tds_ga_within')
    """
    import pandas as pd
    if not isinstance(sessions, pd.DataFrame):
        raise DataError("prepare() needs a pandas DataFrame of session rows.")
    if len(sessions) == 0:
        raise DataError("The session data have no rows.")
    if session is None and "session" in sessions.columns and client != "session" \
            and therapist != "session":
        session = "session"
    ids = [c for c in (therapist, client, session) if c is not None]
    if len(set(ids)) != len(ids):
        raise DataError(f"The id columns must differ, but got {ids}.")
    for col in ids:
        _require_column(sessions, col, "id column")
    _check_ids(sessions, ids)

    frame = sessions
    key = frame[client]
    groups = frame.groupby(key, sort=False)
    if therapist is not None:
        _check_one_therapist(frame, client, therapist, groups)
    if session is not None:
        _check_unique_sessions(frame, client, session)

    s_vars, c_vars, left_out = _classify(frame, groups, ids, session_vars, client_vars,
                                         client)
    _check_constant(frame, client, c_vars, groups)
    numeric = [c for c in s_vars + c_vars if pd.api.types.is_numeric_dtype(frame[c])
               and not pd.api.types.is_bool_dtype(frame[c])]
    if numeric:
        from attachpath.data.checks import warn_missing_codes
        warn_missing_codes(frame[numeric].to_numpy(dtype=float), numeric)
    for name in [f"{v}_n" for v in s_vars] + ["n_sessions"]:
        if name in c_vars or name in s_vars or name in ids:
            already = frame.groupby(client, sort=False).size().max() == 1
            hint = (" The data have one row per client: are they already prepared "
                    "(client-level)? Then fit them directly; prepare takes session rows."
                    if already else " Rename it.")
            raise DataError(
                f"The column '{name}' would clash with a column prepare() creates.{hint}",
                column=name)

    # Aggregation: exactly pandas' groupby mean / count / size / first.
    means = groups[s_vars].mean() if s_vars else pd.DataFrame(index=groups.size().index)
    counts = groups[s_vars].count().add_suffix("_n") if s_vars else None
    parts = [means]
    if counts is not None:
        parts.append(counts)
    parts.append(groups.size().rename("n_sessions").to_frame())
    if c_vars:
        parts.append(groups[c_vars].first())
    out = pd.concat(parts, axis=1)
    out.index.name = client
    out = out.reset_index()
    if therapist is not None:
        out.insert(1, therapist, groups[therapist].first().to_numpy())
        out = out.sort_values([therapist, client], kind="stable")
    else:
        out = out.sort_values(client, kind="stable")
    out = out.reset_index(drop=True)

    within_frame = None
    if within:
        within_frame = _within(frame, ids, client, therapist, session, s_vars, groups)

    sizes = groups.size()
    report = {
        "rows": int(len(frame)),
        "clients": int(len(out)),
        "therapists": int(frame[therapist].nunique()) if therapist is not None else None,
        "sessions_per_client": {"min": int(sizes.min()), "median": float(sizes.median()),
                                "max": int(sizes.max())},
        "session_vars": list(s_vars),
        "client_vars": list(c_vars),
        "left_out": list(left_out),
        "missing_session_values": {v: int(frame[v].isna().sum()) for v in s_vars},
        "clients_without_sessions_for": {v: int((out[f"{v}_n"] == 0).sum()) for v in s_vars},
    }
    if therapist is not None:
        per = out.groupby(therapist, sort=False).size()
        report["clients_per_therapist"] = {"min": int(per.min()),
                                           "median": float(per.median()),
                                           "max": int(per.max())}
    return Prepared(clients=out, within=within_frame, report=report,
                    session_vars=tuple(s_vars), client_vars=tuple(c_vars))


# --------------------------------------------------------------------------- checks

def _require_column(frame: pd.DataFrame, col: str, what: str) -> None:
    if col not in frame.columns:
        hint = closest(col, [str(c) for c in frame.columns])
        msg = f"The {what} '{col}' is not in the data."
        if hint:
            msg += f" Did you mean '{hint}'?"
        raise DataError(msg, column=col)


def _check_ids(frame: pd.DataFrame, ids) -> None:
    for col in ids:
        miss = frame[col].isna().to_numpy()
        if miss.any():
            pos = int(np.flatnonzero(miss)[0])
            raise DataError(
                f"The id column '{col}' is missing at {row_name(frame, pos)}; every "
                f"session row needs its ids ({int(miss.sum())} rows lack '{col}').",
                column=col, row=frame.index[pos])


def _check_one_therapist(frame, client, therapist, groups) -> None:
    import pandas as pd
    n = groups[therapist].nunique()
    bad = n[n > 1]
    if len(bad):
        cid = bad.index[0]  # groups keep the order of first appearance
        seen = list(pd.unique(frame.loc[frame[client] == cid, therapist]))
        raise DataError(
            f"Client {show(cid)} is seen by more than one therapist ({', '.join(map(show, seen))}); "
            f"each client must belong to exactly one therapist. If client ids are only "
            f"unique within a therapist, combine the two ids into one client id.",
            column=therapist, value=cid)


def _check_unique_sessions(frame, client, session) -> None:
    dup = frame.duplicated([client, session]).to_numpy()
    if dup.any():
        pos = int(np.flatnonzero(dup)[0])
        raise DataError(
            f"Session {show(frame[session].iloc[pos])} of client {show(frame[client].iloc[pos])} "
            f"appears more than once (again at {row_name(frame, pos)}).",
            column=session, row=frame.index[pos])


def _classify(frame, groups, ids, session_vars, client_vars, client):
    """Split the non-id columns into session-level, client-level and left-out ones."""
    import pandas as pd
    for listed, what in ((session_vars, "session-level variable"),
                         (client_vars, "client-level variable")):
        for col in listed or ():
            _require_column(frame, col, what)
            if col in ids:
                raise DataError(f"'{col}' is an id column and cannot also be a {what}.",
                                column=col)
    if session_vars is not None and client_vars is not None:
        both = set(session_vars) & set(client_vars)
        if both:
            raise DataError(f"'{sorted(both)[0]}' is listed both as session-level and as "
                            f"client-level variable.", column=sorted(both)[0])
        s_vars, c_vars, left = list(dict.fromkeys(session_vars)), \
            list(dict.fromkeys(client_vars)), []
    else:
        listed = set(session_vars or ()) | set(client_vars or ())
        rest = [c for c in frame.columns if c not in ids and c not in listed]
        varies = groups[rest].nunique(dropna=True).gt(1).any(axis=0) if rest else {}
        inf_s, inf_c, odd = [], [], []
        for c in rest:
            if not varies[c]:
                inf_c.append(c)
            elif pd.api.types.is_numeric_dtype(frame[c]):
                inf_s.append(c)
            else:
                odd.append(c)
        if odd:
            warnings.warn(
                f"Non-numeric columns that vary within clients cannot be averaged and are "
                f"left out: {', '.join(map(str, odd))}.", DataWarning, stacklevel=3)
        if session_vars is None:
            _refuse_near_constant(frame, groups, inf_s, client)
        if session_vars is None and client_vars is None:
            s_vars, c_vars, left = inf_s, inf_c, odd
        elif session_vars is not None:
            s_vars, c_vars, left = list(dict.fromkeys(session_vars)), inf_c, inf_s + odd
        else:
            s_vars, c_vars, left = inf_s, list(dict.fromkeys(client_vars)), inf_c + odd
    order = {c: i for i, c in enumerate(frame.columns)}
    s_vars = sorted(s_vars, key=order.get) if session_vars is None else s_vars
    c_vars = sorted(c_vars, key=order.get) if client_vars is None else c_vars
    for c in s_vars:
        if not (pd.api.types.is_numeric_dtype(frame[c])):
            vals = frame[c].dropna()
            first = vals.iloc[0] if len(vals) else None
            raise DataError(f"The session-level variable '{c}' is not numeric (e.g. "
                            f"{show(first)}); only numeric columns can be averaged.",
                            column=c, value=first)
    return s_vars, c_vars, left


def _refuse_near_constant(frame, groups, cols, client) -> None:
    """Refuse an inferred session-level column that varies within only a few
    clients: most likely a client-level variable with an entry error."""
    import pandas as pd
    if not cols:
        return
    distinct = groups[cols].nunique(dropna=True)
    several = groups[cols].count().ge(2).sum(axis=0)
    for c in cols:
        varies = distinct[c].gt(1)
        n_vary = int(varies.sum())
        if n_vary == 0 or n_vary > NEAR_CONSTANT_SHARE * int(several[c]):
            continue
        shown = []
        for cid in varies.index[varies.to_numpy()][:5]:
            vals = pd.unique(frame.loc[(frame[client] == cid).to_numpy(), c].dropna())
            shown.append(f"client {show(cid)} ({', '.join(map(show, vals[:4]))})")
        more = f" and {n_vary - 5} more" if n_vary > 5 else ""
        raise DataError(
            f"The variable '{c}' is constant within {int(several[c]) - n_vary} of the "
            f"{int(several[c])} clients with several values but varies within "
            f"{n_vary}: {'; '.join(shown)}{more}. It looks like a client-level variable "
            f"with an entry error; correct those rows. If '{c}' is measured per session, "
            f"declare it session-level with --session-vars (session_vars= in Python), "
            f"listing every session-level variable.", column=c)


def _check_constant(frame, client, c_vars, groups) -> None:
    if not c_vars:
        return
    n = groups[c_vars].nunique(dropna=True)
    bad = n.gt(1)
    if not bad.to_numpy().any():
        return
    cid = bad.index[bad.any(axis=1).to_numpy()][0]
    var = [c for c in c_vars if bad.loc[cid, c]][0]
    rows = np.flatnonzero((frame[client] == cid).to_numpy())
    vals = frame[var].iloc[rows]
    keep = vals.notna().to_numpy()
    rows, vals = rows[keep], vals[keep]
    first = vals.iloc[0]
    other_at = int(np.flatnonzero((vals != first).to_numpy())[0])
    raise DataError(
        f"The client-level variable '{var}' is not constant within client {show(cid)}: it is "
        f"{show(first)} at {row_name(frame, int(rows[0]))} but {show(vals.iloc[other_at])} at "
        f"{row_name(frame, int(rows[other_at]))}. Client-level variables must have the "
        f"same value on every row of a client (missing values are ignored); if '{var}' "
        f"is measured per session, pass it in session_vars.",
        column=var, row=frame.index[rows[other_at]], value=vals.iloc[other_at])


def _within(frame, ids, client, therapist, session, s_vars, groups) -> pd.DataFrame:
    out = frame[ids].copy()
    for v in s_vars:
        out[f"{v}_within"] = frame[v] - groups[v].transform("mean")
    keys = [c for c in (therapist, client, session) if c is not None]
    return out.sort_values(keys, kind="stable").reset_index(drop=True)


# --------------------------------------------------------------------------- ESAT

#: The two ESAT scores: name -> (control variable partialled out of cats_secure).
ESAT = {"esat_anx": "cats_preoc", "esat_avoid": "cats_avoid"}


def esat_scores(frame: pd.DataFrame, level: str = "client", *,
                secure: str = "cats_secure", client: str = "client",
                preoccupied: str = "cats_preoc", avoidant: str = "cats_avoid") -> pd.DataFrame:
    """Add esat_anx and esat_avoid: CATS-Secure with a CATS scale partialled out.

    esat_anx is the residual of the OLS regression (with intercept) of
    `secure` on `preoccupied` (Preoccupied-Merger, default cats_preoc),
    esat_avoid the residual of `secure` on `avoidant` (Avoidant-Fearful,
    default cats_avoid); the three column names can be anything.  The regression uses the rows
    where both inputs are present; elsewhere the score is NaN.  Existing
    esat columns are replaced.  Returns a new DataFrame.

    level="client": `frame` is a client table (e.g. `prepare(...).clients`),
    so the regression is across clients on client means; a `client` column,
    if present, must not repeat.  level="session": `frame` holds session rows
    and the regression is on all session rows pooled (clients and sessions
    alike); average the result with `prepare` to get client means of
    session-level ESAT scores.  The two are different quantities (see
    docs/domain notes §1.5).

    Example::

        >>> clients = esat_scores(prepare(sessions).clients)
        >>> sess = esat_scores(sessions, level="session")
        >>> len(clients), len(sess)
        (330, 1955)
    """
    import pandas as pd
    if level not in ("client", "session"):
        raise DataError(f"level must be 'client' or 'session', not {show(level)}.")
    controls = {"esat_anx": preoccupied, "esat_avoid": avoidant}
    for col in (secure, *controls.values()):
        _require_column(frame, col, "CATS column")
        if not pd.api.types.is_numeric_dtype(frame[col]):
            raise DataError(f"The CATS column '{col}' is not numeric.", column=col)
    if level == "client" and client in frame.columns and frame[client].duplicated().any():
        dup = frame[client][frame[client].duplicated()].iloc[0]
        raise DataError(
            f"esat_scores(level='client') needs one row per client, but client {show(dup)} "
            f"has several rows; aggregate with prepare() first or use level='session'.",
            column=client, value=dup)
    out = frame.copy()
    y = frame[secure].to_numpy(dtype=float)
    for name, control in controls.items():
        out[name] = _residuals(y, frame[control].to_numpy(dtype=float), secure, control)
    return out


def _residuals(y: np.ndarray, x: np.ndarray, yname: str, xname: str) -> np.ndarray:
    """Residuals of y on (1, x) over the complete pairs; NaN elsewhere."""
    ok = np.isfinite(y) & np.isfinite(x)
    if ok.sum() < 3:
        raise DataError(f"Cannot partial '{xname}' out of '{yname}': fewer than 3 rows "
                        f"have both.", column=xname)
    xc = x[ok] - x[ok].mean()
    sxx = float(xc @ xc)
    if sxx == 0.0:
        raise DataError(f"Cannot partial '{xname}' out of '{yname}': '{xname}' is "
                        f"constant.", column=xname)
    yc = y[ok] - y[ok].mean()
    slope = float(xc @ yc) / sxx
    res = np.full(y.shape, np.nan)
    res[ok] = yc - slope * xc
    return res
