"""The web app and the server hold the same role and status sets (web/src/lib/domain.ts)."""

from __future__ import annotations

import re
import typing
from pathlib import Path

from servicedesk.platform import roles
from servicedesk.sla.schemas import PolicyCreate
from servicedesk.tickets import states

DOMAIN_TS = Path(__file__).resolve().parents[2] / "web" / "src" / "lib" / "domain.ts"


def _web_sets() -> dict[str, list[str]]:
    """Each ``export const NAME ... = <array literal | OTHER.filter((x) => x !== "v")>``."""
    found: dict[str, list[str]] = {}
    for name, value in re.findall(r"export const (\w+)[^=]*= (.+?);\n", DOMAIN_TS.read_text()):
        literal = re.fullmatch(r"\[([^\]]*)\]", value)
        excluded = re.fullmatch(r"(\w+)\.filter\(\((\w+)\) => \2 !== \"(\w+)\"\)", value)
        if literal:
            found[name] = re.findall(r"\"(\w+)\"", literal.group(1))
        elif excluded and excluded.group(1) in found:
            found[name] = [v for v in found[excluded.group(1)] if v != excluded.group(3)]
        else:
            raise AssertionError(f"domain.ts: cannot read {name} = {value}; teach this test")
    return found


def test_the_web_app_has_the_servers_roles_in_the_same_order() -> None:
    web = _web_sets()
    assert web["ROLES"] == [role.value for role in roles.ROLES]
    assert web["STAFF_ROLES"] == [role.value for role in roles.STAFF_ROLES]
    assert [role.rank for role in roles.ROLES] == sorted(role.rank for role in roles.ROLES)
    assert set(roles.STAFF_ROLES) == {role for role in roles.Role if role.is_staff}


def test_the_web_app_has_the_servers_status_sets() -> None:
    web = _web_sets()
    assert set(web["ACTIVE_STATUSES"]) == states.ACTIVE_STATUSES
    assert set(web["FINISHED_STATUSES"]) == states.FINISHED_STATUSES
    assert set(web["RESOLVED_STATUSES"]) == states.RESOLVED_STATUSES
    assert set(web["APPROVAL_STATUSES"]) == states.APPROVAL_STATUSES
    assert set(states.Status) == (
        states.ACTIVE_STATUSES | states.FINISHED_STATUSES | states.APPROVAL_STATUSES
    )
    assert not states.ACTIVE_STATUSES & states.FINISHED_STATUSES


def test_an_sla_policy_may_pause_on_exactly_the_active_statuses() -> None:
    """The policy schema spells them as a Literal (an OpenAPI enum), so compare here."""
    annotation = PolicyCreate.model_fields["pause_statuses"].annotation
    (item,) = typing.get_args(annotation)
    assert set(typing.get_args(item)) == states.ACTIVE_STATUSES
