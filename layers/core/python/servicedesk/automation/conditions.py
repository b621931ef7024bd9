"""Rule conditions: a small typed grammar, ONE definition compiled two ways.

A condition is a group ``{"all": [...]}`` / ``{"any": [...]}`` of conditions, or a leaf
``{"field": ..., "op": ..., "value": ...}`` (``"business": true`` on the ``hours_since_*``
fields counts business hours on the ticket's SLA calendar). ``parse`` checks the shape and
values (422 naming ``conditions.<path>.<key>``); ``predicate`` compiles a parsed condition
to a Python function over a ticket (event rules, and the exact check of what SQL cannot
decide); ``to_sql`` compiles it to a WHERE clause over ``tickets t`` (time rules, the dry
run). Each operator is one entry of ``OPS`` holding both its Python and its SQL form, so
the two cannot drift; tests/integration/test_automation_property.py holds them to a
reference evaluator.

``to_sql`` is exact except for what SQL cannot compute as Python does: user regexes (RE2
in Python, not PostgreSQL's engine) and business hours (the SLA calendar maths). There the
SQL is a sound *prefilter* (it never drops a ticket the Python predicate would keep) and
``exact`` is False: callers run the Python predicate over the SQL's rows. Comparisons
with the clock take ``now`` once, as a parameter, and both forms compare the stored
instant with the same cutoff, so they agree to the microsecond.

Semantics shared by both forms: a missing value (NULL, an absent custom field) matches
``is null``, ``is_not <x>``, ``not_in``, ``not_contains`` and ``excludes`` and nothing
else; text comparisons fold ASCII case only (as SQL's ``translate`` does whatever the
database's locale); custom fields compare by JSON type (``true`` is not ``1``), numbers by
value.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from servicedesk.platform import patterns
from servicedesk.platform.errors import field_error
from servicedesk.sla.business_time import (
    BusinessCalendar,
    business_seconds_between,
    is_business_time,
)
from servicedesk.tickets import states

MAX_DEPTH = 4
MAX_LEAVES = 50
MAX_LIST = 50
MAX_TEXT = 1000
MAX_NEEDLE = 200
MAX_HOURS = 100_000
LEVELS = ("low", "medium", "high", "critical")
UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
LOWER = "abcdefghijklmnopqrstuvwxyz"
_FOLD = str.maketrans(UPPER, LOWER)

Kind = Literal["scalar", "text", "ref", "tags", "custom", "hours", "flag"]

# field -> (kind, SQL expression over ``tickets t``, allowed values for a scalar or None)
FIELDS: dict[str, tuple[Kind, str, tuple[str, ...] | None]] = {
    "status": ("scalar", "t.status", tuple(s.value for s in states.Status)),
    "priority": ("scalar", "t.priority", LEVELS),
    "impact": ("scalar", "t.impact", LEVELS),
    "urgency": ("scalar", "t.urgency", LEVELS),
    "channel": ("scalar", "t.channel", None),
    "type": ("scalar", "t.type", None),
    "title": ("text", "t.title", None),
    "description": ("text", "t.description", None),
    "requester_id": ("ref", "t.requester_id", None),
    "assignee_id": ("ref", "t.assignee_id", None),
    "team_id": ("ref", "t.team_id", None),
    "category_id": ("ref", "t.category_id", None),
    "tags": ("tags", "t.tags", None),
    "hours_since_created": ("hours", "t.created_at", None),
    "hours_since_updated": ("hours", "t.updated_at", None),
    "hours_since_status_change": ("hours", "t.status_changed_at", None),
    "business_hours_now": ("flag", "", None),
}
CUSTOM_PREFIX = "custom_fields."
CHANGE_OPS = frozenset({"changed", "changed_from", "changed_to"})
# What each kind of field accepts.
KIND_OPS: dict[Kind, frozenset[str]] = {
    "scalar": frozenset({"is", "is_not", "in", "not_in"}) | CHANGE_OPS,
    "ref": frozenset({"is", "is_not", "in", "not_in"}) | CHANGE_OPS,
    "text": frozenset({"is", "is_not", "contains", "not_contains", "matches", "changed"}),
    "tags": frozenset({"includes", "excludes", "changed"}),
    "custom": frozenset(
        {"is", "is_not", "in", "not_in", "contains", "not_contains", "matches"}
        | {"gt", "gte", "lt", "lte"}
        | CHANGE_OPS
    ),
    "hours": frozenset({"gt", "gte", "lt", "lte"}),
    "flag": frozenset({"is"}),
}


# --- the parsed form -----------------------------------------------------------------


@dataclass(frozen=True)
class Leaf:
    field: str
    op: str
    value: Any = None
    business: bool = False

    @property
    def kind(self) -> Kind:
        return "custom" if self.field.startswith(CUSTOM_PREFIX) else FIELDS[self.field][0]

    @property
    def custom_key(self) -> str:
        return self.field.removeprefix(CUSTOM_PREFIX)


@dataclass(frozen=True)
class Group:
    mode: Literal["all", "any"]
    items: tuple[Node, ...]


Node = Leaf | Group
ALWAYS = Group("all", ())


@dataclass
class Change:
    """What happened to the ticket: the trigger and, per field, (before, after)."""

    trigger: str
    fields: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    visibility: str | None = None  # commented: public | internal
    by: str | None = None  # commented: requester | agent | other
    depth: int = 0

    def field_change(self, name: str) -> tuple[Any, Any] | None:
        if name.startswith(CUSTOM_PREFIX):
            pair = self.fields.get("custom_fields")
            if pair is None:
                return None
            key = name.removeprefix(CUSTOM_PREFIX)
            before, after = (pair[0] or {}).get(key), (pair[1] or {}).get(key)
            return None if _json_eq(before, after) else (before, after)
        pair = self.fields.get(name)
        if pair is None:
            return None
        before, after = pair
        if name == "tags":
            return None if list(before or []) == list(after or []) else (before, after)
        return None if _plain(before) == _plain(after) else (before, after)


class Facts:
    """A ticket as the Python predicate reads it, with the instant it is judged at and
    (lazily) its SLA calendar."""

    def __init__(
        self, ticket: Any, now: datetime, calendar: Callable[[], BusinessCalendar]
    ) -> None:
        self.ticket = ticket
        self.now = now
        self._calendar = calendar
        self._cal: BusinessCalendar | None = None

    def calendar(self) -> BusinessCalendar:
        if self._cal is None:
            self._cal = self._calendar()
        return self._cal

    def value(self, leaf: Leaf) -> Any:
        if leaf.kind == "custom":
            return (getattr(self.ticket, "custom_fields", None) or {}).get(leaf.custom_key)
        return getattr(self.ticket, FIELDS[leaf.field][1].removeprefix("t."))


# --- parsing ---------------------------------------------------------------------------


class _Parser:
    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.errors: list[dict[str, Any]] = []
        self.leaves = 0

    def error(self, where: str, detail: str) -> None:
        self.errors.append(field_error(where, detail))

    def node(self, raw: Any, where: str, depth: int) -> Node | None:  # noqa: PLR0911 - one branch per kind/operator
        if not isinstance(raw, dict):
            self.error(where, "a condition is an object: {all: [...]}, {any: [...]} or a test")
            return None
        groups = [k for k in ("all", "any") if k in raw]
        if groups:
            if len(raw) != 1:
                self.error(where, "a group has exactly one key, all or any")
                return None
            mode = groups[0]
            items = raw[mode]
            if depth >= MAX_DEPTH:
                self.error(where, f"groups nest at most {MAX_DEPTH} deep")
                return None
            if not isinstance(items, list):
                self.error(f"{where}.{mode}", "a list of conditions")
                return None
            parsed = [
                self.node(item, f"{where}.{mode}.{i}", depth + 1) for i, item in enumerate(items)
            ]
            if any(p is None for p in parsed):
                return None
            return Group(mode, tuple(p for p in parsed if p is not None))  # type: ignore[arg-type]
        return self.leaf(raw, where)

    def leaf(self, raw: dict[str, Any], where: str) -> Leaf | None:  # noqa: PLR0911 - one branch per kind/operator
        self.leaves += 1
        if self.leaves == MAX_LEAVES + 1:
            self.error(where, f"at most {MAX_LEAVES} tests in a rule")
        unknown = set(raw) - {"field", "op", "value", "business"}
        if unknown:
            self.error(f"{where}.{sorted(unknown)[0]}", "unknown key")
            return None
        name, op = raw.get("field"), raw.get("op")
        if not isinstance(name, str) or not _known_field(name):
            self.error(f"{where}.field", "unknown field")
            return None
        leaf_kind: Kind = "custom" if name.startswith(CUSTOM_PREFIX) else FIELDS[name][0]
        if not isinstance(op, str) or op not in KIND_OPS[leaf_kind]:
            allowed = ", ".join(sorted(KIND_OPS[leaf_kind]))
            self.error(f"{where}.op", f"not an operator of {name} (one of {allowed})")
            return None
        if op in CHANGE_OPS and self.kind != "event":
            self.error(f"{where}.op", "changes are for event rules")
            return None
        business = raw.get("business", False)
        if business is not False and (leaf_kind != "hours" or business is not True):
            self.error(f"{where}.business", "true, on an hours_since_* field only")
            return None
        value = raw.get("value")
        checked = self.value(leaf_kind, name, op, value, f"{where}.value", "value" in raw)
        if checked is _BAD:
            return None
        return Leaf(name, op, checked, bool(business))

    def value(self, kind: Kind, name: str, op: str, value: Any, where: str, sent: bool) -> Any:
        if op == "changed":
            if sent:
                self.error(where, "changed takes no value")
                return _BAD
            return None
        if op in ("in", "not_in", "includes", "excludes"):
            if not isinstance(value, list) or not 1 <= len(value) <= MAX_LIST:
                self.error(where, f"a list of 1 to {MAX_LIST} values")
                return _BAD
            items = [
                self.one(kind, name, op, v, f"{where}.{i}", nullable=False)
                for i, v in enumerate(value)
            ]
            return _BAD if any(i is _BAD for i in items) else tuple(items)
        if not sent:
            self.error(where, "required")
            return _BAD
        return self.one(
            kind, name, op, value, where, nullable=op in ("is", "is_not") or op in CHANGE_OPS
        )

    def one(self, kind: Kind, name: str, op: str, value: Any, where: str, *, nullable: bool) -> Any:  # noqa: C901, PLR0911, PLR0912 - one branch per kind/operator
        if value is None:
            if nullable and kind in ("scalar", "ref", "text", "custom"):
                return None
            self.error(where, "must not be null")
            return _BAD
        if kind == "flag":
            if not isinstance(value, bool):
                self.error(where, "true or false")
                return _BAD
            return value
        if kind == "hours" or op in ("gt", "gte", "lt", "lte"):
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not math.isfinite(value)
            ):
                self.error(where, "a number")
                return _BAD
            if kind == "hours" and not 0 <= value <= MAX_HOURS:
                self.error(where, f"between 0 and {MAX_HOURS} hours")
                return _BAD
            return value
        if op in ("contains", "not_contains"):
            if not isinstance(value, str) or not 1 <= len(value) <= MAX_NEEDLE:
                self.error(where, f"text of 1 to {MAX_NEEDLE} characters")
                return _BAD
            return value
        if op == "matches":
            if not isinstance(value, str) or not value:
                self.error(where, "a regular expression")
                return _BAD
            try:
                patterns.compile_user_pattern(value)
            except patterns.PatternError as exc:
                self.error(where, str(exc))
                return _BAD
            return value
        if kind == "tags":
            if not isinstance(value, str) or not 1 <= len(value.strip()) <= 50:
                self.error(where, "a tag of 1 to 50 characters")
                return _BAD
            return value.strip().lower()
        if kind == "ref":
            try:
                return uuid.UUID(str(value))
            except ValueError:
                self.error(where, "an id")
                return _BAD
        if kind == "scalar":
            allowed = FIELDS[name][2]
            if not isinstance(value, str) or (allowed is not None and value not in allowed):
                what = f"one of {', '.join(allowed)}" if allowed else "text"
                self.error(where, what)
                return _BAD
            if len(value) > MAX_TEXT:
                self.error(where, f"at most {MAX_TEXT} characters")
                return _BAD
            return value
        if kind == "text":
            if not isinstance(value, str) or len(value) > MAX_TEXT:
                self.error(where, f"text of at most {MAX_TEXT} characters")
                return _BAD
            return value
        # custom: a JSON scalar
        if isinstance(value, bool | str) or (
            isinstance(value, int | float) and math.isfinite(value)
        ):
            if isinstance(value, str) and len(value) > MAX_TEXT:
                self.error(where, f"at most {MAX_TEXT} characters")
                return _BAD
            return value
        self.error(where, "text, a number or true/false")
        return _BAD


_BAD = object()


def _known_field(name: str) -> bool:
    if name.startswith(CUSTOM_PREFIX):
        key = name.removeprefix(CUSTOM_PREFIX)
        return (
            1 <= len(key) <= 64
            and (key[0].isalpha() or key[0] == "_")
            and all(c.isascii() and (c.isalnum() or c == "_") for c in key)
        )
    return name in FIELDS


def parse(raw: Any, *, kind: str, where: str = "conditions") -> tuple[Node, list[dict[str, Any]]]:
    """The parsed condition and every problem found (field errors under ``where``)."""
    parser = _Parser(kind)
    node = parser.node(raw, where, 0)
    return (node or ALWAYS), parser.errors


def dump(node: Node) -> dict[str, Any]:
    """The stored (and API) form."""
    if isinstance(node, Group):
        return {node.mode: [dump(item) for item in node.items]}
    out: dict[str, Any] = {"field": node.field, "op": node.op}
    if node.op != "changed":
        value = list(node.value) if isinstance(node.value, tuple) else node.value
        out["value"] = _plain(value)
    if node.business:
        out["business"] = True
    return out


def leaves(node: Node, where: str = "conditions") -> list[tuple[str, Leaf]]:
    """Every leaf with its path (for reference checks)."""
    if isinstance(node, Leaf):
        return [(where, node)]
    found: list[tuple[str, Leaf]] = []
    for i, item in enumerate(node.items):
        found.extend(leaves(item, f"{where}.{node.mode}.{i}"))
    return found


def uses_change(node: Node) -> bool:
    return any(leaf.op in CHANGE_OPS for _, leaf in leaves(node))


# --- shared value semantics --------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def fold(text: str) -> str:
    """ASCII case folding (what SQL's translate(UPPER, LOWER) does)."""
    return text.translate(_FOLD)


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return Decimal(value) if isinstance(value, int) else Decimal(repr(value))


def _json_eq(a: Any, b: Any) -> bool:
    """JSON equality as jsonb's ``=``: by type; numbers by value."""
    if a is None or b is None:
        return a is None and b is None
    na, nb = _number(a), _number(b)
    if na is not None or nb is not None:
        return na is not None and nb is not None and na == nb
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, str) or isinstance(b, str):
        return isinstance(a, str) and isinstance(b, str) and a == b
    return False


