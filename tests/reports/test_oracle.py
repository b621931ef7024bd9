"""The oracle on two hand-computed tickets around the spring change of Europe/Paris (29 March
2026, 01:00 UTC): a Paris-hours ticket with a lunch break, a pause, a resolution, a
resolved -> closed that is not a second resolution, a reopen and a second resolution; and a
24x7 ticket created in the hour the clocks skip."""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest

from tests.conftest import TestDatabase
from tests.reports import dataset
from tests.reports.oracle import Oracle, Query

A, B = uuid.UUID(int=0xA), uuid.UUID(int=0xB)


def at(day: int, hour: int, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


@pytest.fixture(scope="module")
def oracle(database: TestDatabase) -> Iterator[Oracle]:
    with database.connect("owner") as conn:
        tenant = dataset.create_tenant(conn, f"hand-{uuid.uuid4().hex[:8]}", random.Random(1))
        people = dataset.seed_people(conn, tenant, "hand", dataset.Shape(agents=2, requesters=1))
        agent, requester = people.agents[0], people.requesters[0]
        line = dataset._line
        tickets = [
            (A, tenant, "H-1", "a", "resolved", "high", requester, agent, at(27, 16), at(30, 8)),
            (
                B,
                tenant,
                "H-2",
                "b",
                "resolved",
                "low",
                requester,
                agent,
                at(29, 0).replace(minute=30),
                at(29, 1).replace(minute=30),
            ),
        ]
        dataset.copy_into(
            conn,
            "tickets",
            "id, tenant_id, number, title, status, priority, requester_id, assignee_id,"
            " created_at, first_response_at",
            [line(t) for t in tickets],
        )
        changes = [
            (A, at(30, 8), "new", "open"),
            (A, at(30, 9), "open", "pending"),
            (A, at(30, 12), "pending", "open"),
            (A, at(30, 13), "open", "resolved"),
            (A, at(31, 8), "resolved", "closed"),
            (A, at(1, 8, 4), "closed", "open"),
            (A, at(1, 9, 4), "open", "resolved"),
            (B, at(29, 2).replace(minute=30), "new", "resolved"),
        ]
        dataset.copy_into(
            conn,
            "ticket_events",
            "tenant_id, ticket_id, type, visibility, payload, created_at",
            [
                line(
                    (
                        tenant,
                        t,
                        "reopened" if a == "closed" else "status_changed",
                        "public",
                        json.dumps({"from": a, "to": b}),
                        when.isoformat(),
                    )
                )
                for t, when, a, b in changes
            ],
        )
        dataset.copy_into(
            conn,
            "ticket_comments",
            "tenant_id, ticket_id, author_id, visibility, body, created_at",
            [
                line((tenant, A, agent, "public", "hi", at(30, 8).isoformat())),
                line((tenant, A, requester, "public", "thanks", at(30, 12).isoformat())),
                line((tenant, A, agent, "internal", "note", at(30, 9).isoformat())),
                line(
                    (tenant, B, agent, "public", "done", at(29, 1).replace(minute=30).isoformat())
                ),
            ],
        )
        dataset.copy_into(
            conn,
            "ticket_sla_pauses",
            "tenant_id, ticket_id, started_at, ended_at, reason",
            [line((tenant, A, at(30, 9).isoformat(), at(30, 12).isoformat(), "pending"))],
        )
        dataset.copy_into(
            conn,
            "ticket_sla_targets",
            "tenant_id, ticket_id, target, policy_id, budget_seconds, clock_at, met_at",
            [
                line(
                    (
                        tenant,
                        A,
                        "first_response",
                        people.policies["urgent"],
                        3600,
                        at(30, 8).isoformat(),
                        at(30, 8).isoformat(),
                    )
                ),
                line(
                    (
                        tenant,
                        A,
                        "resolution",
                        people.policies["urgent"],
                        28800,
                        at(1, 9, 4).isoformat(),
                        at(1, 9, 4).isoformat(),
                    )
                ),
            ],
        )
        conn.commit()
        yield Oracle(conn, tenant, at(10, 0, 4))


WEEK = (date(2026, 3, 27), date(2026, 4, 2))


def test_first_response_in_business_and_wall_seconds(oracle: Oracle) -> None:
    # A: Friday 17:00-18:00 Paris (CET) and Monday 09:00-10:00 (CEST) = 2 h; 64 h wall.
    # B: 24x7, one hour.
    totals = oracle.report("first-response-time", Query(*WEEK, "Europe/Paris")).totals
    assert totals == {
        "count": 2,
        "median_business": 5400.0,
        "mean_business": 5400.0,
        "p90_business": 3600 + 0.9 * 3600,
        "median_wall": (3600 + 230_400) / 2,
        "mean_wall": (3600 + 230_400) / 2,
    }


def test_resolution_runs_to_the_last_resolution_less_the_pause(oracle: Oracle) -> None:
    # A to Wednesday 11:00 Paris: Fri 1 h + Mon 8 h - pause 11:00-14:00 (2 h of it business,
    # lunch excluded) + Tue 8 h + Wed 2 h = 17 h; wall 113 h. B: two hours.
    totals = oracle.report("resolution-time", Query(*WEEK, "Europe/Paris")).totals
    assert totals["count"] == 2
    assert totals["mean_business"] == (61_200 + 7200) / 2
    assert totals["mean_wall"] == (406_800 + 7200) / 2


def test_volume_by_local_day_in_two_zones(oracle: Oracle) -> None:
    paris = oracle.report("volume", Query(*WEEK, "Europe/Paris", "day")).rows
    assert paris[(date(2026, 3, 27), None)] == {"created": 1, "resolved": 0, "reopened": 0}
    assert paris[(date(2026, 3, 29), None)] == {"created": 1, "resolved": 1, "reopened": 0}
    assert paris[(date(2026, 3, 30), None)] == {"created": 0, "resolved": 1, "reopened": 0}
    assert paris[(date(2026, 3, 31), None)] == {"created": 0, "resolved": 0, "reopened": 0}
    assert paris[(date(2026, 4, 1), None)] == {"created": 0, "resolved": 1, "reopened": 1}
    york = oracle.report("volume", Query(*WEEK, "America/New_York", "day")).rows
    assert york[(date(2026, 3, 28), None)]["created"] == 1  # B: 20:30 EDT on the 28th
    assert york[(date(2026, 3, 29), None)]["created"] == 0


def test_reopen_rate_one_touch_and_backlog(oracle: Oracle) -> None:
    q = Query(*WEEK, "Europe/Paris")
    assert oracle.report("reopen-rate", q).totals == {"reopened": 1, "resolved": 3, "ratio": 1 / 3}
    assert oracle.report("one-touch", q).totals == {"resolved": 2, "one_touch": 1, "ratio": 0.5}
    backlog = oracle.report("backlog", Query(*WEEK, "Europe/Paris", "day")).rows
    assert backlog[(date(2026, 3, 28), None)] == {"open": 1}  # A new, B not yet created
    assert backlog[(date(2026, 3, 29), None)] == {"open": 1}
    assert backlog[(date(2026, 3, 30), None)] == {"open": 0}
    assert backlog[(date(2026, 3, 31), None)] == {"open": 0}  # closed is not open


def test_sla_compliance_counts_met_targets(oracle: Oracle) -> None:
    totals = oracle.report("sla-compliance", Query(*WEEK, "UTC")).totals
    assert totals["on_time"] == 2 and totals["late"] == 0 and totals["compliance"] == 1.0
    assert totals["first_response_on_time"] == 1 and totals["resolution_on_time"] == 1
