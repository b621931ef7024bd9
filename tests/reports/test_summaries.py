"""Duration reports from the sorted summaries (servicedesk.reports.summaries) equal the
direct SQL (percentile_cont, avg) exactly: means within 1e-9 relative (SQL's numeric avg
against sum / n in floating point), percentiles and counts to the last bit. Random windows,
zones (Europe/Paris with the October change, Asia/Kolkata +5:30, America/St_Johns -3:30),
intervals, groupings and filters, ties and zeros, empty cells; summaries present, absent and
invalidated by writes of the facts; and the race between a builder and a writer on two real
connections."""

from __future__ import annotations

import math
import random
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from servicedesk.platform.db import set_tenant, transaction
from servicedesk.reports import definitions, summaries
from servicedesk.reports.query import Aggregated
from servicedesk.reports.window import ReportParams, resolve
from tests.conftest import TestDatabase
from tests.reports import dataset

ZONES = ("Europe/Paris", "Asia/Kolkata", "America/St_Johns", "UTC")
REPORTS = {
    "first_response": definitions.first_response_time,
    "resolution": definitions.resolution_time,
}
DAYS = 130  # facts over the last 130 days (the Paris change of 25 October inside)


@dataclass(repr=False)
class Seeded:
    tenant_id: uuid.UUID
    teams: list[uuid.UUID]
    agents: list[uuid.UUID]
    tickets: list[uuid.UUID]


@pytest.fixture(scope="module")
def seeded(database: TestDatabase) -> Iterator[Seeded]:
    rng = random.Random(28)
    now = datetime.now(UTC)
    with database.connect("owner") as conn:
        slug = f"sum-{uuid.uuid4().hex[:8]}"
        tenant = dataset.create_tenant(conn, slug, rng)
        people = dataset.seed_people(
            conn, tenant, slug, dataset.Shape(agents=3, requesters=2, seed=28)
        )
        tickets, facts = [], []
        for i in range(700):
            tid = uuid.UUID(int=rng.getrandbits(128))
            # Some today (the open period), some clustered on a few moments (ties).
            created = now - timedelta(seconds=rng.randrange(DAYS * 86400))
            if i % 10 == 0:
                created = now - timedelta(seconds=rng.randrange(6 * 3600))
            frt = created + timedelta(seconds=rng.choice([0, 0, 60, 3600, rng.randrange(90000)]))
            res = frt + timedelta(seconds=rng.choice([0, 120, rng.randrange(400000)]))
            frt_at = frt if rng.random() < 0.9 and frt <= now else None
            res_at = res if rng.random() < 0.75 and res <= now else None
            small = rng.random() < 0.5

            def seconds(a: datetime, b: datetime | None, small: bool = small) -> int | None:
                if b is None:
                    return None
                value = int((b - a).total_seconds())
                return value % 50 if small else value  # ties and zeros

            tickets.append(
                dataset.bare_ticket(tid, tenant, f"S-{i}", people.requesters[0], created)
            )
            facts.append(
                dataset._line(
                    (
                        tenant,
                        tid,
                        rng.choice([*people.teams, None]),
                        rng.choice([*people.agents, None]),
                        rng.choice([*people.categories, None]),
                        rng.choice(["low", "medium", "high", "critical"]),
                        rng.choice(["web", "email"]),
                        people.requesters[0],
                        "resolved" if res_at else "open",
                        rng.random() < 0.05,
                        created.isoformat(),
                        frt_at.isoformat() if frt_at else None,
                        seconds(created, frt_at) // 3 if frt_at else None,
                        seconds(created, frt_at),
                        res_at.isoformat() if res_at else None,
                        seconds(created, res_at) // 2 if res_at else None,
                        seconds(created, res_at),
                    )
                )
            )
        ids = dataset.load_facts(
            conn,
            tenant,
            tickets,
            "tenant_id, ticket_id, team_id, assignee_id, category_id, priority, channel,"
            " requester_id, status, merged, created_at, first_response_at,"
            " first_response_business, first_response_wall, resolved_at, resolution_business,"
            " resolution_wall",
            facts,
        )
        conn.commit()
    yield Seeded(tenant, people.teams, people.agents, ids)


