"""agent-performance from the agent summaries (servicedesk.reports.agents, migration 0038)
equals the direct SQL (the straightforward reference query: DISTINCT per agent and ticket,
percentile_cont) exactly, on random event histories: tickets resolved several times by the
same agent or another, replies with and without an author, ties and zeros, today's open
period, zones with half-hour offsets and the October change; summaries kept, cleared, and
invalidated by rewriting a ticket's events as ``facts.refresh`` does (``prev_same_at`` by
``facts._link_repeats``, as the refresh writes it)."""

from __future__ import annotations

import random
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from servicedesk.platform.db import set_tenant, transaction
from servicedesk.reports import agents, definitions, facts, summaries
from servicedesk.reports.query import Aggregated
from servicedesk.reports.window import ReportParams, resolve
from tests.conftest import TestDatabase
from tests.reports import dataset

ZONES = ("Europe/Paris", "Asia/Kolkata", "America/St_Johns", "UTC")
DAYS = 130


@dataclass(repr=False)
class Seeded:
    tenant_id: uuid.UUID
    agents: list[uuid.UUID]
    tickets: list[uuid.UUID]


def _events(
    rng: random.Random,
    tenant: uuid.UUID,
    ticket: uuid.UUID,
    staff: list[uuid.UUID | None],
    assignee: uuid.UUID | None = None,
) -> list[tuple[object, ...]]:
    """A ticket's events: resolutions (each after a reopen but the first), replies, CSAT
    answers (credited to the ticket's current ``assignee``, which every row carries)."""
    now = datetime.now(UTC)
    at = now - timedelta(seconds=rng.randrange(DAYS * 86400))
    if rng.random() < 0.1:
        at = now - timedelta(seconds=rng.randrange(5 * 3600))  # today: the open period
    small = rng.random() < 0.5
    frb = rng.choice([None, 0, rng.randrange(50) if small else rng.randrange(90000)])
    rb = rng.choice([0, rng.randrange(50) if small else rng.randrange(900000)])
    agent = rng.choice(staff)
    out: list[tuple[object, ...]] = []
    for i in range(rng.choice([0, 1, 1, 1, 2, 3])):
        if i:
            at += timedelta(seconds=rng.choice([0, 60, rng.randrange(20 * 86400)]))
            if rng.random() < 0.8:
                out.append((tenant, ticket, "reopened", at, None, None, None))
            if rng.random() < 0.4:
                agent = rng.choice(staff)
        at += timedelta(seconds=rng.choice([0, 1, rng.randrange(5 * 86400)]))
        out.append((tenant, ticket, "resolved", at, agent, frb, rb))
    for _ in range(rng.randrange(4)):
        reply = at - timedelta(seconds=rng.randrange(3 * 86400))
        out.append((tenant, ticket, "reply", reply, rng.choice([*staff, None]), None, None))
    for _ in range(rng.choice([0, 0, 1, 2])):
        answered = at + timedelta(seconds=rng.choice([0, rng.randrange(3 * 86400)]))
        kind = rng.choice(facts.CSAT_ANSWER_KINDS)
        out.append((tenant, ticket, kind, answered, None, None, None))
    return [(*e, assignee) for e in out if e[3] <= now]  # type: ignore[operator]


def _linked(rows: list[tuple[object, ...]]) -> list[dict[str, object]]:
    """The rows with ``prev_same_at``, as facts.refresh links them."""
    names = ("tenant", "ticket", "kind", "at", "agent", "frb", "rb", "assignee")
    out = [dict(zip(names, row, strict=True)) for row in rows]
    facts._link_repeats(out)
    return out


def _insert(conn: object, rows: list[tuple[object, ...]]) -> None:
    dataset.copy_into(
        conn,  # type: ignore[arg-type]
        "report_events",
        "tenant_id, ticket_id, kind, at, agent_id, first_response_business,"
        " resolution_business, prev_same_at, priority, channel, assignee_id",
        [
            dataset._line(
                (
                    r["tenant"],
                    r["ticket"],
                    r["kind"],
                    r["at"].isoformat(),  # type: ignore[attr-defined]
                    r["agent"],
                    r["frb"],
                    r["rb"],
                    r["prev"].isoformat() if r["prev"] else None,  # type: ignore[attr-defined]
                    "low",
                    "web",
                    r["assignee"],
                )
            )
            for r in _linked(rows)
        ],
    )


