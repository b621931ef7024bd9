"""The SCIM filter grammar (RFC 7644 §3.4.2.2) and PATCH paths (§3.5.2), without a
database: the parse tree, its bounds, and that values only ever become bind parameters."""

from __future__ import annotations

import pytest

from servicedesk.scim import users
from servicedesk.scim.errors import ScimError
from servicedesk.scim.filter import (
    Compare,
    Logical,
    Not,
    PatchPath,
    Present,
    ValuePath,
    compile_filter,
    parse,
    parse_path,
)
from servicedesk.scim.patch import matches


def test_precedence_and_binds_tighter_than_or() -> None:
    tree = parse('a eq "1" or b eq "2" and not (c pr)')
    assert tree == Logical(
        "or",
        Compare("a", "eq", "1"),
        Logical("and", Compare("b", "eq", "2"), Not(Present("c"))),
    )


def test_names_and_operators_are_case_insensitive_and_the_urn_optional() -> None:
    assert parse('urn:ietf:params:scim:schemas:core:2.0:User:UserName EQ "X"') == Compare(
        "username", "eq", "X"
    )


def test_literals() -> None:
    assert parse("active eq true") == Compare("active", "eq", True)
    assert parse("x eq null") == Compare("x", "eq", None)
    assert parse("x gt 1.5") == Compare("x", "gt", 1.5)
    assert parse('x eq "a \\"quoted\\" \\u00e9"') == Compare("x", "eq", 'a "quoted" é')


def test_value_paths() -> None:
    assert parse('emails[type eq "work" and value co "@x"]') == ValuePath(
        "emails",
        Logical("and", Compare("type", "eq", "work"), Compare("value", "co", "@x")),
    )


@pytest.mark.parametrize(
    "source",
    [
        "",
        "userName",
        'userName eq "x" or',
        'userName ex "x"',
        'emails[type eq "work"',
        'emails[type[value eq "x"] eq "y"]',
        '"x" eq userName',
        "userName eq 'x'",
        "(" * 20 + 'a eq "x"' + ")" * 20,
        " and ".join(['a eq "x"'] * 51),
        'a eq "x"' + " " * 2000,
    ],
)
def test_bad_filters_are_invalid_filter(source: str) -> None:
    with pytest.raises(ScimError) as caught:
        parse(source)
    assert caught.value.status == 400 and caught.value.scim_type == "invalidFilter"


def test_values_become_bind_parameters_only() -> None:
    sql, params = compile_filter(
        'userName eq "x\' OR 1=1 --" and emails co "50%_"', users.FILTERABLE
    )
    assert "OR 1=1" not in sql and "50%" not in sql
    assert params == {"f0": "x' or 1=1 --", "f1": "%50\\%\\_%"}


def test_unknown_attributes_and_wrong_types_are_refused() -> None:
    for source in ('shoe eq "1"', 'active eq "yes"', "userName eq true", 'emails.shoe eq "x"'):
        with pytest.raises(ScimError, match="filter"):
            compile_filter(source, users.FILTERABLE)


def test_patch_paths() -> None:
    assert parse_path("active") == PatchPath("active")
    assert parse_path("name.givenName") == PatchPath("name", None, "givenname")
    found = parse_path('emails[type eq "work"].value')
    assert found.attribute == "emails" and found.sub == "value"
    assert found.value_filter == Compare("type", "eq", "work")
    with pytest.raises(ScimError) as caught:
        parse_path("emails[type eq]")
    assert caught.value.scim_type == "invalidPath"


def test_value_filters_match_in_python_as_in_sql() -> None:
    work = {"value": "A@Example.com", "type": "work"}
    assert matches(parse('type eq "WORK" and value ew "example.com"'), work)
    assert not matches(parse('not (type eq "work")'), work)
    assert matches(parse("value pr"), work) and not matches(parse("primary pr"), work)
