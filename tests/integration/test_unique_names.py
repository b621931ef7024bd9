"""Names unique per tenant are decided by the database, not by a check before the write:
of two concurrent writers of one name (any case), the second waits for the first and then
gets a 409 naming `name`, never a 500 (one mechanism: platform.crud.unique_name)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from servicedesk.catalog.schemas import CategoryCreate
from servicedesk.catalog.service import create_category
from servicedesk.platform import db
from servicedesk.platform.errors import Conflict
from servicedesk.platform.roles import Role
from servicedesk.platform.tenancy import RequestContext
from servicedesk.sla import calendars, policies
from servicedesk.sla.schemas import CalendarCreate, Conditions, PolicyCreate, WorkInterval
from servicedesk.teams.schemas import TeamCreate
from servicedesk.teams.service import create_team
from tests.conftest import make_tenant

DAY = [WorkInterval(start="09:00", end="17:00")]
CREATORS: dict[str, Callable[[RequestContext, str, int], Any]] = {
    "team": lambda ctx, name, _n: create_team(ctx, data=TeamCreate(name=name)),
    "category": lambda ctx, name, _n: create_category(ctx, data=CategoryCreate(name=name)),
    "calendar": lambda ctx, name, _n: calendars.create(
        ctx, data=CalendarCreate(name=name, timezone="UTC", week=[DAY] * 5 + [[], []])
    ),
    "SLA policy": lambda ctx, name, n: policies.create(
        ctx,
        data=PolicyCreate(
            name=name,
            position=n,
            conditions=Conditions(priorities=["high"]),
            first_response_minutes=60,
        ),
    ),
}


def _create(tenant: Any, what: str, name: str, position: int) -> Any:
    with db.transaction() as session:
        tenant_id, user_id = uuid.UUID(tenant.tenant_id), uuid.UUID(tenant.admin.user_id)
        db.set_tenant(session, tenant_id=tenant_id, user_id=user_id)
        ctx = RequestContext(session=session, tenant_id=tenant_id, user_id=user_id, role=Role.ADMIN)
        return CREATORS[what](ctx, name, position).id


@pytest.mark.parametrize("what", list(CREATORS))
def test_of_two_concurrent_creates_of_one_name_the_second_gets_409(client, what):
    tenant = make_tenant(client, roles=())
    name = f"Night shift {uuid.uuid4().hex[:6]}"
    outcome: list[Any] = []

    def second() -> None:
        try:
            outcome.append(_create(tenant, what, name.upper(), 20))
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test judges
            outcome.append(exc)

    with db.transaction() as session:
        tenant_id, user_id = uuid.UUID(tenant.tenant_id), uuid.UUID(tenant.admin.user_id)
        db.set_tenant(session, tenant_id=tenant_id, user_id=user_id)
        ctx = RequestContext(session=session, tenant_id=tenant_id, user_id=user_id, role=Role.ADMIN)
        first = CREATORS[what](ctx, name, 10).id
        worker = threading.Thread(target=second)
        worker.start()
        worker.join(timeout=0.5)
        # A check before the write sees nothing yet; the unique index makes it wait.
        assert worker.is_alive(), f"the second {what} must wait for the first transaction"
    worker.join(timeout=10)
    assert first is not None
    [result] = outcome
    assert isinstance(result, Conflict), f"{what}: {result!r}"
    assert result.status == 409
    assert [e["field"] for e in result.errors] == ["name"]


@pytest.mark.parametrize("what", list(CREATORS))
def test_a_taken_name_in_any_case_is_a_409_naming_name(client, what):
    tenant = make_tenant(client, roles=())
    name = f"Desk {uuid.uuid4().hex[:6]}"
    _create(tenant, what, name, 10)
    with pytest.raises(Conflict) as caught:
        _create(tenant, what, name.lower(), 20)
    assert caught.value.errors[0]["field"] == "name"
    assert "already taken" in caught.value.errors[0]["detail"]
