"""The custom-fields JSON Schema subset: what a category may declare, and what a ticket must send."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from servicedesk.catalog.jsonschema import MAX_PROPERTIES, check_schema, validate

SCHEMA = {
    "type": "object",
    "properties": {
        "asset_tag": {"type": "string", "pattern": "IT-[0-9]{4}", "minLength": 7, "maxLength": 12},
        "kind": {"type": "string", "enum": ["laptop", "phone"], "title": "Kind"},
        "screens": {"type": "integer", "minimum": 1, "maximum": 4},
        "budget": {"type": "number", "minimum": 0.5},
        "urgent": {"type": "boolean", "default": False},
        "needed_by": {"type": "string", "format": "date"},
        "manager_email": {"type": "string", "format": "email"},
        "apps": {"type": "array", "items": {"type": "string", "enum": ["mail", "vpn"]}},
    },
    "required": ["asset_tag", "kind"],
    "additionalProperties": False,
}
VALID = {"asset_tag": "IT-1234", "kind": "laptop"}

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def _fields(errors: list[dict]) -> set[str]:
    return {e["field"] for e in errors}


def _prop(**prop) -> dict:
    return {"type": "object", "properties": {"f": prop}}


# --- check_schema --------------------------------------------------------------------


def test_the_full_subset_is_accepted():
    assert check_schema(SCHEMA) == []
    assert check_schema({"type": "object", "properties": {}}) == []


@pytest.mark.parametrize(
    ("schema", "field"),
    [
        ([], "fields_schema"),
        ("object", "fields_schema"),
        ({"properties": {}}, "fields_schema.type"),
        ({"type": "array", "properties": {}}, "fields_schema.type"),
        ({"type": "object"}, "fields_schema.properties"),
        ({"type": "object", "properties": []}, "fields_schema.properties"),
        ({"type": "object", "properties": {}, "$ref": "#/x"}, "fields_schema.$ref"),
        ({"type": "object", "properties": {}, "oneOf": []}, "fields_schema.oneOf"),
        ({"type": "object", "properties": {}, "required": "a"}, "fields_schema.required"),
        ({"type": "object", "properties": {}, "required": ["a"]}, "fields_schema.required"),
        (
            {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a", "a"]},
            "fields_schema.required",
        ),
        (
            {"type": "object", "properties": {}, "additionalProperties": {"type": "string"}},
            "fields_schema.additionalProperties",
        ),
        (
            {"type": "object", "properties": {"1st": {"type": "string"}}},
            "fields_schema.properties.1st",
        ),
        (
            {"type": "object", "properties": {"a.b": {"type": "string"}}},
            "fields_schema.properties.a.b",
        ),
        (
            {"type": "object", "properties": {"x" * 65: {"type": "string"}}},
            "fields_schema.properties." + "x" * 65,
        ),
        ({"type": "object", "properties": {"f": "string"}}, "fields_schema.properties.f"),
    ],
)
def test_bad_top_level_is_named(schema, field):
    assert field in _fields(check_schema(schema))


@pytest.mark.parametrize(
    ("prop", "keyword"),
    [
        ({}, "type"),
        ({"type": "object"}, "type"),
        ({"type": "null"}, "type"),
        ({"type": ["string", "null"]}, "type"),
        ({"type": "string", "items": {"type": "string"}}, "items"),
        ({"type": "string", "minimum": 1}, "minimum"),
        ({"type": "integer", "pattern": "a"}, "pattern"),
        ({"type": "boolean", "maxLength": 3}, "maxLength"),
        ({"type": "string", "minLength": -1}, "minLength"),
        ({"type": "string", "maxLength": 2.5}, "maxLength"),
        ({"type": "string", "maxLength": True}, "maxLength"),
        ({"type": "string", "minLength": 5, "maxLength": 2}, "minLength"),
        ({"type": "string", "pattern": "(unclosed"}, "pattern"),
        ({"type": "string", "pattern": 5}, "pattern"),
        ({"type": "string", "pattern": "a" * 501}, "pattern"),
        ({"type": "string", "pattern": r"(a)\1"}, "pattern"),
        ({"type": "string", "pattern": "a(?=b)"}, "pattern"),
        ({"type": "string", "pattern": "(?<!a)b"}, "pattern"),
        ({"type": "string", "pattern": "((((a{100}){100}){100}){100})"}, "pattern"),
        ({"type": "string", "format": "uri"}, "format"),
        ({"type": "integer", "minimum": "1"}, "minimum"),
        ({"type": "number", "maximum": True}, "maximum"),
        ({"type": "number", "minimum": 3, "maximum": 1}, "minimum"),
        ({"type": "string", "enum": []}, "enum"),
        ({"type": "string", "enum": "a"}, "enum"),
        ({"type": "string", "enum": ["a", 1]}, "enum"),
        ({"type": "string", "enum": ["a", "a"]}, "enum"),
        ({"type": "integer", "enum": [1, True]}, "enum"),
        ({"type": "string", "enum": [str(i) for i in range(201)]}, "enum"),
        ({"type": "array"}, "items"),
        ({"type": "array", "items": {"type": "integer"}}, "items"),
        ({"type": "array", "items": {"type": "string", "title": "x"}}, "items.title"),
        ({"type": "array", "items": {"type": "string", "pattern": "("}}, "items.pattern"),
        ({"type": "array", "items": {"type": "string"}, "enum": [["a"]]}, "enum"),
        ({"type": "string", "title": 3}, "title"),
        ({"type": "string", "description": "d" * 1001}, "description"),
        ({"type": "string", "default": 3}, "default"),
        ({"type": "integer", "minimum": 1, "default": 0}, "default"),
        ({"type": "string", "enum": ["a"], "default": "b"}, "default"),
        ({"type": "string", "const": "a"}, "const"),
        ({"type": "string", "$ref": "#/x"}, "$ref"),
    ],
)
def test_bad_property_keywords_are_named(prop, keyword):
    assert f"fields_schema.properties.f.{keyword}" in _fields(check_schema(_prop(**prop)))


def test_more_than_fifty_properties_are_refused():
    props = {f"f{i}": {"type": "string"} for i in range(MAX_PROPERTIES + 1)}
    errors = check_schema({"type": "object", "properties": props})
    assert _fields(errors) == {"fields_schema.properties"}
    del props["f0"]
    assert check_schema({"type": "object", "properties": props}) == []


def test_errors_are_field_errors_with_json_pointers():
    errors = check_schema({"type": "object", "properties": {"a/b~": {"type": "string"}}})
    assert errors == [
        {
            "field": "fields_schema.properties.a/b~",
            "pointer": "/fields_schema/properties/a~1b~0",
            "detail": errors[0]["detail"],
        }
    ]
    nested = check_schema(_prop(type="string", minLength=-1))[0]
    assert nested["pointer"] == "/fields_schema/properties/f/minLength"


# --- validate ------------------------------------------------------------------------


def test_valid_values_pass():
    full = {
        **VALID,
        "screens": 2,
        "budget": 10,
        "urgent": True,
        "needed_by": "2026-02-28",
        "manager_email": "boss@example.org",
        "apps": ["mail", "vpn"],
    }
    assert validate(SCHEMA, full) == []
    assert validate(SCHEMA, VALID) == []


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"kind": "laptop"}, "asset_tag"),
        ({"asset_tag": None, "kind": "laptop"}, "asset_tag"),
        ({**VALID, "asset_tag": "XX-1234"}, "asset_tag"),
        ({**VALID, "asset_tag": "IT-12"}, "asset_tag"),
        ({**VALID, "asset_tag": "IT-1234-56789"}, "asset_tag"),
        ({**VALID, "asset_tag": 1234}, "asset_tag"),
        ({**VALID, "kind": "tablet"}, "kind"),
        ({**VALID, "kind": ["laptop"]}, "kind"),
        ({**VALID, "screens": 0}, "screens"),
        ({**VALID, "screens": 5}, "screens"),
        ({**VALID, "screens": 2.5}, "screens"),
        ({**VALID, "screens": "2"}, "screens"),
        ({**VALID, "screens": True}, "screens"),
        ({**VALID, "budget": 0.25}, "budget"),
        ({**VALID, "budget": False}, "budget"),
        ({**VALID, "budget": float("inf")}, "budget"),
        ({**VALID, "budget": float("nan")}, "budget"),
        ({**VALID, "urgent": 1}, "urgent"),
        ({**VALID, "urgent": "true"}, "urgent"),
        ({**VALID, "needed_by": "2026-02-30"}, "needed_by"),
        ({**VALID, "needed_by": "20260228"}, "needed_by"),
        ({**VALID, "needed_by": "2026-02-28\n"}, "needed_by"),
        ({**VALID, "needed_by": "2026-02-28T10:00:00"}, "needed_by"),
        ({**VALID, "manager_email": "boss"}, "manager_email"),
        ({**VALID, "manager_email": "boss@example.org\n"}, "manager_email"),
        ({**VALID, "apps": "mail"}, "apps"),
        ({**VALID, "apps": ["mail", 3]}, "apps"),
        ({**VALID, "apps": ["mail", "ftp"]}, "apps"),
        ({**VALID, "colour": "red"}, "colour"),
    ],
)
def test_invalid_values_name_the_custom_field(values, field):
    errors = validate(SCHEMA, values)
    assert _fields(errors) == {f"custom_fields.{field}"}
    assert errors[0]["pointer"] == f"/custom_fields/{field}"


def test_every_problem_is_reported_at_once():
    errors = validate(SCHEMA, {"screens": 9, "extra": 1})
    assert _fields(errors) == {
        "custom_fields.asset_tag",
        "custom_fields.kind",
        "custom_fields.screens",
        "custom_fields.extra",
    }


def test_values_must_be_an_object():
    assert _fields(validate(SCHEMA, ["IT-1234"])) == {"custom_fields"}


def test_optional_null_is_absent_and_integral_floats_are_integers():
    assert validate(SCHEMA, {**VALID, "screens": None, "urgent": None}) == []
    assert validate(SCHEMA, {**VALID, "screens": 3.0}) == []


def test_pattern_searches_like_json_schema_and_is_not_anchored():
    schema = _prop(type="string", pattern="[0-9]+")
    assert validate(schema, {"f": "abc123def"}) == []
    assert _fields(validate(schema, {"f": "abc"})) == {"custom_fields.f"}
    anchored = _prop(type="string", pattern="^[0-9]+$")
    assert _fields(validate(anchored, {"f": "abc123"})) == {"custom_fields.f"}


def test_additional_properties_default_to_allowed():
    schema = {"type": "object", "properties": {"a": {"type": "string"}}}
    assert validate(schema, {"a": "x", "anything": {"nested": [1]}}) == []
    closed = {**schema, "additionalProperties": False}
    assert _fields(validate(closed, {"b": 1})) == {"custom_fields.b"}


def test_default_schema_accepts_empty_values():
    assert validate({"type": "object", "properties": {}}, {}) == []


# --- properties ------------------------------------------------------------------------

NAMES = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,20}", fullmatch=True)


@st.composite
def string_props(draw):
    prop: dict = {"type": "string"}
    low = draw(st.integers(0, 10))
    if draw(st.booleans()):
        prop["minLength"] = low
    if draw(st.booleans()):
        prop["maxLength"] = low + draw(st.integers(0, 10))
    if draw(st.booleans()):
        prop["enum"] = draw(st.lists(st.text(max_size=5), min_size=1, max_size=5, unique=True))
    if draw(st.booleans()):
        prop["pattern"] = draw(st.sampled_from(["a", "^[a-z]*$", r"\d{2}", "x|y"]))
    return prop


@st.composite
def number_props(draw):
    prop: dict = {"type": draw(st.sampled_from(["integer", "number"]))}
    low = draw(st.integers(-100, 100))
    if draw(st.booleans()):
        prop["minimum"] = low
    if draw(st.booleans()):
        prop["maximum"] = low + draw(st.integers(0, 100))
    return prop


PROPS = (
    string_props()
    | number_props()
    | st.just({"type": "boolean"})
    | st.just({"type": "array", "items": {"type": "string", "maxLength": 3}})
)


@given(st.dictionaries(NAMES, PROPS, max_size=MAX_PROPERTIES), st.booleans())
def test_schemas_built_from_the_subset_are_accepted(properties, closed):
    schema = {
        "type": "object",
        "properties": properties,
        "required": sorted(properties)[:2],
        "additionalProperties": not closed,
    }
    assert check_schema(schema) == []


@given(JSON)
def test_check_schema_never_raises_on_arbitrary_json(schema):
    errors = check_schema(schema)
    assert all(e["field"].startswith("fields_schema") for e in errors)


@given(
    st.dictionaries(
        st.sampled_from(
            [
                "type",
                "enum",
                "minLength",
                "maxLength",
                "pattern",
                "minimum",
                "maximum",
                "format",
                "items",
                "default",
            ]
        ),
        JSON,
        max_size=5,
    )
)
def test_check_schema_never_raises_on_arbitrary_property_keywords(prop):
    for kind in ("string", "integer", "number", "boolean", "array"):
        check_schema(_prop(**{**prop, "type": kind}))


@given(st.dictionaries(st.text(max_size=10), JSON, max_size=6))
def test_validate_never_raises_and_names_only_custom_fields(values):
    for error in validate(SCHEMA, values):
        name = error["field"].removeprefix("custom_fields.")
        assert name in values or name in SCHEMA["required"]


@given(number_props(), st.integers(-300, 300))
def test_numbers_pass_exactly_when_within_bounds(prop, value):
    inside = prop.get("minimum", -1000) <= value <= prop.get("maximum", 1000)
    assert (validate(_prop(**prop), {"f": value}) == []) == inside


def _ecma(pattern: str) -> str:
    """The pattern as JSON Schema (ECMA-262) reads it: ASCII classes, "$" only at the end."""
    return pattern.replace("$", r"\Z")


@given(string_props(), st.text(max_size=25))
def test_strings_pass_exactly_when_every_rule_holds(prop, value):
    expected = (
        prop.get("minLength", 0) <= len(value) <= prop.get("maxLength", 10**6)
        and value in prop.get("enum", [value])
        and re.search(_ecma(prop.get("pattern", "")), value, re.ASCII) is not None
    )
    assert (validate(_prop(**prop), {"f": value}) == []) == expected


@given(st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False))
def test_booleans_are_not_numbers_and_numbers_are_not_booleans(value):
    is_bool = isinstance(value, bool)
    assert (validate(_prop(type="boolean"), {"f": value}) == []) == is_bool
    assert (validate(_prop(type="number"), {"f": value}) == []) == (not is_bool)
    integral = not is_bool and float(value).is_integer()
    assert (validate(_prop(type="integer"), {"f": value}) == []) == integral