def _eq(kind: Kind, a: Any, b: Any) -> bool:
    if kind == "custom":
        return _json_eq(a, b)
    if kind == "ref":
        return (None if a is None else str(a)) == (None if b is None else str(b))
    return bool(a == b)


def _cutoff(leaf: Leaf, now: datetime) -> datetime:
    return now - timedelta(hours=float(leaf.value))


# --- the operators: Python and SQL side by side ----------------------------------------------


class Params:
    """Bind parameters of one compiled WHERE clause."""

    def __init__(self, prefix: str = "c") -> None:
        self.prefix = prefix
        self.values: dict[str, Any] = {}

    def add(self, value: Any) -> str:
        name = f"{self.prefix}{len(self.values)}"
        self.values[name] = value
        return f":{name}"


Py = Callable[[Facts, Change | None], bool]


def _text_py(leaf: Leaf, facts: Facts) -> str | None:
    value = facts.value(leaf)
    return value if isinstance(value, str) else None


def _text_sql(leaf: Leaf) -> tuple[str, str]:
    """(the SQL text, a guard that it is text)."""
    if leaf.kind == "custom":
        # The key is checked by _known_field (letters, digits, underscore): safe to inline.
        key = leaf.custom_key
        return (
            f"(t.custom_fields ->> '{key}')",
            f"jsonb_typeof(t.custom_fields -> '{key}') = 'string'",
        )
    return FIELDS[leaf.field][1], "true"


