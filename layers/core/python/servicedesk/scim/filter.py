"""SCIM filters (RFC 7644 §3.4.2.2) and PATCH paths (§3.5.2): a small bounded
recursive-descent parser, and the translation of a filter into a parameterised SQL
predicate over a whitelist of attributes.

Why not a library (docs/architecture.md, "SCIM"): ``scim2-filter-parser`` (last release
2024-07) ships no type information and builds its SQL from string templates;
``scim2-models`` models resources, not SQL. The grammar is small, and a parser of our own
is bounded the way we need (length, nesting depth, number of terms).

The SQL holds no value from the request: each value is a bind parameter (``:f0``,
``:f1``...), each attribute an expression taken from the resource's ``Attribute`` table;
an attribute not in the table is ``invalidFilter`` naming it.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from servicedesk.scim.errors import invalid_filter, invalid_path

MAX_FILTER_LENGTH = 2000
MAX_DEPTH = 12
MAX_TERMS = 50

COMPARE_OPS = frozenset({"eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"})
CORE_PREFIX = re.compile(r"^urn:ietf:params:scim:schemas:core:2\.0:(user|group):", re.IGNORECASE)

# --- the syntax tree --------------------------------------------------------------------


@dataclass(frozen=True)
class Compare:
    path: str  # lower case, dotted: "username", "name.givenname", "emails.value"
    op: str
    value: Any  # str | int | float | bool | None


@dataclass(frozen=True)
class Present:
    path: str


@dataclass(frozen=True)
class Logical:
    op: Literal["and", "or"]
    left: Node
    right: Node


@dataclass(frozen=True)
class Not:
    inner: Node


@dataclass(frozen=True)
class ValuePath:
    path: str  # the multi-valued attribute ("emails")
    inner: Node  # over its sub-attributes ("type eq \"work\"")


Node = Compare | Present | Logical | Not | ValuePath

# --- tokens -----------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.)*")
      | (?P<punct>[()\[\]])
      | (?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?(?![\w:.]))
      | (?P<word>[A-Za-z][\w:.$-]*)
    )""",
    re.VERBOSE,
)


@dataclass
class _Token:
    kind: str
    text: str
    value: Any = None


def _tokens(source: str) -> list[_Token]:
    out: list[_Token] = []
    pos = 0
    while pos < len(source):
        if source[pos:].strip() == "":
            break
        match = _TOKEN.match(source, pos)
        if match is None or match.end() == pos:
            raise invalid_filter(f"filter: unexpected character at position {pos + 1}")
        pos = match.end()
        kind = match.lastgroup or ""
        text = match.group(kind)
        if kind == "string":
            try:
                out.append(_Token("value", text, json.loads(text)))
            except ValueError as exc:
                raise invalid_filter(f"filter: bad string {text[:40]}") from exc
        elif kind == "number":
            number = float(text) if any(c in text for c in ".eE") else int(text)
            out.append(_Token("value", text, number))
        elif kind == "word" and text.lower() in ("true", "false", "null"):
            out.append(
                _Token("value", text, {"true": True, "false": False, "null": None}[text.lower()])
            )
        else:
            out.append(_Token(kind, text))
    return out