def run(seeded: Seeded, metric: str, params: ReportParams, *, use: bool) -> Aggregated:
    window = resolve(params)
    summaries.ENABLED = use
    with dataset.manager(seeded.tenant_id) as ctx:
        return REPORTS[metric](ctx, window, params).agg


def same(got: Any, want: Any, key: str) -> bool:
    if got is None or want is None:
        return got is None and want is None
    if key.startswith("mean"):
        return math.isclose(got, want, rel_tol=1e-9)
    return got == want  # counts and percentiles: exact


def assert_same(got: Aggregated, want: Aggregated) -> None:
    assert set(got.cells) == set(want.cells)
    for key, cell in want.cells.items():
        for measure, value in cell.items():
            assert same(got.cells[key][measure], value, measure), (key, measure)
    for measure, value in want.totals.items():
        assert same(got.totals.get(measure), value, measure), ("totals", measure)


def invalidate_some(seeded: Seeded, rng: random.Random) -> None:
    """Edit a few old facts as a writer does (the app role, the tenant's transaction)."""
    with transaction() as session:
        set_tenant(session, tenant_id=seeded.tenant_id, user_id=None)
        for ticket in rng.sample(seeded.tickets, 3):
            session.execute(
                text(
                    "UPDATE report_ticket_facts SET resolution_business ="
                    " coalesce(resolution_business, 0) + :d, team_id = :team,"
                    " first_response_at = first_response_at - make_interval(days => :days)"
                    " WHERE tenant_id = :t AND ticket_id = :id"
                ),
                {
                    "t": seeded.tenant_id,
                    "id": ticket,
                    "d": rng.randrange(5),
                    "team": rng.choice([*seeded.teams, None]),
                    "days": rng.randrange(40),
                },
            )


def stored(seeded: Seeded) -> int:
    with transaction() as session:
        set_tenant(session, tenant_id=seeded.tenant_id, user_id=None)
        return int(
            session.execute(text("SELECT count(*) FROM report_duration_summaries")).scalar() or 0
        )


def clear(seeded: Seeded) -> None:
    with transaction() as session:
        set_tenant(session, tenant_id=seeded.tenant_id, user_id=None)
        session.execute(text("DELETE FROM report_duration_summaries"))


@settings(max_examples=70)
@given(
    metric=st.sampled_from(sorted(REPORTS)),
    back=st.integers(0, DAYS + 5),
    span=st.integers(0, 100),
    tz=st.sampled_from(ZONES),
    interval=st.sampled_from([None, "day", "week", "month"]),
    group_by=st.sampled_from([None, "team", "agent", "category", "priority", "channel"]),
    filters=st.sampled_from(["", "team", "priority", "channel", "agent", "two"]),
    before=st.sampled_from(["keep", "clear", "invalidate"]),
    seed=st.integers(0, 10_000),
)
def test_summaries_equal_the_direct_sql(
    seeded: Seeded,
    metric: str,
    back: int,
    span: int,
    tz: str,
    interval: str | None,
    group_by: str | None,
    filters: str,
    before: str,
    seed: int,
) -> None:
    rng = random.Random(seed)
    if before == "clear":
        clear(seeded)
    elif before == "invalidate":
        invalidate_some(seeded, rng)
    today = datetime.now(UTC).date()
    since = today - timedelta(days=back)
    given_filters: dict[str, Any] = {}
    if filters in ("team", "two"):
        given_filters["team_id"] = rng.choice(seeded.teams)
    if filters in ("priority", "two"):
        given_filters["priority"] = rng.choice(["low", "medium", "high", "critical"])
    if filters == "channel":
        given_filters["channel"] = rng.choice(["web", "email"])
    if filters == "agent":
        given_filters["assignee_id"] = rng.choice(seeded.agents)
    params = ReportParams(
        since=since,
        until=since + timedelta(days=span),
        tz=tz,
        interval=interval,
        group_by=group_by,
        **given_filters,
    )
    want = run(seeded, metric, params, use=False)
    got = run(seeded, metric, params, use=True)
    assert_same(got, want)
    # Again: now every closed period comes from stored summaries.
    assert_same(run(seeded, metric, params, use=True), want)


