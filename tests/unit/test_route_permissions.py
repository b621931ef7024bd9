"""The permission change keeps every route's answer: for each route and built-in role,
allowed or denied equals what the fixed role ladder answered before (the snapshot in
tests/fixtures/route_min_roles.json was generated once from main's ``route_min_role``, at
65ff700, before routes named permissions). A new route is added to the snapshot by hand,
with the floor its permission has."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from local.app import build_app
from servicedesk.platform import permissions
from servicedesk.platform.app import api_routes, route_permission
from servicedesk.platform.permissions import BUILTIN, Permission
from servicedesk.platform.rbac import PUBLIC
from servicedesk.platform.roles import ROLES, Role

SNAPSHOT = json.loads((Path(__file__).parents[1] / "fixtures" / "route_min_roles.json").read_text())


@pytest.fixture(scope="module")
def policies() -> dict[str, Permission | str]:
    found: dict[str, Permission | str] = {}
    for route in api_routes(build_app()):
        policy = route_permission(route)
        assert policy is not None, route.path
        for method in route.methods:
            found[f"{method} {route.path}"] = policy
    return found


def test_the_snapshot_names_every_route(policies):
    assert set(policies) == set(SNAPSHOT)


@pytest.mark.parametrize("role", ROLES)
def test_each_route_answers_each_builtin_role_as_before(policies, role):
    differ = []
    for key, policy in sorted(policies.items()):
        before = SNAPSHOT[key]
        if before == PUBLIC or policy == PUBLIC:
            if before != policy:
                differ.append((key, before, str(policy)))
            continue
        assert isinstance(policy, Permission)
        allowed_before = role.at_least(Role(before))
        allowed_now = policy in BUILTIN[role]
        if allowed_before != allowed_now:
            differ.append((key, before, policy.value))
    assert differ == []


def test_builtin_sets_grow_with_the_ladder():
    for lower, higher in itertools.pairwise(ROLES):
        assert BUILTIN[lower] < BUILTIN[higher]
    assert BUILTIN[Role.ADMIN] == frozenset(Permission)


def test_every_permission_is_described_and_named_area_colon_action():
    for permission in Permission:
        area, _, action = permission.value.partition(":")
        assert area and action, permission
        assert permission.grant.description and permission.grant.area
    assert permissions.parse(["ticket:read", "nope"]) == [Permission.TICKET_READ, None]
