"""The subset of JSON Schema that describes a category's custom fields, without a dependency.

A schema is one flat object: ``{"type": "object", "properties": {...}, "required": [...],
"additionalProperties": bool}``. A property is a string, integer, number, boolean, or an
array of strings, with ``enum``, ``minLength``/``maxLength``, ``pattern`` (an unanchored
match as in JSON Schema, run by RE2 through ``platform.patterns``: never Python's
backtracking ``re``), ``minimum``/``maximum``, ``format`` (date, email),
``title``, ``description`` and ``default``. ``null`` counts as absent.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import date
from typing import Any

from servicedesk.platform.errors import field_error
from servicedesk.platform.patterns import (
    MAX_PATTERN_LENGTH,
    PatternError,
    compile_user_pattern,
    user_search,
)
from servicedesk.platform.schemas import EMAIL_RE

MAX_PROPERTIES = 50
MAX_ENUM = 200
NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
TOP_KEYWORDS = frozenset({"type", "properties", "required", "additionalProperties"})
COMMON = frozenset({"type", "enum", "title", "description", "default"})
KEYWORDS = {
    "string": COMMON | {"minLength", "maxLength", "pattern", "format"},
    "integer": COMMON | {"minimum", "maximum"},
    "number": COMMON | {"minimum", "maximum"},
    "boolean": COMMON,
    "array": COMMON - {"enum"} | {"items"},
}
ITEM_KEYWORDS = KEYWORDS["string"] - {"title", "description", "default"}
FORMATS = frozenset({"date", "email"})


def _is_int(value: object) -> bool:
    # bool is an int in Python but not in JSON; 1.0 is an integer in JSON Schema.
    if isinstance(value, float):
        return math.isfinite(value) and value.is_integer()
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, int) and not isinstance(value, bool)


TYPE_CHECKS: dict[str, Callable[[object], bool]] = {
    "string": lambda v: isinstance(v, str),
    "integer": _is_int,
    "number": _is_number,
    "boolean": lambda v: isinstance(v, bool),
    "array": lambda v: isinstance(v, list),
}


def _is_length(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _check_string_keywords(prop: dict[str, Any]) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = [
        (key, "must be a non-negative integer")
        for key in ("minLength", "maxLength")
        if key in prop and not _is_length(prop[key])
    ]
    if not problems and prop.get("minLength", 0) > prop.get("maxLength", math.inf):
        problems.append(("minLength", "must not exceed maxLength"))
    if "pattern" in prop:
        pattern = prop["pattern"]
        if not isinstance(pattern, str) or len(pattern) > MAX_PATTERN_LENGTH:
            message = f"must be a string of at most {MAX_PATTERN_LENGTH} characters"
            problems.append(("pattern", message))
        else:
            try:
                compile_user_pattern(pattern)
            except PatternError as exc:
                problems.append(("pattern", str(exc)))
    if "format" in prop and not (isinstance(prop["format"], str) and prop["format"] in FORMATS):
        problems.append(("format", "must be one of: " + ", ".join(sorted(FORMATS))))
    return problems


def _check_bounds(prop: dict[str, Any]) -> list[tuple[str, str]]:
    bounds = [k for k in ("minimum", "maximum") if k in prop]
    problems: list[tuple[str, str]] = [
        (k, "must be a number") for k in bounds if not _is_number(prop[k])
    ]
    if len(bounds) == 2 and not problems and prop["minimum"] > prop["maximum"]:
        problems.append(("minimum", "must not exceed maximum"))
    return problems


def _check_items(prop: dict[str, Any]) -> list[tuple[str, str]]:
    items = prop.get("items")
    if not isinstance(items, dict) or items.get("type") != "string":
        return [("items", 'must be {"type": "string"}, optionally with string keywords')]
    problems = [(f"items.{k}", "unsupported keyword") for k in items if k not in ITEM_KEYWORDS]
    return problems + [(f"items.{k}", m) for k, m in _check_keywords(items, "string")]


def _check_enum(enum: object, kind: str) -> list[tuple[str, str]]:
    if not isinstance(enum, list) or not 0 < len(enum) <= MAX_ENUM:
        return [("enum", f"must be a list of 1 to {MAX_ENUM} values")]
    if not all(TYPE_CHECKS[kind](v) for v in enum):
        return [("enum", f"every value must be of type {kind}")]
    if len({repr(v) for v in enum}) != len(enum):
        return [("enum", "values must be unique")]
    return []


KIND_CHECKS = {
    "string": _check_string_keywords,
    "integer": _check_bounds,
    "number": _check_bounds,
    "array": _check_items,
}


def _check_keywords(prop: dict[str, Any], kind: str) -> list[tuple[str, str]]:
    """Problems as (keyword, message) for one property (or the items of an array)."""
    check = KIND_CHECKS.get(kind)
    problems = check(prop) if check else []
    for key in ("title", "description"):
        if key in prop and not (isinstance(prop[key], str) and len(prop[key]) <= 1000):
            problems.append((key, "must be a string of at most 1000 characters"))
    if "enum" in prop:
        problems += _check_enum(prop["enum"], kind)
    return problems


def _check_property(prop: object) -> list[tuple[str, str]]:
    if not isinstance(prop, dict):
        return [("", "must be an object")]
    kind = prop.get("type")
    if not (isinstance(kind, str) and kind in KEYWORDS):
        return [("type", "must be one of: " + ", ".join(KEYWORDS))]
    problems = [(k, "unsupported keyword") for k in prop if k not in KEYWORDS[kind]]
    problems += _check_keywords(prop, kind)
    if not problems and "default" in prop and _value_problem(prop, prop["default"]):
        problems.append(("default", "does not satisfy the property's own rules"))
    return problems


def _pointer(prefix: str, name: str) -> str:
    """JSON Pointer to a member whose name may hold "/" or "~" (RFC 6901 escaping)."""
    return f"/{prefix.replace('.', '/')}/" + name.replace("~", "~0").replace("/", "~1")


def _check_properties(properties: dict[str, Any], field: str) -> list[dict[str, Any]]:
    where = f"{field}.properties"
    if len(properties) > MAX_PROPERTIES:
        return [field_error(where, f"at most {MAX_PROPERTIES} properties")]
    errors = []
    for name, prop in properties.items():
        if not (isinstance(name, str) and NAME_RE.fullmatch(name)):
            message = "names are 1-64 letters, digits or _, not starting with a digit"
            errors.append(field_error(f"{where}.{name}", message, pointer=_pointer(where, name)))
            continue
        for keyword, message in _check_property(prop):
            errors.append(
                field_error(f"{where}.{name}" + (f".{keyword}" if keyword else ""), message)
            )
    return errors


def check_schema(schema: object, field: str = "fields_schema") -> list[dict[str, Any]]:
    """Field errors naming ``<field>...`` (a category's ``fields_schema``, a CI class's
    ``attributes_schema``) for anything outside the supported subset."""
    if not isinstance(schema, dict):
        return [field_error(field, "must be an object")]
    errors = [
        field_error(f"{field}.{k}", "unsupported keyword", pointer=_pointer(field, k))
        for k in schema
        if k not in TOP_KEYWORDS
    ]
    if schema.get("type") != "object":
        errors.append(field_error(f"{field}.type", 'must be "object"'))
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return [*errors, field_error(f"{field}.properties", "must be an object")]
    errors += _check_properties(properties, field)
    required = schema.get("required", [])
    if not (
        isinstance(required, list)
        and all(isinstance(r, str) and r in properties for r in required)
        and len(set(required)) == len(required)
    ):
        errors.append(field_error(f"{field}.required", "must list distinct property names"))
    if not isinstance(schema.get("additionalProperties", True), bool):
        errors.append(field_error(f"{field}.additionalProperties", "must be true or false"))
    return errors


def _string_problem(prop: dict[str, Any], value: str) -> str | None:
    if len(value) < prop.get("minLength", 0):
        return f"must be at least {prop['minLength']} characters"
    if len(value) > prop.get("maxLength", math.inf):
        return f"must be at most {prop['maxLength']} characters"
    if "pattern" in prop and (problem := _pattern_problem(prop["pattern"], value)):
        return problem
    fmt = prop.get("format")
    if fmt == "email" and not EMAIL_RE.fullmatch(value):
        return "not a valid e-mail address"
    if fmt == "date" and not _is_date(value):
        return "not a valid date (YYYY-MM-DD)"
    return None


def _pattern_problem(pattern: str, value: str) -> str | None:
    try:
        return None if user_search(pattern, value) else "does not match the required pattern"
    except PatternError as exc:
        # Too long to match, or a pattern saved before RE2 that it cannot run: refuse.
        return str(exc)


def _is_date(value: str) -> bool:
    # RFC 3339 full-date only: date.fromisoformat alone also takes "20240131" and week dates.
    if not DATE_RE.fullmatch(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _number_problem(prop: dict[str, Any], value: float) -> str | None:
    if value < prop.get("minimum", -math.inf):
        return f"must be at least {prop['minimum']}"
    if value > prop.get("maximum", math.inf):
        return f"must be at most {prop['maximum']}"
    return None


def _value_problem(prop: dict[str, Any], value: object) -> str | None:
    """The first way ``value`` breaks the property's rules, or None. ``prop`` is checked."""
    kind = prop["type"]
    if not TYPE_CHECKS[kind](value):
        return f"must be of type {kind}" if kind != "array" else "must be a list of strings"
    if "enum" in prop and value not in prop["enum"]:
        return "must be one of the listed values"
    if isinstance(value, str):
        return _string_problem(prop, value)
    if isinstance(value, list):
        problems = (_value_problem(prop["items"], item) for item in value)
        first = next((p for p in problems if p), None)
        return f"every item {first}" if first else None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _number_problem(prop, value)
    return None


def validate(
    schema: dict[str, Any], values: object, field: str = "custom_fields"
) -> list[dict[str, Any]]:
    """Field errors naming ``<field>.<property>`` (a ticket's ``custom_fields``, a CI's
    ``attributes``); ``schema`` passed check_schema."""
    if not isinstance(values, dict):
        return [field_error(field, "must be an object")]
    properties: dict[str, Any] = schema.get("properties", {})
    errors = [
        _field_error(field, name, "required")
        for name in schema.get("required", [])
        if values.get(name) is None
    ]
    for name, value in values.items():
        prop = properties.get(name)
        if prop is None:
            if not schema.get("additionalProperties", True):
                errors.append(_field_error(field, name, "unknown field"))
        elif value is not None and (problem := _value_problem(prop, value)):
            errors.append(_field_error(field, name, problem))
    return errors


def _field_error(field: str, name: str, message: str) -> dict[str, Any]:
    return field_error(f"{field}.{name}", message, pointer=_pointer(field, name))