class _Parser:
    def __init__(self, source: str, *, what: str) -> None:
        self.what = what
        if len(source) > MAX_FILTER_LENGTH:
            raise invalid_filter(f"{what}: longer than {MAX_FILTER_LENGTH} characters")
        self.tokens = _tokens(source)
        self.pos = 0
        self.terms = 0

    def peek(self) -> _Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def next(self) -> _Token:
        token = self.peek()
        if token is None:
            raise invalid_filter(f"{self.what}: ends too early")
        self.pos += 1
        return token

    def keyword(self, *words: str) -> str | None:
        token = self.peek()
        if token is not None and token.kind == "word" and token.text.lower() in words:
            self.pos += 1
            return token.text.lower()
        return None

    def expect(self, punct: str) -> None:
        token = self.next()
        if token.kind != "punct" or token.text != punct:
            raise invalid_filter(f"{self.what}: expected '{punct}' but found '{token.text}'")

    def done(self) -> None:
        token = self.peek()
        if token is not None:
            raise invalid_filter(f"{self.what}: unexpected '{token.text}'")

    # FILTER = term *("or" term); term = factor *("and" factor)
    def filter(self, depth: int, inside: str | None = None) -> Node:
        if depth > MAX_DEPTH:
            raise invalid_filter(f"{self.what}: nested deeper than {MAX_DEPTH}")
        node = self.term(depth, inside)
        while self.keyword("or"):
            node = Logical("or", node, self.term(depth, inside))
        return node

    def term(self, depth: int, inside: str | None) -> Node:
        node = self.factor(depth, inside)
        while self.keyword("and"):
            node = Logical("and", node, self.factor(depth, inside))
        return node

    def factor(self, depth: int, inside: str | None) -> Node:
        if self.keyword("not"):
            self.expect("(")
            inner = self.filter(depth + 1, inside)
            self.expect(")")
            return Not(inner)
        token = self.peek()
        if token is not None and token.kind == "punct" and token.text == "(":
            self.pos += 1
            inner = self.filter(depth + 1, inside)
            self.expect(")")
            return inner
        self.terms += 1
        if self.terms > MAX_TERMS:
            raise invalid_filter(f"{self.what}: more than {MAX_TERMS} comparisons")
        path = self.attribute()
        after = self.peek()
        if after is not None and after.kind == "punct" and after.text == "[":
            if inside is not None:
                raise invalid_filter(f"{self.what}: a value path inside a value path")
            self.pos += 1
            inner = self.filter(depth + 1, inside=path)
            self.expect("]")
            return ValuePath(path, inner)
        operator = self.next()
        op = operator.text.lower()
        if operator.kind != "word" or (op != "pr" and op not in COMPARE_OPS):
            raise invalid_filter(f"{self.what}: unknown operator '{operator.text}' after {path}")
        if op == "pr":
            return Present(path)
        value = self.next()
        if value.kind != "value":
            raise invalid_filter(f"{self.what}: {path} {op} needs a value, not '{value.text}'")
        return Compare(path, op, value.value)

    def attribute(self) -> str:
        token = self.next()
        if token.kind != "word":
            raise invalid_filter(f"{self.what}: expected an attribute, found '{token.text}'")
        return normalise(token.text)


def normalise(path: str) -> str:
    """Attribute names are case-insensitive; the core schema's URN prefix is optional."""
    return CORE_PREFIX.sub("", path).lower()


def parse(source: str) -> Node:
    parser = _Parser(source, what="filter")
    node = parser.filter(0)
    parser.done()
    return node


@dataclass(frozen=True)
class PatchPath:
    """``attr``, ``attr.sub``, ``attr[filter]`` or ``attr[filter].sub``."""

    attribute: str
    value_filter: Node | None = None
    sub: str | None = None


def parse_path(source: str) -> PatchPath:
    if len(source) > MAX_FILTER_LENGTH:
        raise invalid_path(f"path: longer than {MAX_FILTER_LENGTH} characters")
    match = re.fullmatch(r"\s*([^\[\]\s]+)\s*(?:\[(.*)\](?:\.(\w+))?)?\s*", source, re.DOTALL)
    if match is None:
        raise invalid_path(f"path: cannot read '{source[:80]}'")
    attribute, inner, sub = match.groups()
    attribute = normalise(attribute)
    if inner is None:
        if "." in attribute:
            head, _, tail = attribute.partition(".")
            return PatchPath(head, None, tail)
        return PatchPath(attribute)
    parser = _Parser(inner, what="path")
    try:
        node = parser.filter(1, inside=attribute)
        parser.done()
    except Exception as exc:
        detail = getattr(exc, "detail", str(exc))
        raise invalid_path(detail) from exc
    return PatchPath(attribute, node, sub.lower() if sub else None)


# --- to SQL -----------------------------------------------------------------------------

Kind = Literal["string", "boolean", "datetime", "id"]


@dataclass(frozen=True)
class Attribute:
    """A filterable attribute: its SQL expression (from code, never from the request)."""

    sql: str
    kind: Kind = "string"
    case_exact: bool = False


@dataclass(frozen=True)
class MultiValued:
    """A multi-valued attribute: ``source`` is a FROM clause giving one row per value
    (named ``v``), correlated with the outer row; ``subs`` its sub-attributes over ``v``;
    ``default`` the sub-attribute a bare comparison means (``emails co "x"``)."""

    source: str
    subs: Mapping[str, Attribute]
    default: str = "value"
    correlate: str = "true"