@pytest.fixture(scope="module")
def seeded(database: TestDatabase) -> Iterator[Seeded]:
    rng = random.Random(38)
    now = datetime.now(UTC)
    with database.connect("owner") as conn:
        slug = f"agt-{uuid.uuid4().hex[:8]}"
        tenant = dataset.create_tenant(conn, slug, rng)
        people = dataset.seed_people(
            conn, tenant, slug, dataset.Shape(agents=4, requesters=1, seed=38)
        )
        staff: list[uuid.UUID | None] = [*people.agents, None]
        tickets, fact_rows, events = [], [], []
        for i in range(500):
            tid = uuid.UUID(int=rng.getrandbits(128))
            created = now - timedelta(days=DAYS + 1)
            tickets.append(
                dataset.bare_ticket(tid, tenant, f"A-{i}", people.requesters[0], created)
            )
            assignee = rng.choice(staff)
            fact_rows.append(
                dataset._line(
                    (
                        tenant,
                        tid,
                        assignee,
                        "low",
                        "web",
                        people.requesters[0],
                        rng.choice(["open", "resolved", "pending"]),
                        False,
                        created.isoformat(),
                    )
                )
            )
            events += _events(rng, tenant, tid, staff, assignee)
        ids = dataset.load_facts(
            conn,
            tenant,
            tickets,
            "tenant_id, ticket_id, assignee_id, priority, channel, requester_id, status,"
            " merged, created_at",
            fact_rows,
        )
        _insert(conn, events)
        conn.commit()
    # The hourly rollup of those events (the direct SQL counts the CSAT answers from it).
    with transaction() as session:
        set_tenant(session, tenant_id=tenant, user_id=None)
        facts.rebuild_rollup(session, tenant)
    yield Seeded(tenant, [a for a in staff if a], ids)


def run(seeded: Seeded, params: ReportParams, *, use: bool) -> Aggregated:
    window = resolve(params)
    summaries.ENABLED = use
    with dataset.manager(seeded.tenant_id) as ctx:
        return definitions.agent_performance(ctx, window, params).agg


def stored(seeded: Seeded) -> int:
    with transaction() as session:
        set_tenant(session, tenant_id=seeded.tenant_id, user_id=None)
        return int(
            session.execute(text("SELECT count(*) FROM report_agent_summaries")).scalar() or 0
        )


def clear(seeded: Seeded) -> None:
    with transaction() as session:
        set_tenant(session, tenant_id=seeded.tenant_id, user_id=None)
        session.execute(text("DELETE FROM report_agent_summaries"))


def rewrite_some(seeded: Seeded, rng: random.Random) -> None:
    """Rewrite a few tickets' events as facts.refresh does (delete, insert), as the app:
    with another assignee now and then (a reassignment moves the ticket's CSAT)."""
    with transaction() as session:
        set_tenant(session, tenant_id=seeded.tenant_id, user_id=None)
        for ticket in rng.sample(seeded.tickets, 3):
            keys = {"t": seeded.tenant_id, "ids": [ticket]}
            old = facts._old_contributions(session, keys)
            session.execute(
                text("DELETE FROM report_events WHERE tenant_id = :t AND ticket_id = :id"),
                {"t": seeded.tenant_id, "id": ticket},
            )
            staff = [*seeded.agents, None]
            assignee = rng.choice(staff)
            session.execute(
                text(
                    "UPDATE report_ticket_facts SET assignee_id = :a"
                    " WHERE tenant_id = :t AND ticket_id = :id"
                ),
                {"t": seeded.tenant_id, "id": ticket, "a": assignee},
            )
            rows = _linked(_events(rng, seeded.tenant_id, ticket, staff, assignee))
            new: Counter[facts.RollupKey] = Counter()
            for row in rows:
                if row["kind"] in facts.ROLLUP_KINDS:
                    hour = row["at"].replace(minute=0, second=0, microsecond=0)  # type: ignore[attr-defined]
                    dims = dict.fromkeys(facts.ROLLUP_DIMS.values())
                    dims.update(
                        assignee_id=assignee, priority="low", channel="web", type="incident"
                    )
                    facts._count_into(new, str(row["kind"]), hour, {**dims, "policy_id": None})
            facts.apply_rollup(session, seeded.tenant_id, {k: new[k] - old[k] for k in new | old})
            for row in rows:
                session.execute(
                    text(
                        "INSERT INTO report_events (tenant_id, ticket_id, kind, at, agent_id,"
                        " first_response_business, resolution_business, prev_same_at,"
                        " priority, channel, assignee_id)"
                        " VALUES (:tenant, :ticket, :kind, :at, :agent, :frb, :rb, :prev,"
                        " 'low', 'web', :assignee)"
                    ),
                    row,
                )


def assert_same(got: Aggregated, want: Aggregated) -> None:
    assert got.cells == want.cells
    assert got.totals == want.totals


