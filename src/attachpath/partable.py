"""The parameter table: the one representation of a model.

`build(statements)` turns the parser's statements into a ParTable the way
lavaan's `sem()` does (its `lavaanify(auto = TRUE)` defaults):

* residual variances of every observed non-covariate variable and variances
  of every latent variable are added, free;
* the first loading of each latent variable is fixed to 1 (unless written
  with NA* or another modifier);
* covariances among exogenous latent variables are added, free;
* residual covariances among the "pure" endogenous variables (regressed on
  something, predicting nothing, measured by nothing: lavaan's ov.y and
  lv.y) are added, free (auto.cov.y);
* the variances and covariances of observed exogenous covariates (lavaan's
  ov.x) are fixed at their sample values (fixed.x) and are not parameters;
* with a mean structure, intercepts of observed variables are free, latent
  means are fixed to 0 and covariate means are fixed at the sample means
  (lavaan's growth() turns the first two round: model_type="growth").

Two of lavaan's options change these defaults: `std_lv` (std.lv = TRUE)
fixes every latent (residual) variance at 1 and frees the first loadings;
`orthogonal` (orthogonal = TRUE) fixes the default covariances among latent
variables at 0 (the rows stay in the table, fixed, as in lavaan).

`==` constraints become shared or fixed parameters; inequalities (`a > 0`,
`a < b`) are kept on the table (`inequalities`) for estimate/inequality.py.

Every module (estimator, effects, diagram, comparison) reads variable roles
from here and nowhere else.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from functools import cached_property

from .errors import ModelError, SpecError, closest
from .syntax.statement import Statement

NAN = float("nan")
MODEL_TYPES = ("sem", "growth")


@dataclass(frozen=True)
class Param:
    """One row of the parameter table (lavaan's partable, one group)."""

    id: int
    lhs: str
    op: str
    rhs: str
    label: str = ""
    free: int = 0          # 0: fixed; k > 0: position k in the free vector θ
    value: float = NAN     # the fixed value (NaN while free or set from data)
    start: float = NAN     # a user start value
    user: int = 1          # 1: written in the spec; 0: added by default
    exo: int = 0           # 1: a fixed.x covariate moment, taken from the sample
    line: int = 0
    col: int = 0
    block: int = 1         # lavaan's block: the level (1, 2) of a two-level model; 0 for :=
    level: str = ""        # the `level:` label as written ("" in single-level models)

    @property
    def is_free(self) -> bool:
        return self.free > 0

    @property
    def name(self) -> str:
        """lavaan-style name: 'y~x', 'f=~x1', 'a~~b', 'y~1', or the := name."""
        if self.op == ":=":
            return self.lhs
        if self.op == "~1":
            return f"{self.lhs}~1"
        return f"{self.lhs}{self.op}{self.rhs}"


@dataclass(frozen=True)
class Inequality:
    """An inequality constraint `a > b` (or `a < b`, stored turned round as
    `b > a`): `high` must not fall below `low`.  Each side is a label of a
    free parameter or a number."""

    high: str
    low: str
    text: str            # as written, e.g. "a < b"
    line: int = 0
    col: int = 0
    source: str = ""


@dataclass(frozen=True)
class BlockVars:
    """The variables of one block, in lavaan's ov/lv order."""

    observed: tuple[str, ...]
    latent: tuple[str, ...]
    covariates: tuple[str, ...]


@dataclass(frozen=True)
class ParTable:
    """The model: parameter rows plus the variable roles derived from them."""

    rows: tuple[Param, ...]
    observed: tuple[str, ...]      # lavaan's ov order: indicators, y, x, others
    latent: tuple[str, ...]
    covariates: tuple[str, ...]    # ov.x: fixed.x exogenous observed variables
    meanstructure: bool
    text: str = ""
    file: str | None = None
    notes: tuple[str, ...] = field(default=())
    levels: tuple[str, ...] = ()      # the `level:` labels (two-level models)
    blocks: tuple[BlockVars, ...] = ()   # per level: its variables
    n_free: int | None = None         # npar of the whole model (for one block's table)
    inequalities: tuple[Inequality, ...] = ()   # `a > 0`, `a < b` (estimate/inequality.py)

    def __hash__(self) -> int:
        # Tables key several lru caches (RAM layout, closed-form plan, ...);
        # rehashing every row at each lookup cost more than the cached work.
        h = self.__dict__.get("_hash")
        if h is None:
            h = hash((self.rows, self.observed, self.latent, self.covariates,
                      self.meanstructure, self.text, self.file, self.notes,
                      self.levels, self.blocks, self.n_free, self.inequalities))
            self.__dict__["_hash"] = h
        return h

    def __getstate__(self) -> dict:
        # string hashes differ between processes: never ship a cached one
        return {k: v for k, v in self.__dict__.items() if k != "_hash"}

    # -- views -------------------------------------------------------------
    @property
    def npar(self) -> int:
        """Number of free parameters (shared labels count once)."""
        if self.n_free is not None:
            return self.n_free
        return max((r.free for r in self.rows), default=0)

    @property
    def multilevel(self) -> bool:
        return bool(self.levels)

    def block(self, b: int) -> "ParTable":
        """The single-level table of block b (1-based) of a two-level model:
        its rows, variables and the whole model's free numbering, so its RAM
        layout maps into the shared θ."""
        vars_b = self.blocks[b - 1]
        rows = tuple(r for r in self.rows if r.block == b)
        return ParTable(rows=rows, observed=vars_b.observed, latent=vars_b.latent,
                        covariates=vars_b.covariates, meanstructure=True,
                        text=self.text, file=self.file, n_free=self.npar)

    @cached_property
    def variable_levels(self) -> dict[str, str]:
        """Two-level models: each observed variable's role, as lavaan derives
        it: "within" (level 1 only), "between" (level 2 only) or "both"."""
        if not self.levels:
            return {}
        w, b = set(self.blocks[0].observed), set(self.blocks[1].observed)
        return {v: "both" if v in w and v in b else "within" if v in w else "between"
                for v in self.observed}

    @property
    def variables(self) -> tuple[str, ...]:
        """Observed then latent: the order of the model matrices."""
        return self.observed + self.latent

    def model_rows(self) -> tuple[Param, ...]:
        """Rows that live in the model matrices (not := or constraints)."""
        return tuple(r for r in self.rows if r.op in ("~", "=~", "~~", "~1"))

    def defined(self) -> tuple[Param, ...]:
        return tuple(r for r in self.rows if r.op == ":=")

    @cached_property
    def free_names(self) -> tuple[str, ...]:
        """A name per free parameter: its label if it has one, else lhs-op-rhs."""
        names: dict[int, str] = {}
        for r in self.rows:
            if r.free and r.free not in names:
                # lavaan names a level-2 parameter 'y~x.l2'
                suffix = f".l{r.block}" if self.levels and r.block > 1 else ""
                names[r.free] = r.label or r.name + suffix
        return tuple(names[k] for k in range(1, self.npar + 1))

    @cached_property
    def label_index(self) -> dict[str, int]:
        """label -> 0-based position in θ (for := expressions)."""
        out: dict[str, int] = {}
        for r in self.rows:
            if r.label and r.free:
                out[r.label] = r.free - 1
        return out

    @cached_property
    def label_fixed(self) -> dict[str, float]:
        """label -> value for labelled parameters that are fixed."""
        return {r.label: r.value for r in self.rows
                if r.label and not r.free and r.op in ("~", "=~", "~~", "~1")}

    @cached_property
    def endogenous(self) -> tuple[str, ...]:
        """Variables with a residual: regressed on something or an indicator."""
        ys = {r.lhs for r in self.rows if r.op == "~"}
        ys |= {r.rhs for r in self.rows if r.op == "=~"}
        return tuple(v for v in self.variables if v in ys)

    @cached_property
    def stages(self) -> dict[str, int]:
        """Causal stage (column) of every variable; see causal_stages."""
        return causal_stages(self, self.variables)

    @cached_property
    def is_recursive(self) -> bool:
        """No directed cycle among regressions and loadings (Kahn's
        topological sort; networkx's import alone cost 0.3 s per command)."""
        edges = [(r.rhs, r.lhs) for r in self.rows if r.op == "~"]
        edges += [(r.lhs, r.rhs) for r in self.rows if r.op == "=~"]
        indegree = {v: 0 for v in self.variables}
        children: dict[str, list[str]] = {v: [] for v in self.variables}
        for a, b in edges:
            children.setdefault(a, []).append(b)
            indegree[b] = indegree.get(b, 0) + 1
            indegree.setdefault(a, 0)
        ready = [v for v, d in indegree.items() if d == 0]
        seen = 0
        while ready:
            v = ready.pop()
            seen += 1
            for w in children.get(v, ()):
                indegree[w] -= 1
                if indegree[w] == 0:
                    ready.append(w)
        return seen == len(indegree)

    def to_frame(self):
        """The table as a pandas DataFrame (lavaan's parTable layout)."""
        import pandas as pd
        return pd.DataFrame([r.__dict__ for r in self.rows])

    def with_exo_values(self, values: dict[tuple[str, str, str], float]) -> "ParTable":
        """A copy whose fixed.x rows hold the given sample moments."""
        rows = tuple(replace(r, value=values[(r.lhs, r.op, r.rhs)]) if r.exo else r
                     for r in self.rows)
        return replace(self, rows=rows)


def causal_stages(pt: ParTable, variables, overrides: dict | None = None) -> dict[str, int]:
    """Stage of each of `variables` in the causal sequence (see
    stages_from_causes); causes are regressions and loadings between the
    listed variables (e.g. second-order factors).  The diagrams lay variables
    out in these columns (ECR -> CATS -> TDS -> IIP)."""
    causes: dict[str, set[str]] = {v: set() for v in variables}
    for r in pt.rows:
        if r.op == "~" and r.lhs in causes and r.rhs in causes:
            causes[r.lhs].add(r.rhs)
        elif r.op == "=~" and r.lhs in causes and r.rhs in causes:
            causes[r.rhs].add(r.lhs)
    return stages_from_causes(causes, overrides)


def stages_from_causes(causes: dict, overrides: dict | None = None) -> dict[str, int]:
    """Stage of each variable: the override where one is given, else one past
    its latest cause; a feedback loop stops the climb; stages that no
    variable occupies are closed up."""
    overrides = overrides or {}
    stage: dict[str, int] = {}

    def visit(v, trail):
        if v in stage:
            return stage[v]
        if v in overrides:
            stage[v] = overrides[v]
            return stage[v]
        if v in trail:          # a feedback loop: stop climbing
            return 0
        s = 0
        for c in sorted(causes[v]):
            s = max(s, visit(c, trail | {v}) + 1)
        stage[v] = s
        return s

    for v in causes:
        visit(v, frozenset())
    compact = {r: i for i, r in enumerate(sorted(set(stage.values())))}
    return {v: compact[stage[v]] for v in causes}


# -- building ----------------------------------------------------------------

def _ordered_unique(items) -> list[str]:
    seen: dict[str, None] = {}
    for it in items:
        seen.setdefault(it, None)
    return list(seen)


def _roles(stmts: list[Statement]):
    latent = _ordered_unique(s.lhs for s in stmts if s.op == "=~")
    indicators = _ordered_unique(s.rhs for s in stmts if s.op == "=~")
    eqs_y = _ordered_unique(s.lhs for s in stmts if s.op == "~")
    eqs_x = _ordered_unique(s.rhs for s in stmts if s.op == "~")
    lat = set(latent)
    ov_ind = [v for v in indicators if v not in lat]
    ov_y = [v for v in eqs_y if v not in lat and v not in ov_ind]
    ov_x = [v for v in eqs_x if v not in lat and v not in ov_ind and v not in ov_y]
    orphans = _ordered_unique(
        [v for s in stmts if s.op == "~~" for v in (s.lhs, s.rhs)]
        + [s.lhs for s in stmts if s.op == "~1"])
    observed = _ordered_unique(ov_ind + ov_y + ov_x + [v for v in orphans if v not in lat])
    # a covariate mentioned in a ~~ or ~1 statement becomes random (lavaan warns)
    mentioned = {v for s in stmts if s.op in ("~~",) for v in (s.lhs, s.rhs)}
    mentioned |= {s.lhs for s in stmts if s.op == "~1"}
    random_x = [v for v in ov_x if v in mentioned]
    ov_x = [v for v in ov_x if v not in mentioned]
    ind_set, y_set, x_set = set(indicators), set(eqs_y), set(eqs_x)
    lv_x = [v for v in latent if v not in ind_set and v not in y_set]
    pure_y = [v for v in eqs_y if v not in ind_set and v not in x_set]
    lv_y = [v for v in pure_y if v in lat]
    ov_y_pure = [v for v in observed if v in pure_y]
    return latent, observed, ov_x, lv_x, lv_y, ov_y_pure, random_x


def build(statements, *, meanstructure: bool = False, text: str = "",
          file: str | None = None, std_lv: bool = False,
          orthogonal: bool = False, model_type: str = "sem") -> ParTable:
    """Build lavaan sem()'s parameter table from parsed statements.

    `meanstructure` adds intercept rows (lavaan does this when the spec has a
    `~1` statement or the data are clustered).  `std_lv` and `orthogonal`
    are lavaan's options of those names (see the module docstring); the
    user's modifiers (`1*x1`, `NA*f`) still win over them, as in lavaan.
    `model_type` "growth" is lavaan's growth(): a mean structure whose
    default observed intercepts are fixed at 0 and latent means are free.
    """
    if model_type not in MODEL_TYPES:
        raise ModelError(f"model_type must be one of {', '.join(MODEL_TYPES)}, not "
                         f"{model_type!r}.")
    growth = model_type == "growth"
    stmts = list(statements)
    per_group = next((s for s in stmts if s.per_group), None)
    if per_group is not None:
        # one value per group is meaningless in one group; multigroup.group_tables
        # builds each group's table from Statement.in_group
        raise SpecError(f"The c(...) modifier of '{per_group.lhs} {per_group.op} "
                        f"{per_group.rhs}' gives one value per group, but this is a "
                        f"single-group fit; fit a multiple-group model (--group COL, "
                        f"group=) or write one value.", file=file, line=per_group.line,
                        col=per_group.col, source_line=per_group.source)
    model = [s for s in stmts if s.op in ("=~", "~", "~~", "~1")]
    if not model:
        raise SpecError("The spec has no model statements (=~, ~, ~~ or ~1); "
                        "write at least one regression, loading or covariance.",
                        file=file)
    levels = _ordered_unique(s.level for s in model if s.level)
    meanstructure = (meanstructure or growth or bool(levels)
                     or any(s.op == "~1" for s in model))
    blocks: list[BlockVars] = []
    table: list[dict] = []
    notes: list[str] = []
    for b, level in enumerate(levels or [""], start=1):
        stmts_b = [s for s in model if s.level == level]
        rows_b, vars_b, notes_b = _block_table(stmts_b, meanstructure, file, std_lv,
                                               orthogonal, growth)
        for row in rows_b:
            row["block"], row["level"] = b, level
        blocks.append(vars_b)
        table += rows_b
        notes += notes_b
    if levels:
        notes += _two_level_defaults(table, blocks, file)
    inequalities: list[Inequality] = []
    group = _apply_constraints(stmts, table, file, inequalities)

    # number the free parameters; shared labels (and labels made equal by
    # `==`) share a number
    index: dict[str, int] = {}
    k = 0
    for row in table:
        if not row["free"]:
            row["free"] = 0
            continue
        key = group.get(row["label"], row["label"])
        if key and key in index:
            row["free"] = index[key]
            continue
        k += 1
        row["free"] = k
        if key:
            index[key] = k
    _check_shared_fixed(table, stmts, file, group)

    params = [Param(id=i + 1, **row) for i, row in enumerate(table)]
    n = len(params)
    for s in stmts:
        if s.op == ":=":
            params.append(Param(id=n + 1, lhs=s.lhs, op=":=", rhs=s.rhs,
                                label=s.lhs, line=s.line, col=s.col, block=0))
            n += 1
    if not levels:
        only = blocks[0]
        return ParTable(rows=tuple(params), observed=only.observed, latent=only.latent,
                        covariates=only.covariates, meanstructure=meanstructure,
                        text=text, file=file, notes=tuple(notes),
                        inequalities=tuple(inequalities))
    if inequalities:
        first = inequalities[0]
        raise SpecError(f"Inequality constraints ('{first.text}') are not available in "
                        f"two-level models yet; remove the line or fix the parameter.",
                        file=file, line=first.line, col=first.col,
                        source_line=first.source)
    union = (lambda attr: tuple(_ordered_unique(v for b in blocks for v in getattr(b, attr))))
    return ParTable(rows=tuple(params), observed=union("observed"), latent=union("latent"),
                    covariates=union("covariates"), meanstructure=True, text=text,
                    file=file, notes=tuple(notes), levels=tuple(levels),
                    blocks=tuple(blocks))


def _two_level_defaults(table: list[dict], blocks: list["BlockVars"], file) -> list[str]:
    """lavaan's two-level defaults, and one deliberate difference.

    A variable observed at both levels has its mean in the between part, so
    its level-1 intercept is fixed at 0.  A variable that is a covariate
    (fixed.x) at one level but an outcome at the other cannot have fixed
    moments: its distribution is modelled at the other level.  lavaan keeps
    it fixed and zeroes its rows in the MLR meat (wrong SEs, see
    ../shared/notes/multilevel.md §1.6); attachpath frees its moments, as
    lavaan's fixed.x = FALSE does (same estimates).  Changes `blocks` in place
    and returns notes."""
    both = set(blocks[0].observed) & set(blocks[1].observed)
    x1, x2 = set(blocks[0].covariates), set(blocks[1].covariates)
    mixed = {v for v in both if (v in x1) != (v in x2)}
    for row in table:
        if row["block"] == 1 and row["op"] == "~1" and row["lhs"] in both and not row["user"]:
            row["free"], row["value"], row["exo"] = False, 0.0, 0
        elif row["exo"] and (row["lhs"] in mixed or row["rhs"] in mixed):
            row["free"], row["exo"] = True, 0
    for b, vars_b in enumerate(blocks):
        blocks[b] = BlockVars(vars_b.observed, vars_b.latent,
                              tuple(v for v in vars_b.covariates if v not in mixed))
    return [f"'{v}' is a covariate at one level and an outcome at the other, so its "
            f"variance and covariances are estimated at both levels (lavaan's "
            f"fixed.x = FALSE for this variable)." for v in sorted(mixed)]


def _block_table(model: list[Statement], meanstructure: bool, file, std_lv: bool = False,
                 orthogonal: bool = False, growth: bool = False):
    """The rows of one block (the whole model, or one `level:`) with lavaan's
    defaults, as dicts; the block's variable roles; notes."""
    latent, observed, ov_x, lv_x, lv_y, ov_y, random_x = _roles(model)
    notes = tuple(
        f"'{v}' is a predictor but also has a variance, covariance or intercept "
        f"in the spec, so it is treated as a random variable, not a fixed covariate."
        for v in random_x)
    lat = set(latent)
    for s in model:
        if s.op in ("~", "=~") and s.lhs == s.rhs:
            what = "regressed on itself" if s.op == "~" else "its own indicator"
            raise SpecError(f"'{s.lhs}' is {what} ('{s.lhs} {s.op} {s.rhs}'); a "
                            f"variable cannot cause or measure itself. Remove the "
                            f"term or name another variable.",
                            file=file, line=s.line, col=s.col, source_line=s.source)
        if s.op == "~~" and s.lhs == s.rhs and s.fixed is not None and s.fixed < 0:
            raise SpecError(f"The variance of '{s.lhs}' is fixed at {s.fixed:g}; a "
                            f"variance cannot be negative. Fix it at a positive value "
                            f"or leave it free.",
                            file=file, line=s.line, col=s.col, source_line=s.source)
        if s.op == "=~" and s.lhs in observed:
            raise SpecError(f"'{s.lhs}' is measured by indicators (=~) but is also "
                            f"used as an observed variable; a latent variable "
                            f"needs a name that is not a data column.",
                            file=file, line=s.line, col=s.col, source_line=s.source)

    # user rows: (lhs, op, rhs) -> statement; the lavaan orientation of "~~"
    user: dict[tuple[str, str, str], Statement] = {}
    for s in model:
        key = (s.lhs, s.op, s.rhs)
        if s.op == "~~" and (s.rhs, s.op, s.lhs) in user:
            key = (s.rhs, s.op, s.lhs)
        user[key] = s

    x_set = set(ov_x)
    nox = [v for v in observed if v not in x_set]
    defaults: list[tuple[str, str, str]] = []
    defaults += [(v, "~~", v) for v in nox + latent]
    defaults += [(a, "~~", b) for i, a in enumerate(lv_x) for b in lv_x[i + 1:]]
    ys = lv_y + ov_y
    defaults += [(a, "~~", b) for i, a in enumerate(ys) for b in ys[i + 1:]]
    defaults += [(ov_x[i], "~~", ov_x[j]) for i in range(len(ov_x)) for j in range(i, len(ov_x))]
    if meanstructure:
        defaults += [(v, "~1", "") for v in observed + latent]

    def present(key):
        lhs, op, rhs = key
        return key in user or (op == "~~" and (rhs, op, lhs) in user)

    rows: list[dict] = []
    for key, s in user.items():
        rows.append(dict(lhs=key[0], op=key[1], rhs=key[2], user=1, stmt=s))
    for key in defaults:
        if not present(key):
            rows.append(dict(lhs=key[0], op=key[1], rhs=key[2], user=0, stmt=None))

    # free/fixed as lavaan's auto defaults say, then the user's modifiers
    first_loading: set[int] = set()
    seen_lv: set[str] = set()
    for i, r in enumerate(rows):
        if r["op"] == "=~" and r["lhs"] not in seen_lv:
            seen_lv.add(r["lhs"])
            first_loading.add(i)
    single = {lv for lv in latent
              if sum(1 for r in rows if r["op"] == "=~" and r["lhs"] == lv) == 1}
    # a factor with one indicator is that indicator: its residual is fixed to 0
    single_ind = {r["rhs"] for r in rows if r["op"] == "=~" and r["lhs"] in single}

    table: list[dict] = []
    for i, r in enumerate(rows):
        s: Statement | None = r["stmt"]
        free, value, exo = True, NAN, 0
        lhs, op, rhs = r["lhs"], r["op"], r["rhs"]
        if op == "=~" and i in first_loading and not std_lv:
            free, value = False, 1.0
        if std_lv and op == "~~" and lhs == rhs and lhs in lat:
            free, value = False, 1.0
        if (orthogonal and op == "~~" and lhs != rhs and lhs in lat and rhs in lat
                and not r["user"]):
            free, value = False, 0.0
        if op == "~~" and not r["user"] and lhs == rhs and lhs in single_ind:
            free, value = False, 0.0
        if op == "~1" and not r["user"] and (lhs in lat) != growth:
            # sem(): latent means 0, observed intercepts free; growth(): the
            # other way round (lavaan's int.lv.free / int.ov.free)
            free, value = False, 0.0
        if lhs in x_set and (op == "~1" or (op == "~~" and rhs in x_set)) and not r["user"]:
            free, exo = False, 1
        label, start = "", NAN
        if s is not None:
            if s.fixed is not None:
                free, value = False, float(s.fixed)
            elif s.free:
                free, value = True, NAN
            label = s.label or ""
            start = NAN if s.start is None else float(s.start)
        table.append(dict(lhs=lhs, op=op, rhs=rhs, label=label, free=free,
                          value=value, start=start, user=r["user"], exo=exo,
                          line=s.line if s else 0, col=s.col if s else 0))

    return table, BlockVars(tuple(observed), tuple(latent), tuple(ov_x)), list(notes)


def _label_rows(table, label):
    return [row for row in table if row["label"] == label]


def _apply_constraints(stmts, table, file, inequalities=None) -> dict[str, str]:
    """Fold `==` constraints into the table: label == label shares one
    parameter, label == number fixes it.  Inequalities (`a > 0`, `a < b`,
    each side a label or a number) are appended to `inequalities`; other
    constraints are refused.

    Rows keep the labels they were written with (as in lavaan, where the
    standardized value of each label is that of its own first row); the
    returned map sends every label to the one label of its equality group."""
    group: dict[str, str] = {}

    def root(label: str) -> str:
        while label in group:
            label = group[label]
        return label

    for s in stmts:
        if s.op not in ("==", "<", ">"):
            continue
        labels = {row["label"] for row in table if row["label"]}
        lhs, rhs = s.lhs.strip(), s.rhs.strip()
        if s.op != "==":
            _inequality(s, lhs, rhs, labels, file, inequalities)
            continue
        if lhs in labels and rhs in labels:
            if root(rhs) != root(lhs):
                group[root(rhs)] = root(lhs)
            continue
        for name, other in ((lhs, rhs), (rhs, lhs)):
            if name in labels and _is_number(other):
                for row in table:
                    if row["label"] and root(row["label"]) == root(name):
                        row["free"], row["value"] = False, float(other)
                break
        else:
            bad = lhs if lhs not in labels and not _is_number(lhs) else rhs
            hint = closest(bad, labels) if not _is_number(bad) else None
            raise SpecError(f"Only constraints of the form 'label == label' or "
                            f"'label == number' are supported; '{s.lhs} == {s.rhs}' "
                            f"is not (is '{bad}' a label defined in the spec?).",
                            file=file, line=s.line, col=s.col, source_line=s.source,
                            suggestion=hint)
    return {row["label"]: root(row["label"]) for row in table if row["label"]}


def _inequality(s, lhs, rhs, labels, file, out) -> None:
    """Check `lhs < rhs` / `lhs > rhs` and append it to `out` as high > low."""
    for side in (lhs, rhs):
        if side not in labels and not _is_number(side):
            hint = closest(side, labels) if side.isidentifier() else None
            raise SpecError(f"Inequality constraints take a label or a number on each "
                            f"side ('a > 0', 'a < b'); '{side}' in '{s.lhs} {s.op} "
                            f"{s.rhs}' is neither a label defined in the spec nor a "
                            f"number.", file=file, line=s.line, col=s.col,
                            source_line=s.source, suggestion=hint)
    if _is_number(lhs) and _is_number(rhs):
        raise SpecError(f"The constraint '{s.lhs} {s.op} {s.rhs}' names no parameter; "
                        f"write a label on at least one side.", file=file, line=s.line,
                        col=s.col, source_line=s.source)
    high, low = (lhs, rhs) if s.op == ">" else (rhs, lhs)
    if out is not None:
        out.append(Inequality(high, low, f"{s.lhs} {s.op} {s.rhs}", s.line, s.col,
                              s.source))


def _is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def _check_shared_fixed(table, stmts, file, group) -> None:
    """A label (or a group of labels made equal) on a fixed and a free
    parameter at once is ambiguous."""
    by_label: dict[str, set[bool]] = {}
    for row in table:
        if row["label"]:
            by_label.setdefault(group[row["label"]], set()).add(bool(row["free"]))
    for label, kinds in by_label.items():
        if len(kinds) > 1:
            where = next((s for s in stmts if s.label == label), None)
            raise SpecError(f"The label '{label}' is on a fixed and on a free "
                            f"parameter; give the fixed one its own label or fix both.",
                            file=file, line=where.line if where else 0,
                            col=where.col if where else 0,
                            source_line=where.source if where else "")


def moment_counts(pt: ParTable) -> tuple[int, int]:
    """(sample moments, fixed covariate moments) as lavaan counts them; the
    model's df is their difference less npar.  Two-level: the within and
    between covariances plus one mean per variable; a covariate's fixed
    moments per level (a level-1 mean only for a within-only covariate)."""
    if not pt.levels:
        p, q = len(pt.observed), len(pt.covariates)
        data = p * (p + 1) // 2 + (p if pt.meanstructure else 0)
        fixed = q * (q + 1) // 2 + (q if pt.meanstructure else 0)
        return data, fixed
    roles = pt.variable_levels
    data = len(pt.observed)
    fixed = 0
    for b, vars_b in enumerate(pt.blocks, start=1):
        p, q = len(vars_b.observed), len(vars_b.covariates)
        data += p * (p + 1) // 2
        fixed += q * (q + 1) // 2
        fixed += sum(1 for v in vars_b.covariates if b == 2 or roles[v] == "within")
    return data, fixed


def check_identification(pt: ParTable) -> None:
    """Refuse models that cannot be identified by counting alone (and
    latent variables without a scale), naming what is wrong."""
    where = f"{pt.file}: " if pt.file else ""
    for lv in pt.latent:
        scaled = any(r.op == "=~" and r.lhs == lv and not r.free and r.value != 0
                     for r in pt.rows) or any(
            r.op == "~~" and r.lhs == lv and r.rhs == lv and not r.free for r in pt.rows)
        if not scaled:
            first = next((r for r in pt.rows if r.op == "=~" and r.lhs == lv), None)
            example = f"'{lv} =~ 1*{first.rhs} + ...'" if first else f"'{lv} ~~ 1*{lv}'"
            raise ModelError(f"{where}The latent variable '{lv}' has no scale: every "
                             f"loading is free and its variance is free. Fix one loading "
                             f"(as in {example}) or its variance ('{lv} ~~ 1*{lv}').")
    data, fixed = moment_counts(pt)
    moments = data - fixed
    if pt.npar > moments:
        hints = []
        for lv in pt.latent:
            n_ind = sum(1 for r in pt.rows if r.op == "=~" and r.lhs == lv)
            related = any(r.op in ("~", "~~") and lv in (r.lhs, r.rhs) and r.lhs != r.rhs
                          for r in pt.rows)
            if n_ind < 3 and not related:
                hints.append(f"'{lv}' has only {n_ind} indicator(s) and no relation to "
                             f"another variable (a factor on its own needs 3 indicators, "
                             f"or fix its loadings)")
        hint = (" " + "; ".join(hints) + ".") if hints else ""
        raise ModelError(
            f"{where}The model has {pt.npar} free parameters but the data give only "
            f"{moments} means, variances and covariances to estimate them from "
            f"(df = {moments - pt.npar}); it is not identified. Fix or remove at least "
            f"{pt.npar - moments} parameter(s).{hint}")
