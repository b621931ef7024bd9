"""The duration histogram (report_duration_hist, servicedesk.reports.histogram) answers the
duration reports exactly as ``percentile_cont``/``avg`` over the same facts do: random fact
rows (ties, zeros, unknown durations, moments on and around UTC and local midnights),
changed in place through the histogram's incremental diff (the one ``facts.refresh``
applies), then random windows, zones (half-hour offsets and DST), intervals, groupings and
filters, compared with the direct SQL (``definitions.HISTOGRAM = False``). After each
change the histogram equals its full rebuild."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from servicedesk.platform.db import set_tenant, transaction
from servicedesk.platform.roles import Role
from servicedesk.platform.tenancy import RequestContext
from servicedesk.reports import definitions, histogram
from servicedesk.reports.window import ReportParams, resolve
from tests.conftest import TenantFixture, make_tenant

TICKETS = 40
FIRST = date(2026, 2, 20)
DAYS = 75  # across the DST changes of March (US, EU) and April (Adelaide)
ORIGIN = datetime(FIRST.year, FIRST.month, FIRST.day, tzinfo=UTC)
ZONES = (
    "UTC",
    "Europe/Paris",
    "Asia/Kolkata",
    "America/St_Johns",
    "America/New_York",
    "Australia/Adelaide",
    "Europe/London",
    "Pacific/Kiritimati",
)
TEAMS = [uuid.UUID(int=i + 1) for i in range(3)]
FACT_COLUMNS = (
    "team_id, assignee_id, category_id, priority, channel, merged, first_response_at,"
    " first_response_business, first_response_wall, resolved_at, resolution_business,"
    " resolution_wall"
)


@pytest.fixture(scope="module")
def desk(client: Any, database: Any) -> Iterator[tuple[TenantFixture, list[uuid.UUID]]]:
    fixture = make_tenant(client, roles=("requester",))
    ids = [uuid.uuid4() for _ in range(TICKETS)]
    with database.connect("owner") as conn:
        for n, ticket in enumerate(ids):
            conn.execute(
                "INSERT INTO tickets (id, tenant_id, number, title, priority, requester_id,"
                " created_at) VALUES (%s, %s, %s, 'T', 'low', %s, %s)",
                (ticket, fixture.tenant_id, f"H-{n}", fixture.members["requester"].user_id, ORIGIN),
            )
            conn.execute(
                "INSERT INTO report_ticket_facts (tenant_id, ticket_id, priority, channel,"
                " requester_id, status, created_at) VALUES (%s, %s, 'low', 'web', %s, 'open', %s)",
                (fixture.tenant_id, ticket, fixture.members["requester"].user_id, ORIGIN),
            )
        conn.commit()
    yield fixture, ids


moments = st.one_of(
    # anywhere, to the second
    st.integers(0, DAYS * 86400 - 1).map(lambda s: ORIGIN + timedelta(seconds=s)),
    # on UTC midnights and half hours (local midnights of the zones above)
    st.integers(0, DAYS * 48 - 1).map(lambda h: ORIGIN + timedelta(minutes=30 * h)),
)
seconds = st.one_of(
    st.none(),
    st.sampled_from([0, 0, 1, 59, 60, 3600, 3600, 86399, 86400]),
    st.integers(0, 40),
    st.integers(0, 2_000_000),
)


@st.composite
def fact_rows(draw: Any) -> dict[str, Any]:
    first = draw(st.one_of(st.none(), moments))
    resolved = draw(st.one_of(st.none(), moments))
    return {
        "team_id": draw(st.sampled_from([None, *TEAMS])),
        "assignee_id": draw(st.sampled_from([None, TEAMS[0]])),
        "category_id": None,
        "priority": draw(st.sampled_from(["low", "high"])),
        "channel": draw(st.sampled_from(["web", "email"])),
        "merged": draw(st.booleans().map(lambda b: b and draw(st.booleans()))),
        "first_response_at": first,
        "first_response_business": None if first is None else draw(seconds),
        "first_response_wall": None if first is None else draw(seconds),
        "resolved_at": resolved,
        "resolution_business": None if resolved is None else draw(seconds),
        "resolution_wall": None if resolved is None else draw(seconds),
    }


@st.composite
def report_params(draw: Any) -> ReportParams:
    since = FIRST + timedelta(days=draw(st.integers(-3, DAYS)))
    until = since + timedelta(days=draw(st.integers(0, 70)))
    filters: dict[str, Any] = {}
    for name, values in (
        ("team_id", TEAMS),
        ("priority", ["low", "high"]),
        ("channel", ["web", "email"]),
        ("assignee_id", [TEAMS[0]]),
    ):
        if draw(st.integers(0, 4)) == 0:
            filters[name] = draw(st.sampled_from(values))
    return ReportParams(
        since=since,
        until=until,
        tz=draw(st.sampled_from(ZONES)),
        interval=draw(st.sampled_from([None, "day", "week", "month"])),
        group_by=draw(st.sampled_from([None, "team", "agent", "priority", "channel", "category"])),
        **filters,
    )


def _write(database: Any, tenant_id: str, ids: list[uuid.UUID], rows: list[dict[str, Any]]) -> None:
    """Rewrite the facts of the first len(rows) tickets and apply the histogram's diff, as
    facts.refresh does (old rows read and locked first, new rows written, diff applied)."""
    chosen = ids[: len(rows)]
    with transaction() as session:
        set_tenant(session, tenant_id=uuid.UUID(tenant_id), user_id=None)
        from sqlalchemy import text

        old = [
            dict(r)
            for r in session.execute(
                text(
                    f"SELECT {FACT_COLUMNS} FROM report_ticket_facts WHERE tenant_id = :t"
                    " AND ticket_id = ANY(:ids) ORDER BY ticket_id FOR UPDATE"
                ),
                {"t": tenant_id, "ids": chosen},
            ).mappings()
        ]
        for ticket, row in zip(chosen, rows, strict=True):
            session.execute(
                text(
                    "UPDATE report_ticket_facts SET "
                    + ", ".join(f"{c.strip()} = :{c.strip()}" for c in FACT_COLUMNS.split(","))
                    + " WHERE tenant_id = :t AND ticket_id = :id"
                ),
                {**row, "t": tenant_id, "id": ticket},
            )
        histogram.apply(session, uuid.UUID(tenant_id), histogram.diff(old, rows))


def _hist(database: Any, tenant_id: str) -> list[Any]:
    with database.connect("owner") as conn:
        rows: list[Any] = conn.execute(
            "SELECT metric, dim, grain, period, value, basis, bin, n, total"
            " FROM report_duration_hist WHERE tenant_id = %s AND (n <> 0 OR total <> 0)"
            " ORDER BY 1, 2, 3, 4, 5, 6, 7",
            (tenant_id,),
        ).fetchall()
    return rows


def _run(tenant_id: str, params: ReportParams, use_histogram: bool) -> Any:
    window = resolve(params)
    definitions.HISTOGRAM = use_histogram
    try:
        with transaction() as session:
            set_tenant(session, tenant_id=uuid.UUID(tenant_id), user_id=None)
            ctx = RequestContext(
                session=session,
                tenant_id=uuid.UUID(tenant_id),
                user_id=uuid.uuid4(),
                role=Role.MANAGER,
            )
            out = []
            for compute in (definitions.first_response_time, definitions.resolution_time):
                agg = compute(ctx, window, params).agg
                out.append((agg.cells, agg.totals))
            return out
    finally:
        definitions.HISTOGRAM = True


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    rows=st.lists(fact_rows(), min_size=1, max_size=TICKETS),
    asked=st.lists(report_params(), min_size=1, max_size=6),
)
def test_histogram_percentiles_equal_percentile_cont(
    database: Any,
    desk: tuple[TenantFixture, list[uuid.UUID]],
    rows: list[dict[str, Any]],
    asked: list[ReportParams],
) -> None:
    fixture, ids = desk
    _write(database, fixture.tenant_id, ids, rows)
    incremental = _hist(database, fixture.tenant_id)
    with transaction() as session:
        set_tenant(session, tenant_id=uuid.UUID(fixture.tenant_id), user_id=None)
        histogram.rebuild(session, uuid.UUID(fixture.tenant_id))
    assert _hist(database, fixture.tenant_id) == incremental
    for params in asked:
        assert _run(fixture.tenant_id, params, True) == _run(fixture.tenant_id, params, False), (
            params
        )


def test_bins_in_sql_equal_bins_in_python(database: Any) -> None:
    probes = sorted(
        {0, 1, 2, 31, 32, 33, 2**31 - 1}
        | {b + d for b in histogram.BOUNDS for d in (-1, 0, 1) if 0 <= b + d < 2**31}
    )
    with database.connect("owner") as conn:
        got = conn.execute(
            "SELECT report_duration_bin(s) FROM unnest(%s::integer[]) WITH ORDINALITY u(s, o)"
            " ORDER BY o",
            (probes,),
        ).fetchall()
    assert [r[0] for r in got] == [histogram.bin_of(p) for p in probes]
    assert histogram.bin_of(None) == -1
    with database.connect("owner") as conn:
        (null,) = conn.execute("SELECT report_duration_bin(NULL)").fetchone()
    assert null is None


def test_decompose_covers_exactly() -> None:
    """Months, days and signed edges add up to the range, hour by hour."""
    start = datetime(2026, 1, 30, 18, 30, tzinfo=UTC)
    for hours in (1, 11, 12, 13, 23, 24, 25, 30, 24 * 40 + 5, 24 * 70 + 13):
        for shift in range(0, 48, 7):
            s = start + timedelta(minutes=30 * shift)
            e = s + timedelta(hours=hours)
            periods, edges = histogram.decompose(s, e)
            covered: dict[datetime, int] = {}
            for grain, first in periods:
                last = histogram._next_month(first) if grain == "m" else first + timedelta(days=1)
                t = datetime(first.year, first.month, first.day, tzinfo=UTC)
                while t.date() < last:
                    covered[t] = covered.get(t, 0) + 1
                    t += timedelta(minutes=30)
            for a, b, sign in edges:
                assert b - a <= timedelta(hours=12)
                t = a
                while t < b:
                    covered[t] = covered.get(t, 0) + sign
                    t += timedelta(minutes=30)
            inside = {t for t, n in covered.items() if n}
            assert all(covered[t] == 1 for t in inside)
            t, expected = s, set()
            while t < e:
                expected.add(t)
                t += timedelta(minutes=30)
            assert inside == expected, (s, e)