@settings(max_examples=40, deadline=None)
@given(
    back=st.integers(0, DAYS + 5),
    span=st.integers(0, 140),
    tz=st.sampled_from(ZONES),
    before=st.sampled_from(["keep", "clear", "rewrite"]),
    seed=st.integers(0, 10_000),
)
def test_agent_performance_from_summaries_equals_the_direct_sql(
    seeded: Seeded, back: int, span: int, tz: str, before: str, seed: int
) -> None:
    rng = random.Random(seed)
    if before == "clear":
        clear(seeded)
    elif before == "rewrite":
        rewrite_some(seeded, rng)
    since = datetime.now(UTC).date() - timedelta(days=back)
    params = ReportParams(since=since, until=since + timedelta(days=span), tz=tz)
    want = run(seeded, params, use=False)
    assert_same(run(seeded, params, use=True), want)
    # Again: every closed period now from stored summaries.
    assert_same(run(seeded, params, use=True), want)


def test_a_long_range_is_read_from_months_and_has_repeats_to_remove(seeded: Seeded) -> None:
    clear(seeded)
    params = ReportParams(since=datetime.now(UTC).date() - timedelta(days=DAYS), tz="UTC")
    want = run(seeded, params, use=False)
    # Answers are credited (the comparison below covers CSAT too).
    assert sum(cell["csat_count"] for cell in want.cells.values()) > 0
    window = resolve(params)
    cut = summaries.plan(
        window.since, window.until + timedelta(days=1), window.zone, datetime.now(UTC).date()
    )
    starts = [s for _, s, _ in cut.periods]
    with transaction() as session:
        set_tenant(session, tenant_id=seeded.tenant_id, user_id=None)
        # Repeats across the range's periods (those within one are out of its summary).
        across = agents._duplicates(
            session, seeded.tenant_id, window.start, window.end, starts, cut.open_from
        )
        # As if all of it were one open rest: every repeat in the range.
        every = agents._duplicates(
            session, seeded.tenant_id, window.start, window.end, [], window.start
        )
    count = [sum(len(fr) + len(res) for fr, res in d.values()) for d in (across, every)]
    assert 0 < count[0] < count[1], count
    assert_same(run(seeded, params, use=True), want)
    with transaction() as session:
        set_tenant(session, tenant_id=seeded.tenant_id, user_id=None)
        grains = dict(
            session.execute(
                text("SELECT grain, count(*) FROM report_agent_summaries GROUP BY 1")
            ).all()
        )
    assert grains.get("month", 0) >= 3 and grains.get("day", 0) >= 1


def test_filters_use_the_direct_sql(seeded: Seeded) -> None:
    clear(seeded)
    params = ReportParams(
        since=datetime.now(UTC).date() - timedelta(days=30), tz="UTC", priority="low"
    )
    run(seeded, params, use=True)
    assert stored(seeded) == 0


def test_writing_an_event_deletes_its_periods(seeded: Seeded) -> None:
    params = ReportParams(since=datetime.now(UTC).date() - timedelta(days=60), tz="UTC")
    run(seeded, params, use=True)
    before = stored(seeded)
    assert before > 0
    rewrite_some(seeded, random.Random(7))
    assert stored(seeded) < before
    assert_same(run(seeded, params, use=True), run(seeded, params, use=False))


@given(
    runs=st.lists(st.lists(st.integers(-5, 40), max_size=20), min_size=1, max_size=6),
    seed=st.integers(0, 1000),
)
def test_kth_without_is_the_kth_of_the_rest(runs: list[list[int]], seed: int) -> None:
    rng = random.Random(seed)
    values = sorted(v for r in runs for v in r)
    removed = sorted(rng.sample(values, rng.randrange(len(values) + 1))) if values else []
    rest = list(values)
    for v in removed:
        rest.remove(v)
    sorted_runs = [sorted(r) for r in runs if r]
    for k in range(len(rest)):
        assert agents.kth_without(sorted_runs, removed, k) == rest[k]


def test_a_summary_written_before_0062_is_built_again_with_its_csat(seeded: Seeded) -> None:
    """The code before migration 0062 writes summaries without CSAT (NULL) while a
    deployment rolls over: they read as missing and are built again over the old rows."""
    params = ReportParams(since=datetime.now(UTC).date() - timedelta(days=DAYS), tz="UTC")
    want = run(seeded, params, use=False)
    clear(seeded)
    run(seeded, params, use=True)  # this range's summaries only
    with transaction() as session:
        set_tenant(session, tenant_id=seeded.tenant_id, user_id=None)
        stale = session.execute(
            text("UPDATE report_agent_summaries SET csat_answered = NULL, csat_good = NULL")
        ).rowcount
    assert stale > 0
    assert_same(run(seeded, params, use=True), want)
    with transaction() as session:
        set_tenant(session, tenant_id=seeded.tenant_id, user_id=None)
        left = session.execute(
            text("SELECT count(*) FROM report_agent_summaries WHERE csat_answered IS NULL")
        ).scalar()
    assert left == 0