def test_a_year_in_one_total_uses_months_and_days(seeded: Seeded) -> None:
    clear(seeded)
    params = ReportParams(since=date.today() - timedelta(days=DAYS), tz="Europe/Paris")
    want = run(seeded, "resolution", params, use=False)
    assert_same(run(seeded, "resolution", params, use=True), want)
    with transaction() as session:
        set_tenant(session, tenant_id=seeded.tenant_id, user_id=None)
        grains = dict(
            session.execute(
                text(
                    "SELECT grain, count(*) FROM report_duration_summaries"
                    " WHERE metric = 'resolution' AND tz = 'Europe/Paris' GROUP BY 1"
                )
            ).all()
        )
    assert grains.get("month", 0) >= 3 and grains.get("day", 0) >= 1


def test_an_edit_of_an_old_fact_deletes_its_periods_only(seeded: Seeded) -> None:
    clear(seeded)
    params = ReportParams(
        since=date.today() - timedelta(days=60), tz="Asia/Kolkata", interval="day"
    )
    run(seeded, "resolution", params, use=True)
    before = stored(seeded)
    assert before > 0
    with transaction() as session:
        set_tenant(session, tenant_id=seeded.tenant_id, user_id=None)
        ticket = session.execute(
            text(
                "SELECT ticket_id FROM report_ticket_facts WHERE NOT merged"
                " AND resolved_at < now() - interval '20 days'"
                " AND resolved_at > now() - interval '50 days' LIMIT 1"
            )
        ).scalar_one()
        session.execute(
            text(
                "UPDATE report_ticket_facts SET resolution_wall = resolution_wall + 1"
                " WHERE ticket_id = :id"
            ),
            {"id": ticket},
        )
    # The day of the Kolkata summaries that held it (every dimension's rows of that day).
    assert 0 < before - stored(seeded) <= 2
    want = run(seeded, "resolution", params, use=False)
    assert_same(run(seeded, "resolution", params, use=True), want)


def resolved_day(seeded: Seeded, days_ago: int) -> date:
    """A UTC day at least ``days_ago`` days back with resolutions in it."""
    with transaction() as session:
        set_tenant(session, tenant_id=seeded.tenant_id, user_id=None)
        return session.execute(
            text(
                "SELECT (resolved_at AT TIME ZONE 'UTC')::date FROM report_ticket_facts"
                " WHERE NOT merged AND resolved_at < now() - make_interval(days => :d)"
                " ORDER BY resolved_at DESC LIMIT 1"
            ),
            {"d": days_ago},
        ).scalar_one()


def _engine(database: TestDatabase) -> Any:
    return create_engine(database.app_url, isolation_level="READ COMMITTED")


def test_a_writer_waits_for_a_builder_and_deletes_what_it_stored(
    database: TestDatabase, seeded: Seeded
) -> None:
    """Builder first: it holds the shared lock; the writer's trigger waits for it, then
    deletes the (now stale) summary it committed."""
    clear(seeded)
    engine = _engine(database)
    day = resolved_day(seeded, 10)
    params = ReportParams(since=day, until=day, tz="UTC")
    window = resolve(params)
    with engine.connect() as builder_conn, engine.connect() as writer_conn:
        builder = Session(bind=builder_conn)
        set_tenant(builder, tenant_id=seeded.tenant_id, user_id=None)
        builder.execute(
            text("SELECT pg_advisory_xact_lock_shared(hashtext('report-summaries:' || :t))"),
            {"t": str(seeded.tenant_id)},
        )
        done = threading.Event()

        def write() -> None:
            writer = Session(bind=writer_conn)
            set_tenant(writer, tenant_id=seeded.tenant_id, user_id=None)
            writer.execute(
                text(
                    "UPDATE report_ticket_facts SET resolution_wall = resolution_wall + 7"
                    " WHERE resolved_at >= :a AND resolved_at < :b AND NOT merged"
                ),
                {"a": window.start, "b": window.end},
            )
            writer.commit()
            done.set()

        thread = threading.Thread(target=write)
        thread.start()
        time.sleep(0.5)
        assert not done.is_set()  # the writer waits for the builder's lock
        # The builder reads the facts as they were (the writer has not committed) and stores.
        summaries.durations(builder, seeded.tenant_id, "resolution", window, params)
        assert builder.execute(text("SELECT count(*) FROM report_duration_summaries")).scalar()
        builder.commit()
        thread.join(10)
        assert done.is_set()
    engine.dispose()
    assert stored(seeded) == 0  # the writer deleted the stale summary after the builder
    want = run(seeded, "resolution", params, use=False)
    assert_same(run(seeded, "resolution", params, use=True), want)