@dataclass
class Compiler:
    attributes: Mapping[str, Attribute | MultiValued]
    params: dict[str, Any] = field(default_factory=dict)

    def bind(self, value: Any) -> str:
        name = f"f{len(self.params)}"
        self.params[name] = value
        return f":{name}"

    def sql(self, node: Node, scope: MultiValued | None = None) -> str:
        if isinstance(node, Logical):
            return f"({self.sql(node.left, scope)} {node.op.upper()} {self.sql(node.right, scope)})"
        if isinstance(node, Not):
            return f"(NOT coalesce({self.sql(node.inner, scope)}, false))"
        if isinstance(node, ValuePath):
            multi = self.attributes.get(node.path)
            if not isinstance(multi, MultiValued):
                raise invalid_filter(f"filter: {node.path} is not a multi-valued attribute")
            inner = self.sql(node.inner, multi)
            return f"EXISTS (SELECT 1 FROM {multi.source} WHERE {multi.correlate} AND {inner})"
        attribute, multi = self.resolve(node.path, scope)
        predicate = self.predicate(node, attribute)
        if multi is not None:
            return f"EXISTS (SELECT 1 FROM {multi.source} WHERE {multi.correlate} AND {predicate})"
        return predicate

    def resolve(self, path: str, scope: MultiValued | None) -> tuple[Attribute, MultiValued | None]:
        if scope is not None:
            found = scope.subs.get(path)
            if found is None:
                raise invalid_filter(f"filter: unknown sub-attribute {path}")
            return found, None
        known = self.attributes.get(path)
        if isinstance(known, Attribute):
            return known, None
        if isinstance(known, MultiValued):
            return known.subs[known.default], known
        head, _, tail = path.partition(".")
        parent = self.attributes.get(head)
        if isinstance(parent, MultiValued) and tail in parent.subs:
            return parent.subs[tail], parent
        raise invalid_filter(f"filter: unknown attribute {path}")

    def predicate(self, node: Compare | Present, attribute: Attribute) -> str:
        column = attribute.sql
        if isinstance(node, Present):
            if attribute.kind == "string":
                return f"({column} IS NOT NULL AND {column} <> '')"
            return f"({column} IS NOT NULL)"
        if node.value is None or attribute.kind == "boolean":
            return self.null_or_boolean(node, column)
        if not isinstance(node.value, str):
            raise invalid_filter(f"filter: {node.path} compares with a string")
        if attribute.kind == "datetime":
            return self.datetime_predicate(node.path, column, node.op, node.value)
        if attribute.kind == "id":
            return self.id_predicate(node.path, column, node.op, node.value)
        return self.string_predicate(column, node.op, node.value, case_exact=attribute.case_exact)

    def null_or_boolean(self, node: Compare, column: str) -> str:
        op, value = node.op, node.value
        if op not in ("eq", "ne") or not (value is None or isinstance(value, bool)):
            raise invalid_filter(f"filter: {node.path} takes eq/ne with true, false or null")
        if value is None:
            return f"({column} IS {'' if op == 'eq' else 'NOT '}NULL)"
        return f"({column} {'=' if op == 'eq' else '<>'} {self.bind(value)})"

    def id_predicate(self, path: str, column: str, op: str, value: str) -> str:
        if op not in ("eq", "ne"):
            raise invalid_filter(f"filter: {path} supports eq and ne only")
        try:
            bound = self.bind(uuid.UUID(value))
        except ValueError:
            return "false" if op == "eq" else "true"
        return f"({column} {'=' if op == 'eq' else '<>'} {bound})"

    def string_predicate(self, column: str, op: str, value: str, *, case_exact: bool) -> str:
        left = column if case_exact else f"lower({column})"
        text = value if case_exact else value.lower()
        if op in ("co", "sw", "ew"):
            escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            pattern = {"co": f"%{escaped}%", "sw": f"{escaped}%", "ew": f"%{escaped}"}[op]
            return f"({left} LIKE {self.bind(pattern)} ESCAPE '\\')"
        if op == "ne":
            return f"({left} IS NULL OR {left} <> {self.bind(text)})"
        sql_op = {"eq": "=", "gt": ">", "ge": ">=", "lt": "<", "le": "<="}[op]
        # C collation: the order is the bytes', whatever the database's collation.
        return f'({left} COLLATE "C" {sql_op} {self.bind(text)})'

    def datetime_predicate(self, path: str, column: str, op: str, value: str) -> str:
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as exc:
            raise invalid_filter(f"filter: {path} needs an ISO 8601 date and time") from exc
        if op in ("co", "sw", "ew"):
            raise invalid_filter(f"filter: {path} is a date and time ({op} does not apply)")
        sql_op = {"eq": "=", "ne": "<>", "gt": ">", "ge": ">=", "lt": "<", "le": "<="}[op]
        return f"({column} {sql_op} {self.bind(moment)})"


def compile_filter(
    source: str, attributes: Mapping[str, Attribute | MultiValued]
) -> tuple[str, dict[str, Any]]:
    """A SQL predicate and its bind parameters for ``source``."""
    compiler = Compiler(attributes)
    predicate = compiler.sql(parse(source))
    return predicate, compiler.params
