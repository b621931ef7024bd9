"""The seeded dataset holds what the services would have written, and the oracle's own
arithmetic agrees with PostgreSQL and with hand-computed cases: both must be right before
they judge the reports (tests/reports/test_acceptance.py)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from servicedesk.sla.business_time import BusinessCalendar, business_seconds_between_excluding
from tests.conftest import TestDatabase
from tests.reports import dataset
from tests.reports.oracle import ACTIVE, AGE_BANDS, Oracle, Query, percentile_cont

SHAPE = dataset.Shape(tickets=400, seed=1919)


@pytest.fixture(scope="module")
def seeded(database: TestDatabase) -> Iterator[tuple[dataset.People, Any]]:
    with database.connect("owner") as conn:
        people = dataset.seed(conn, SHAPE)
        conn.commit()
    conn = database.connect("owner")
    yield people, conn
    conn.close()


def _rows(conn: Any, sql: str, tenant: uuid.UUID) -> list[tuple[Any, ...]]:
    return list(conn.execute(sql, (tenant,)).fetchall())


def test_generator_is_deterministic_for_a_seed() -> None:
    def first_batch(seed: int) -> dataset.Batch:
        people = _fake_people()
        return next(dataset.Generator(people, dataset.Shape(tickets=50, seed=seed)).batches())

    a, b, c = first_batch(5), first_batch(5), first_batch(6)
    assert a.tickets == b.tickets and a.events == b.events and a.targets == b.targets
    assert a.tickets != c.tickets


def _fake_people() -> dataset.People:
    ids = iter(uuid.UUID(int=n) for n in range(1, 100))
    agents = [next(ids) for _ in range(4)]
    teams = [next(ids) for _ in range(3)]
    return dataset.People(
        tenant_id=next(ids),
        slug="fake",
        manager=next(ids),
        manager_email="",
        agents=agents,
        staff_requester=agents[-1],
        requesters=[next(ids) for _ in range(5)],
        names={},
        roles={},
        teams=teams,
        team_names={},
        members={t: agents[i::3] or agents for i, t in enumerate(teams)},
        categories=[next(ids) for _ in range(2)],
        category_names={},
        calendars={},
        policies={p.key: next(ids) for p in dataset.POLICIES},
    )


def test_status_history_replays_to_the_current_status_and_timestamps(
    seeded: tuple[dataset.People, Any],
) -> None:
    people, conn = seeded
    history: dict[uuid.UUID, list[tuple[datetime, str, str, str]]] = defaultdict(list)
    for ticket_id, kind, at, payload in _rows(
        conn,
        "SELECT ticket_id, type, created_at, payload FROM ticket_events WHERE tenant_id = %s"
        " AND type IN ('status_changed', 'reopened') ORDER BY created_at, id",
        people.tenant_id,
    ):
        history[ticket_id].append((at, payload["from"], payload["to"], kind))
    tickets = _rows(
        conn,
        "SELECT id, status, resolved_at, closed_at, merged_into_id FROM tickets"
        " WHERE tenant_id = %s",
        people.tenant_id,
    )
    assert len(tickets) == SHAPE.tickets
    kinds: set[str] = set()
    for ticket_id, status, resolved_at, closed_at, _merged in tickets:
        current = "new"
        for _at, before, after, kind in history[ticket_id]:
            assert before == current
            assert (kind == "reopened") == (
                before in ("resolved", "closed", "cancelled") and after == "open"
            )
            current = after
            kinds.add(f"{before}->{after}")
        assert current == status
        last = history[ticket_id][-1][0] if history[ticket_id] else None
        if status == "resolved":
            assert resolved_at == last and closed_at is None
        elif status == "closed":
            assert closed_at == last and resolved_at is not None and resolved_at <= closed_at
        elif status == "cancelled":
            assert closed_at == last
        else:
            assert resolved_at is None and closed_at is None
    # The walk reaches every kind of change the definitions care about.
    for change in (
        "resolved->closed",
        "resolved->open",
        "closed->open",
        "cancelled->open",
        "pending->open",
        "open->pending",
        "in_progress->closed",
        "new->resolved",
    ):
        assert change in kinds, change
    assert sum(1 for t in tickets if t[4] is not None) > 0  # some merged


def test_first_response_is_the_first_public_staff_reply(
    seeded: tuple[dataset.People, Any],
) -> None:
    people, conn = seeded
    rows = _rows(
        conn,
        """SELECT t.id, t.first_response_at,
                  (SELECT min(c.created_at) FROM ticket_comments c
                   JOIN memberships m ON m.tenant_id = c.tenant_id AND m.user_id = c.author_id
                   WHERE c.tenant_id = t.tenant_id AND c.ticket_id = t.id
                     AND c.visibility = 'public' AND c.deleted_at IS NULL
                     AND m.role IN ('agent', 'manager', 'admin')
                     AND c.author_id <> t.requester_id)
           FROM tickets t WHERE t.tenant_id = %s""",
        people.tenant_id,
    )
    assert all(first == reply for _, first, reply in rows)
    assert sum(1 for _, first, _ in rows if first is not None) > SHAPE.tickets // 2
    deleted = _rows(
        conn,
        "SELECT count(*) FROM ticket_comments WHERE tenant_id = %s AND deleted_at IS NOT NULL",
        people.tenant_id,
    )[0][0]
    assert deleted > 0
    staff_requested = _rows(
        conn,
        "SELECT count(*) FROM tickets WHERE tenant_id = %s AND requester_id = "
        f"'{people.staff_requester}'",
        people.tenant_id,
    )[0][0]
    assert staff_requested > 0


def test_pauses_follow_pending_like_the_sla_engine(seeded: tuple[dataset.People, Any]) -> None:
    people, conn = seeded
    changes: dict[uuid.UUID, list[tuple[datetime, str, str]]] = defaultdict(list)
    for ticket_id, at, payload in _rows(
        conn,
        "SELECT ticket_id, created_at, payload FROM ticket_events WHERE tenant_id = %s"
        " AND type IN ('status_changed', 'reopened') ORDER BY created_at, id",
        people.tenant_id,
    ):
        changes[ticket_id].append((at, payload["from"], payload["to"]))
    with_targets = {
        r[0]
        for r in _rows(
            conn,
            "SELECT DISTINCT ticket_id FROM ticket_sla_targets WHERE tenant_id = %s",
            people.tenant_id,
        )
    }
    pauses: dict[uuid.UUID, list[tuple[datetime, datetime | None]]] = defaultdict(list)
    for ticket_id, start, end in _rows(
        conn,
        "SELECT ticket_id, started_at, ended_at FROM ticket_sla_pauses WHERE tenant_id = %s"
        " ORDER BY started_at",
        people.tenant_id,
    ):
        pauses[ticket_id].append((start, end))
    assert pauses
    for ticket_id, history in changes.items():
        expected: list[tuple[datetime, datetime | None]] = []
        if ticket_id in with_targets:
            for at, before, after in history:
                if after == "pending" and before != "pending":
                    expected.append((at, None))
                elif before == "pending" and expected and expected[-1][1] is None:
                    expected[-1] = (expected[-1][0], at)
        assert pauses.get(ticket_id, []) == expected


def test_sla_targets_are_met_on_time_and_late(seeded: tuple[dataset.People, Any]) -> None:
    people, conn = seeded
    rows = _rows(
        conn,
        "SELECT s.target, s.met_at, s.breached_at, t.status, t.first_response_at, t.created_at"
        " FROM ticket_sla_targets s JOIN tickets t ON t.id = s.ticket_id"
        " WHERE s.tenant_id = %s",
        people.tenant_id,
    )
    met = [r for r in rows if r[1] is not None]
    assert any(r[2] is None for r in met) and any(r[2] is not None for r in met)
    for target, met_at, breached_at, status, _first, created in rows:
        if breached_at is not None:
            assert breached_at >= created
        if target == "resolution" and status in ("resolved", "closed", "cancelled"):
            assert met_at is not None
        if target == "resolution" and status in ACTIVE:
            assert met_at is None


def test_surveys_are_consistent(seeded: tuple[dataset.People, Any]) -> None:
    people, conn = seeded
    rows = _rows(
        conn,
        "SELECT sent_at, expires_at, answered_at, rating, superseded_at FROM csat_surveys"
        " WHERE tenant_id = %s",
        people.tenant_id,
    )
    assert any(r[2] is not None for r in rows) and any(r[2] is None for r in rows)
    assert any(r[4] is not None for r in rows)
    for sent, expires, answered, rating, superseded in rows:
        assert (answered is None) == (rating is None)
        if answered is not None:
            assert sent < answered < expires
            assert superseded is None or answered < superseded


def test_creation_times_crowd_around_daylight_saving_changes(
    seeded: tuple[dataset.People, Any],
) -> None:
    people, conn = seeded
    created = [
        r[0]
        for r in _rows(
            conn, "SELECT created_at FROM tickets WHERE tenant_id = %s", people.tenant_id
        )
    ]
    for zone in ("Europe/Paris", "America/New_York"):
        changes = dataset.dst_changes(zone, SHAPE.start, SHAPE.end)
        assert len(changes) == 2, zone  # spring and autumn inside the span
        for change in changes:
            near = [c for c in created if abs(c - change) < timedelta(hours=36)]
            assert len(near) >= 3, (zone, change)


def test_percentile_cont_matches_postgresql(database: TestDatabase) -> None:
    values = [3.0, 1.0, 10.0, 7.5, 2.25, 100.0, 42.0]
    with database.connect("owner") as conn:
        for fraction in (0.5, 0.9, 0.1):
            row = conn.execute(
                "SELECT percentile_cont(%s) WITHIN GROUP (ORDER BY v) FROM unnest(%s::float8[]) v",
                (fraction, values),
            ).fetchone()
            assert row is not None
            assert percentile_cont(values, fraction) == pytest.approx(row[0], abs=1e-9)
    assert percentile_cont([], 0.5) is None
    assert percentile_cont([5.0], 0.9) == 5.0


def test_business_time_over_the_paris_lunch_break_and_spring_change() -> None:
    paris = dataset.CALENDARS[0].business()
    # Friday 2026-03-27 17:00 Paris (16:00 UTC, CET) to Monday 2026-03-30 10:00 Paris
    # (08:00 UTC, CEST): 1 h on Friday, 1 h on Monday; the weekend holds the change.
    start = datetime(2026, 3, 27, 16, 0, tzinfo=UTC)
    end = datetime(2026, 3, 30, 8, 0, tzinfo=UTC)
    assert business_seconds_between_excluding(paris, start, end, []) == 2 * 3600
    # Monday 11:00-15:00 Paris with a pause 14:00-14:30: 1.5 h + 1.5 h - 0.5 h (lunch out).
    start = datetime(2026, 3, 30, 9, 0, tzinfo=UTC)
    end = datetime(2026, 3, 30, 13, 0, tzinfo=UTC)
    pause = (datetime(2026, 3, 30, 12, 0, tzinfo=UTC), datetime(2026, 3, 30, 12, 30, tzinfo=UTC))
    assert business_seconds_between_excluding(paris, start, end, [pause]) == int(2.5 * 3600)
    assert business_seconds_between_excluding(BusinessCalendar.always(), start, end, []) == 4 * 3600


def test_oracle_counts_agree_with_sql(seeded: tuple[dataset.People, Any]) -> None:
    """The oracle's volume and backlog against straight SQL over the same rows."""
    people, conn = seeded
    oracle = Oracle(conn, people.tenant_id, SHAPE.stop)
    q = Query(date(2026, 3, 1), date(2026, 4, 30), "Europe/Paris", "month")
    volume = oracle.report("volume", q)
    row = conn.execute(
        "SELECT count(*) FROM tickets WHERE tenant_id = %s AND created_at >= %s AND created_at < %s",
        (
            people.tenant_id,
            datetime(2026, 2, 28, 23, tzinfo=UTC),
            datetime(2026, 4, 30, 22, tzinfo=UTC),
        ),
    ).fetchone()
    assert row is not None and volume.totals["created"] == row[0] > 0
    assert sum(v["created"] or 0 for v in volume.rows.values()) == row[0]
    assert [k[0] for k in volume.rows] == [date(2026, 3, 1), date(2026, 4, 1)]
    resolved = conn.execute(
        "SELECT count(*) FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id"
        " WHERE e.tenant_id = %s AND t.merged_into_id IS NULL"
        " AND e.type IN ('status_changed') AND e.payload->>'to' IN ('resolved', 'closed')"
        " AND e.payload->>'from' NOT IN ('resolved', 'closed')"
        " AND e.created_at >= %s AND e.created_at < %s",
        (
            people.tenant_id,
            datetime(2026, 2, 28, 23, tzinfo=UTC),
            datetime(2026, 4, 30, 22, tzinfo=UTC),
        ),
    ).fetchone()
    assert resolved is not None and volume.totals["resolved"] == resolved[0] > 0
    open_now = conn.execute(
        "SELECT count(*) FROM tickets WHERE tenant_id = %s AND merged_into_id IS NULL"
        " AND status IN ('new', 'open', 'in_progress', 'pending')",
        (people.tenant_id,),
    ).fetchone()
    backlog = oracle.report("backlog", Query(date(2026, 3, 1), SHAPE.stop.date(), "UTC"))
    assert open_now is not None
    assert sum(int(backlog.totals[b] or 0) for b, _, _ in AGE_BANDS) == open_now[0]