def test_a_builder_waits_for_a_writer_and_reads_its_facts(
    database: TestDatabase, seeded: Seeded
) -> None:
    """Writer first: its trigger holds the lock exclusive; the builder waits, then builds
    from the committed facts."""
    clear(seeded)
    engine = _engine(database)
    day = resolved_day(seeded, 12)
    params = ReportParams(since=day, until=day, tz="UTC")
    window = resolve(params)
    with engine.connect() as builder_conn, engine.connect() as writer_conn:
        writer = Session(bind=writer_conn)
        set_tenant(writer, tenant_id=seeded.tenant_id, user_id=None)
        changed = writer.execute(
            text(
                "UPDATE report_ticket_facts SET resolution_wall = resolution_wall + 11"
                " WHERE resolved_at >= :a AND resolved_at < :b AND NOT merged"
            ),
            {"a": window.start, "b": window.end},
        ).rowcount
        assert changed
        built: list[Aggregated | None] = []

        def build() -> None:
            builder = Session(bind=builder_conn)
            set_tenant(builder, tenant_id=seeded.tenant_id, user_id=None)
            built.append(
                summaries.durations(builder, seeded.tenant_id, "resolution", window, params)
            )
            builder.commit()

        thread = threading.Thread(target=build)
        thread.start()
        time.sleep(0.5)
        assert not built  # waits for the writer's exclusive lock
        writer.commit()
        thread.join(10)
        assert built
    engine.dispose()
    want = run(seeded, "resolution", params, use=False)
    assert built[0] is not None
    assert_same(definitions._split(built[0]), want)
    assert stored(seeded) > 0
    assert_same(run(seeded, "resolution", params, use=True), want)


@given(
    runs=st.lists(st.lists(st.integers(-5, 40), max_size=30), min_size=1, max_size=12),
    p=st.sampled_from([0.0, 0.1, 0.5, 0.9, 1.0]),
)
def test_percentile_of_runs_is_percentile_of_their_union(runs: list[list[int]], p: float) -> None:
    values = sorted(v for r in runs for v in r)
    sorted_runs = [sorted(r) for r in runs if r]
    if not values:
        return
    at = p * (len(values) - 1)
    low, high = values[math.floor(at)], values[math.ceil(at)]
    want = float(low) if low == high else low + (at - math.floor(at)) * (high - low)
    assert summaries.percentile(sorted_runs, len(values), p) == want
    for k in range(len(values)):
        assert summaries.kth(sorted_runs, k) == values[k]
        assert summaries.kth(sorted_runs, k, pool=0) == values[k]  # bisection to the end
        assert summaries.kth(sorted_runs, k, pool=7) == values[k]


def test_a_rollup_rebuild_deletes_the_tenants_summaries(seeded: Seeded) -> None:
    from servicedesk.reports import facts

    params = ReportParams(since=date.today() - timedelta(days=40), tz="America/St_Johns")
    want = run(seeded, "first_response", params, use=False)
    assert_same(run(seeded, "first_response", params, use=True), want)
    assert stored(seeded) > 0
    with transaction() as session:
        set_tenant(session, tenant_id=seeded.tenant_id, user_id=None)
        facts.rebuild_rollup(session, seeded.tenant_id)
    assert stored(seeded) == 0
    assert_same(run(seeded, "first_response", params, use=True), want)