def _is_py(leaf: Leaf, facts: Facts, target: Any) -> bool:
    value = facts.value(leaf)
    if leaf.kind == "tags":
        return False
    return _eq(leaf.kind, value, target)


def _is_sql(leaf: Leaf, target: Any, params: Params) -> str:
    if leaf.kind == "custom":
        path = f"(t.custom_fields -> '{leaf.custom_key}')"
        if target is None:
            return f"({path} IS NULL OR {path} = 'null'::jsonb)"
        return f"{path} = CAST({params.add(json.dumps(target))} AS jsonb)"
    column = FIELDS[leaf.field][1]
    if target is None:
        return f"{column} IS NULL"
    if leaf.kind == "ref":
        return f"{column} = CAST({params.add(str(target))} AS uuid)"
    return f"{column} = {params.add(target)}"


def compile_py(node: Node) -> Py:  # noqa: C901, PLR0911, PLR0912 - one branch per kind/operator
    """The Python predicate of a parsed condition."""
    if isinstance(node, Group):
        parts = [compile_py(item) for item in node.items]
        if node.mode == "all":
            return lambda facts, change: all(p(facts, change) for p in parts)
        return lambda facts, change: any(p(facts, change) for p in parts)
    leaf = node
    op = leaf.op
    if op == "is":
        if leaf.kind == "flag":
            return lambda facts, change: is_business_time(facts.calendar(), facts.now) is leaf.value
        return lambda facts, change: _is_py(leaf, facts, leaf.value)
    if op == "is_not":
        return lambda facts, change: not _is_py(leaf, facts, leaf.value)
    if op == "in":
        return lambda facts, change: any(_is_py(leaf, facts, v) for v in leaf.value)
    if op == "not_in":
        return lambda facts, change: not any(_is_py(leaf, facts, v) for v in leaf.value)
    if op in ("contains", "not_contains"):
        needle = fold(leaf.value)

        def contains(facts: Facts, change: Change | None) -> bool:
            text = _text_py(leaf, facts)
            return text is not None and needle in fold(text)

        if op == "contains":
            return contains
        return lambda facts, change: not contains(facts, change)
    if op == "matches":
        compiled = patterns.compile_user_pattern(leaf.value)

        def matches(facts: Facts, change: Change | None) -> bool:
            text = _text_py(leaf, facts)
            if text is None:
                return False
            return compiled.search(text[: patterns.MAX_SUBJECT_LENGTH]) is not None

        return matches
    if op == "includes":
        wanted = set(leaf.value)
        return lambda facts, change: bool(wanted & set(facts.value(leaf) or ()))
    if op == "excludes":
        unwanted = set(leaf.value)
        return lambda facts, change: not (unwanted & set(facts.value(leaf) or ()))
    if op in ("gt", "gte", "lt", "lte"):
        if leaf.kind == "hours":
            return _hours_py(leaf)
        threshold = _number(leaf.value)
        assert threshold is not None

        def compare(facts: Facts, change: Change | None) -> bool:
            number = _number(facts.value(leaf))
            return number is not None and _COMPARE[op](number, threshold)

        return compare
    if op == "changed":
        return lambda facts, change: (
            change is not None and change.field_change(leaf.field) is not None
        )
    side = 0 if op == "changed_from" else 1

    def changed_side(facts: Facts, change: Change | None) -> bool:
        pair = change.field_change(leaf.field) if change is not None else None
        return pair is not None and _eq(leaf.kind, pair[side], leaf.value)

    return changed_side


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "gt": lambda a, b: a > b,
    "gte": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "lte": lambda a, b: a <= b,
}
# hours_since >= h  <=>  the instant <= now - h (and so on): the SQL compares the same way.
_INSTANT: dict[str, str] = {"gt": "<", "gte": "<=", "lt": ">", "lte": ">="}


