"""The two sides of `=~`, `~` and `~~`: names, and terms with modifiers.

A right-hand side is terms joined by `+`; a term is modifiers joined to a
variable by `*` (`a*start(0.3)*x`).  A left-hand side is bare names joined
by `+`.  Every error points at the token that breaks the rule.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from attachpath.syntax import lexer as lx
from attachpath.syntax.lexer import Source, Token

NOT_YET = "is lavaan syntax attachpath does not support yet"

# Modifiers lavaan knows and attachpath does not: reject them by name so the
# user learns the model needs lavaan, not that they made a typo.
UNSUPPORTED_MODIFIERS = {
    "efa": 'An efa("...") modifier (exploratory factor blocks)',
    "equal": "An equal(...) modifier",
    "lower": "A lower(...) bound",
    "upper": "An upper(...) bound",
    "prior": "A prior(...) modifier",
    "rv": "An rv(...) modifier (random slopes)",
}

_MODIFIER_HELP = ("a modifier is a label (a*x), a fixed value (0.5*x), NA*x, "
                  "start(0.3)*x, label(\"a\")*x or one of these per group, "
                  "c(a1, a2)*x")


@dataclass
class Term:
    """One variable of a right-hand side (or `1`) with its modifiers."""

    name: str
    token: Token
    label: str | None = None
    fixed: float | None = None
    free: bool = False
    start: float | None = None
    # lavaan's c() modifiers: one element per group (multiple-group models);
    # a label None means no label, a fixed value None means free (NA)
    group_label: tuple | None = None
    group_fixed: tuple | None = None
    group_start: tuple | None = None

    @property
    def intercept(self) -> bool:
        return self.token.kind == lx.NUMBER


def join_tokens(tokens: list[Token]) -> tuple[str, list[int]]:
    """Tokens as compact text (lavaan drops all spaces), and where each starts.

    A space stays between two adjacent words so `a b` does not become `ab`.
    """
    words = (lx.NAME, lx.NUMBER, lx.STRING)
    text, starts = "", []
    for k, tok in enumerate(tokens):
        if k and tokens[k - 1].kind in words and tok.kind in words:
            text += " "
        starts.append(len(text))
        text += tok.text
    return text, starts


def text_of(tokens: list[Token]) -> str:
    return join_tokens(tokens)[0]


def split_top(tokens: list[Token], kind: str) -> tuple[list[list[Token]], list[Token]]:
    """Split at `kind` tokens outside parentheses: (parts, separators)."""
    parts: list[list[Token]] = [[]]
    seps: list[Token] = []
    depth = 0
    for tok in tokens:
        depth += (tok.kind == lx.LPAREN) - (tok.kind == lx.RPAREN)
        if tok.kind == kind and depth == 0:
            parts.append([])
            seps.append(tok)
        else:
            parts[-1].append(tok)
    return parts, seps


def _check_no_empty(src: Source, parts, seps, what: str) -> None:
    for i, part in enumerate(parts):
        if part:
            continue
        if i == len(parts) - 1:
            raise src.error(f"This '{seps[-1].text}' has nothing after it; "
                            f"add {what} after it or remove it.", seps[-1])
        if i == 0:
            raise src.error(f"This '{seps[0].text}' has nothing before it; "
                            f"add {what} before it or remove it.", seps[0])
        raise src.error(f"There is nothing between this '{seps[i].text}' and "
                        f"the one before it; remove one of them.", seps[i])


def unsupported(src: Source, what: str, tok: Token, text: str | None = None):
    return src.error(f"{what} {NOT_YET}; remove it, or fit this model in "
                     f"lavaan.", tok, text)


def _check_interaction(src: Source, tokens: list[Token]) -> None:
    for k, tok in enumerate(tokens):
        if tok.kind == lx.COLON:
            shown = text_of(tokens[max(k - 1, 0):k + 2])
            raise unsupported(src, f"The interaction term '{shown}'", tok, shown)


def parse_lhs(src: Source, tokens: list[Token], op: Token) -> list[Token]:
    """The names on the left of `op`, as NAME tokens."""
    if not tokens:
        raise src.error(f"'{op.text}' has nothing on its left; write a variable "
                        f"name before it, as in 'y {op.text} x'.", op)
    parts, seps = split_top(tokens, lx.PLUS)
    _check_no_empty(src, parts, seps, "a variable name")
    names: list[Token] = []
    for part in parts:
        _check_interaction(src, part)
        factors, _ = split_top(part, lx.STAR)
        if len(factors) > 1:
            for factor in factors[:-1]:
                _check_unsupported_call(src, factor)
            shown = text_of(part[:-1]) if part[-1].kind == lx.NAME else text_of(part)
            raise src.error(f"The modifier '{shown}' is on the left-hand side; "
                            f"modifiers belong on the right of '{op.text}', "
                            f"before the variable they modify (as in "
                            f"'y ~ a*x').", part[0], shown)
        if len(part) == 1 and part[0].kind == lx.NUMBER:
            raise src.error(f"'{part[0].text}' is a number, not a variable name; "
                            f"the left of '{op.text}' holds variable names "
                            f"only.", part[0])
        tok = _core(src, part, intercept_ok=False)
        if any(t.text == tok.text for t in names):
            raise src.error(f"'{tok.text}' appears twice on the left of "
                            f"'{op.text}'; remove one.", tok)
        names.append(tok)
    return names


def parse_rhs(src: Source, tokens: list[Token], op: Token) -> list[Term]:
    """The terms on the right of `op`; `1` (an intercept) only after `~`."""
    if not tokens:
        raise src.error(f"'{op.text}' has nothing on its right; write a "
                        f"variable name after it, as in 'y {op.text} x'.", op)
    parts, seps = split_top(tokens, lx.PLUS)
    _check_no_empty(src, parts, seps, "a term")
    return [_term(src, part, intercept_ok=op.text == "~") for part in parts]


def _term(src: Source, tokens: list[Token], intercept_ok: bool) -> Term:
    _check_interaction(src, tokens)
    factors, stars = split_top(tokens, lx.STAR)
    for i, factor in enumerate(factors):
        if factor:
            continue
        if i == len(factors) - 1:
            raise src.error("This '*' has no variable after it; a modifier "
                            "must be followed by the variable it modifies, as "
                            "in 'a*x'.", stars[-1])
        if i == 0:
            raise src.error("This '*' has nothing before it; put a modifier "
                            "before it, as in 'a*x', or remove it.", stars[0])
        raise src.error("There is nothing between this '*' and the one "
                        "before it; remove one of them.", stars[i])
    term_mods: dict[str, object] = {}
    for factor in factors[:-1]:
        _modifier(src, factor, term_mods)
    core = _core(src, factors[-1], intercept_ok)
    return Term(name=core.text, token=core, **term_mods)


def _core(src: Source, tokens: list[Token], intercept_ok: bool) -> Token:
    """The variable (or intercept `1`) a term is about."""
    first = tokens[0]
    shown = text_of(tokens)
    if len(tokens) == 1 and first.kind == lx.NAME:
        if first.text in lx.RESERVED:
            raise src.error(f"'{first.text}' is a reserved word in R, not a "
                            f"variable name; rename the variable.", first)
        return first
    if len(tokens) == 1 and first.kind == lx.NUMBER:
        if first.text == "1" and intercept_ok:
            return first
        hint = (" and write '1' alone for an intercept" if intercept_ok else
                "; an intercept '1' goes only after '~'" if first.text == "1"
                else "")
        raise src.error(f"'{first.text}' is a number, not a variable name; to "
                        f"fix a coefficient write '{first.text}*x'{hint}.", first)
    _check_unsupported_call(src, tokens)
    if first.kind == lx.NAME and len(tokens) > 1 and tokens[1].kind == lx.LPAREN:
        end = _call_end(tokens)
        call = text_of(tokens[:end + 1])
        if end < len(tokens) - 1:
            extra = tokens[end + 1]
            raise src.error(f"'{extra.text}' cannot follow '{call}'; put '*' "
                            f"between a modifier and its variable, as in "
                            f"'{call}*{extra.text}'.", extra)
        if first.text in ("start", "label", "c"):
            raise src.error(f"'{call}' is a modifier and needs a variable after "
                            f"it, as in '{call}*x'.", first, call)
        raise src.error(f"'{call}' is not a variable name; a term is a variable "
                        f"name, optionally after modifiers such as 'a*x'.",
                        first, call)
    if first.kind == lx.LPAREN:
        raise src.error(f"'{shown}' is not a variable name; write the name "
                        f"without parentheses.", first, shown)
    if first.kind == lx.STRING:
        raise src.error(f"{first.text} is a quoted string, not a variable "
                        f"name; remove the quotes.", first)
    if first.kind in (lx.NAME, lx.NUMBER) and len(tokens) > 1:
        nxt = tokens[1]
        raise src.error(f"'{nxt.text}' cannot follow '{first.text}' here; "
                        f"separate terms with '+' and join a modifier to its "
                        f"variable with '*'.", nxt)
    raise src.error(f"'{first.text}' cannot start a term; a term is a variable "
                    f"name, optionally after modifiers such as 'a*x'.", first)


def _check_unsupported_call(src: Source, tokens: list[Token]) -> None:
    if len(tokens) > 1 and tokens[0].kind == lx.NAME \
            and tokens[1].kind == lx.LPAREN \
            and tokens[0].text in UNSUPPORTED_MODIFIERS:
        raise unsupported(src, UNSUPPORTED_MODIFIERS[tokens[0].text], tokens[0],
                          text_of(tokens))


def _number(tokens: list[Token]) -> float | None:
    """The value of `0.5` or `-0.5` written as tokens, else None."""
    if len(tokens) == 1 and tokens[0].kind == lx.NUMBER:
        return float(tokens[0].text)
    if len(tokens) == 2 and tokens[0].kind == lx.MINUS \
            and tokens[1].kind == lx.NUMBER:
        return -float(tokens[1].text)
    return None


def _modifier(src: Source, tokens: list[Token], mods: dict[str, object]) -> None:
    """Read one modifier (`a`, `0.5`, `NA`, `start(..)`, `label(..)`) into mods."""
    first = tokens[0]
    shown = text_of(tokens)
    value = _number(tokens)
    if value is not None:
        if not math.isfinite(value):
            raise src.error(f"The fixed value '{shown}' is not a finite number; "
                            f"write an ordinary number.", first, shown)
        _set(src, mods, "fixed", value, first, shown)
    elif len(tokens) == 1 and first.kind == lx.NAME:
        if first.text == "NA":
            _set(src, mods, "free", True, first, shown)
        else:
            _set(src, mods, "label", _label(src, first.text, first), first, shown)
    elif len(tokens) > 1 and first.kind == lx.NAME and tokens[1].kind == lx.LPAREN:
        _call_modifier(src, tokens, mods)
    elif first.kind == lx.STRING:
        raise src.error(f"The quoted modifier {first.text} is not allowed; write "
                        f"a label as a*x or label(\"a\")*x.", first)
    else:
        raise src.error(f"'{shown}' is not a modifier; {_MODIFIER_HELP}.",
                        first, shown)


def _call_end(tokens: list[Token]) -> int:
    """Index of the ')' closing the call that starts `tokens` (`f(...)`)."""
    depth = 0
    for k, tok in enumerate(tokens):
        depth += (tok.kind == lx.LPAREN) - (tok.kind == lx.RPAREN)
        if k and depth == 0:
            return k
    return len(tokens) - 1


def _call_modifier(src: Source, tokens: list[Token], mods: dict[str, object]) -> None:
    first = tokens[0]
    shown = text_of(tokens)
    _check_unsupported_call(src, tokens)
    end = _call_end(tokens)
    if end != len(tokens) - 1:
        extra = tokens[end + 1]
        raise src.error(f"'{extra.text}' cannot follow '{text_of(tokens[:end + 1])}'"
                        f"; join modifiers with '*'.", extra)
    args = tokens[2:end]
    if first.text == "c":
        kind, values = _vector(src, args, first, shown)
        if len(values) == 1:        # c(a) is a, as in lavaan: the same in every group
            value = values[0]       # (only c(NA) gives None: free)
            _set(src, mods, kind if value is not None else "free",
                 value if value is not None else True, first, shown)
            return
        _set(src, mods, "group_" + kind, values, first, shown)
    elif first.text == "start" and len(args) > 2 and args[0].text == "c" \
            and args[1].kind == lx.LPAREN and _call_end(args) == len(args) - 1:
        kind, values = _vector(src, args[2:-1], first, shown)
        if kind != "fixed" or all(v is None for v in values):
            raise src.error(f"'{shown}' needs numbers, one per group, as in "
                            f"start(c(0.3, 0.5)).", first, shown)
        _set(src, mods, "group_start", values, first, shown)
    elif first.text == "start":
        value = _number(args)
        if value is None or not math.isfinite(value):
            raise src.error(f"'{shown}' needs exactly one number, as in "
                            f"start(0.3).", first, shown)
        _set(src, mods, "start", value, first, shown)
    elif first.text == "label":
        if len(args) != 1 or args[0].kind != lx.STRING:
            raise src.error(f"'{shown}' needs one quoted label, as in "
                            f"label(\"a\"); or write the label alone, as in a*x.",
                            first, shown)
        _set(src, mods, "label", _label(src, args[0].value, args[0]), first, shown)
    else:
        raise src.error(f"'{first.text}(...)' is not a modifier attachpath knows; "
                        f"{_MODIFIER_HELP}.", first, shown)


def _vector(src: Source, args: list[Token], first: Token, shown: str):
    """The elements of c(...): ("label", labels with None for NA) or
    ("fixed", numbers with None for NA), as lavaan reads a c() modifier."""
    elements, _ = split_top(args, lx.COMMA)
    if not args or any(not e for e in elements):
        raise src.error(f"'{shown}' needs one value per group separated by commas, "
                        f"as in c(a1, a2) or c(0.5, NA).", first, shown)
    labels, numbers = [], []
    for e in elements:
        value = _number(e)
        if value is not None:
            if not math.isfinite(value):
                raise src.error(f"'{text_of(e)}' in '{shown}' is not a finite number.",
                                e[0], shown)
            numbers.append(value)
            labels.append(None)
        elif len(e) == 1 and e[0].kind == lx.NAME and e[0].text == "NA":
            numbers.append(None)
            labels.append(None)
        elif len(e) == 1 and e[0].kind in (lx.NAME, lx.STRING):
            labels.append(_label(src, e[0].value, e[0]))
            numbers.append(None)
        else:
            raise src.error(f"'{text_of(e)}' cannot be an element of '{shown}'; write "
                            f"labels, numbers or NA.", e[0], shown)
    has_label = any(v is not None for v in labels)
    has_number = any(v is not None for v in numbers)
    if has_label and has_number:
        raise src.error(f"'{shown}' mixes labels and numbers; write one c() of labels "
                        f"and one of fixed values, as in c(a1, a2)*c(1, NA)*x.",
                        first, shown)
    return ("label", tuple(labels)) if has_label else ("fixed", tuple(numbers))


def _label(src: Source, label: str, tok: Token) -> str:
    if not label:
        raise src.error("The label is empty; write the label between the "
                        "quotes, as in label(\"a\").", tok, label)
    if label in lx.RESERVED:
        raise src.error(f"'{label}' cannot be a label because it is a reserved "
                        f"word in R; choose another label.", tok, label)
    if not lx.is_valid_name(label):
        raise src.error(f"'{label}' is not a valid label: a label starts with a "
                        f"letter, '_' or '.' and contains only letters, digits, "
                        f"'_' and '.'; rename it.", tok, label)
    return label


_KIND = {"label": "label", "fixed": "fixed value", "free": "NA (free)",
         "start": "start value", "group_label": "label per group",
         "group_fixed": "fixed value per group", "group_start": "start value per group"}
# the c() modifiers clash with the single modifier of their kind
_FAMILY = {"group_label": "label", "group_fixed": "fixed", "group_start": "start"}


def _set(src: Source, mods: dict[str, object], key: str, value: object,
         tok: Token, shown: str) -> None:
    clash = key if key in mods else None
    for other in mods:
        if _FAMILY.get(other, other) == _FAMILY.get(key, key) or \
                {key, other} == {"group_fixed", "free"}:
            clash = other
    if key in ("fixed", "free", "start"):
        # A fixed value contradicts NA and makes a start value meaningless.
        for other in ("fixed", "free", "start"):
            if other in mods and (other == key or "fixed" in (key, other)):
                clash = other
    if clash:
        raise src.error(f"'{shown}' gives this term a {_KIND[key]} but it "
                        f"already has a {_KIND[clash]}; keep only one.", tok, shown)
    mods[key] = value