def _durations(engine: Any, seeded: Seeded, params: ReportParams) -> Aggregated | None:
    """One cold request on its own connection (its own transaction, committed)."""
    with engine.connect() as conn:
        session = Session(bind=conn)
        set_tenant(session, tenant_id=seeded.tenant_id, user_id=None)
        got = summaries.durations(session, seeded.tenant_id, "resolution", resolve(params), params)
        session.commit()
        return got


def test_a_cold_herd_builds_once_and_gets_equal_answers(
    database: TestDatabase, seeded: Seeded
) -> None:
    """N concurrent cold requests for the same summaries: one build per (metric, zone,
    dimension) in all, the others wait for it and read it; N equal, exact answers. The
    builder is held up (a writer holds the tenant's summaries lock) until all N are in, so
    they truly overlap."""
    n = 6
    params = ReportParams(
        since=date.today() - timedelta(days=100), tz="Europe/Paris", group_by="team"
    )
    want = run(seeded, "resolution", params, use=False)
    clear(seeded)
    before = summaries.BUILDS["count"]
    _durations(_engine(database), seeded, params)
    alone = summaries.BUILDS["count"] - before  # the builds of one request (cells, totals)
    assert alone >= 1
    clear(seeded)
    engine = create_engine(database.app_url, isolation_level="READ COMMITTED", pool_size=n + 1)
    answers: list[Aggregated | None] = []
    errors: list[BaseException] = []
    with engine.connect() as writer_conn:
        writer = Session(bind=writer_conn)
        set_tenant(writer, tenant_id=seeded.tenant_id, user_id=None)
        writer.execute(
            text("SELECT pg_advisory_xact_lock(hashtext('report-summaries:' || :t))"),
            {"t": str(seeded.tenant_id)},
        )
        before = summaries.BUILDS["count"]

        def request() -> None:
            try:
                answers.append(_durations(engine, seeded, params))
            except Exception as error:  # noqa: BLE001 - asserted below, in the main thread
                errors.append(error)

        threads = [threading.Thread(target=request) for _ in range(n)]
        for thread in threads:
            thread.start()
        time.sleep(1.0)
        assert not answers and not errors  # the builder waits for the writer, the rest for it
        writer.rollback()
        for thread in threads:
            thread.join(20)
    engine.dispose()
    assert not errors, errors
    assert summaries.BUILDS["count"] - before == alone
    assert len(answers) == n
    for got in answers:
        assert got is not None
        assert_same(definitions._split(got), want)


def test_a_waiter_gives_up_after_the_bound_and_builds_itself(
    database: TestDatabase, seeded: Seeded, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A build lock held too long (a stuck builder): the wait is bounded, then the request
    builds itself, exact, without an error."""
    monkeypatch.setattr(summaries, "BUILD_WAIT_MS", 300)
    params = ReportParams(since=date.today() - timedelta(days=60), tz="Asia/Kolkata")
    want = run(seeded, "first_response", params, use=False)
    clear(seeded)
    engine = _engine(database)
    key = f"report-summary-build:{seeded.tenant_id}:first_response:Asia/Kolkata:all"
    with engine.connect() as holder_conn:
        holder = Session(bind=holder_conn)
        holder.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"), {"k": key})
        before = summaries.BUILDS["count"]
        started = time.perf_counter()
        with engine.connect() as conn:
            session = Session(bind=conn)
            set_tenant(session, tenant_id=seeded.tenant_id, user_id=None)
            got = summaries.durations(
                session, seeded.tenant_id, "first_response", resolve(params), params
            )
            # The waiter's savepoint is gone: its lock_timeout is the default again.
            assert session.execute(text("SHOW lock_timeout")).scalar() == "0"
            session.commit()
        assert time.perf_counter() - started < 5
        assert summaries.BUILDS["count"] - before == 1
        holder.rollback()
    engine.dispose()
    assert got is not None
    assert_same(definitions._split(got), want)