def _hours_py(leaf: Leaf) -> Py:
    column = FIELDS[leaf.field][1].removeprefix("t.")
    if leaf.business:
        seconds = float(leaf.value) * 3600

        def business(facts: Facts, change: Change | None) -> bool:
            instant = getattr(facts.ticket, column)
            elapsed = business_seconds_between(facts.calendar(), instant, facts.now)
            return _COMPARE[leaf.op](elapsed, seconds)

        return business

    def calendar(facts: Facts, change: Change | None) -> bool:
        instant = getattr(facts.ticket, column)
        return _COMPARE[_INSTANT_PY[leaf.op]](instant, _cutoff(leaf, facts.now))

    return calendar


_INSTANT_PY = {"gt": "lt", "gte": "lte", "lt": "gt", "lte": "gte"}
_SQL_OP = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}


def to_sql(node: Node, params: Params, now: datetime) -> tuple[str, bool]:
    """``(WHERE clause over tickets t, exact)``; see the module's docstring. A change
    operator (event rules) has no SQL form: it compiles to true, inexact."""
    if isinstance(node, Group):
        parts = [to_sql(item, params, now) for item in node.items]
        exact = all(e for _, e in parts)
        if not parts:
            return ("true" if node.mode == "all" else "false"), True
        joiner = " AND " if node.mode == "all" else " OR "
        return "(" + joiner.join(sql for sql, _ in parts) + ")", exact
    sql, exact = _leaf_sql(node, params, now)
    return f"coalesce({sql}, false)", exact


def _leaf_sql(leaf: Leaf, params: Params, now: datetime) -> tuple[str, bool]:  # noqa: C901, PLR0911 - one branch per kind/operator
    op = leaf.op
    if op in CHANGE_OPS or leaf.kind == "flag":
        return "true", False
    if op == "is":
        return _is_sql(leaf, leaf.value, params), True
    if op == "is_not":
        return f"NOT coalesce({_is_sql(leaf, leaf.value, params)}, false)", True
    if op in ("in", "not_in"):
        any_of = " OR ".join(_is_sql(leaf, v, params) for v in leaf.value)
        if op == "in":
            return f"({any_of})", True
        return f"NOT coalesce(({any_of}), false)", True
    if op in ("contains", "not_contains"):
        text, guard = _text_sql(leaf)
        needle = params.add(fold(leaf.value))
        found = f"({guard} AND strpos(translate({text}, '{UPPER}', '{LOWER}'), {needle}) > 0)"
        return (found if op == "contains" else f"NOT coalesce({found}, false)"), True
    if op == "matches":
        text, guard = _text_sql(leaf)
        return f"({guard} AND {text} IS NOT NULL)", False
    if op in ("includes", "excludes"):
        overlap = f"t.tags && CAST({params.add(list(leaf.value))} AS text[])"
        return (overlap if op == "includes" else f"NOT ({overlap})"), True
    if leaf.kind == "hours":
        column = FIELDS[leaf.field][1]
        cutoff = _cutoff(leaf, now)
        if leaf.business:
            # Business time never exceeds calendar time: "at least h business hours" needs
            # at least h hours (a second of slack for flooring); "less than" prunes nothing.
            if op in ("gt", "gte"):
                return f"{column} <= {params.add(cutoff + timedelta(seconds=1))}", False
            return "true", False
        return f"{column} {_INSTANT[op]} {params.add(cutoff)}", True
    # a custom number
    key = leaf.custom_key
    threshold = _number(leaf.value)
    # CASE, not AND: the cast must not run on a value that is not a number.
    return (
        f"CASE WHEN jsonb_typeof(t.custom_fields -> '{key}') = 'number'"
        f" THEN (t.custom_fields ->> '{key}')::numeric {_SQL_OP[op]}"
        f" CAST({params.add(str(threshold))} AS numeric) END",
        True,
    )


def references(node: Node, where: str = "conditions") -> dict[str, list[tuple[str, Any]]]:
    """What the condition names that must exist, by kind: ``team``, ``category``,
    ``member``, ``custom_field`` -> [(path, id or key)]."""
    kinds = {
        "team_id": "team",
        "category_id": "category",
        "assignee_id": "member",
        "requester_id": "member",
    }
    found: dict[str, list[tuple[str, Any]]] = {}
    for path, leaf in leaves(node, where):
        if leaf.kind == "custom":
            found.setdefault("custom_field", []).append((f"{path}.field", leaf.custom_key))
        elif leaf.field in kinds:
            values: Sequence[Any] = leaf.value if isinstance(leaf.value, tuple) else (leaf.value,)
            for i, value in enumerate(values):
                if value is not None:
                    at = f"{path}.value.{i}" if isinstance(leaf.value, tuple) else f"{path}.value"
                    found.setdefault(kinds[leaf.field], []).append((at, value))
    return found
