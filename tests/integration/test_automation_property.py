"""The automation engine against a straightforward reference evaluator (issue 20's
acceptance): random conditions give the same tickets through SQL, through the Python
predicate and through the reference; random rule sets and event streams leave the ticket
as the reference says, with the same run log, and no rule fires beyond its loop limit."""

from __future__ import annotations

import json
import uuid
from collections import Counter, deque
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from servicedesk.automation import conditions, engine
from servicedesk.platform import db
from servicedesk.platform.roles import Role
from servicedesk.platform.tenancy import RequestContext
from servicedesk.tickets import service
from servicedesk.tickets.models import Ticket
from servicedesk.tickets.schemas import TicketCreate, TicketUpdate
from tests.conftest import make_tenant

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
LEVELS = ["low", "medium", "high", "critical"]
TAGS = ["a", "b", "c"]
WORDS = ["VPN", "vpn", "Mail", "printer", "Ünïcode", "ÄB"]
NUMBERS = [0, 1, 2.5, -3, 10]


# --- the reference: what each test means, written out plainly ---------------------------------


def ref_leaf(leaf: dict[str, Any], t: dict[str, Any]) -> bool:  # noqa: C901
    field, op, value = leaf["field"], leaf["op"], leaf.get("value")
    if field.startswith("custom_fields."):
        actual = t["custom_fields"].get(field.split(".", 1)[1])
    elif field.startswith("hours_since_"):
        column = {"hours_since_created": "created_at"}[field]
        hours = (NOW - t[column]).total_seconds() / 3600
        return {
            "gt": hours > value,
            "gte": hours >= value,
            "lt": hours < value,
            "lte": hours <= value,
        }[op]
    else:
        actual = t[field]

    def same(a: Any, b: Any) -> bool:
        if a is None or b is None:
            return a is None and b is None
        if type(a) is bool or type(b) is bool:
            return type(a) is bool and type(b) is bool and a == b
        if isinstance(a, int | float) and isinstance(b, int | float):
            return Decimal(repr(a)) == Decimal(repr(b))
        return type(a) is type(b) and a == b

    def lower(s: str) -> str:
        return "".join(chr(ord(c) + 32) if "A" <= c <= "Z" else c for c in s)

    if op == "is":
        return same(actual, value)
    if op == "is_not":
        return not same(actual, value)
    if op == "in":
        return any(same(actual, v) for v in value)
    if op == "not_in":
        return not any(same(actual, v) for v in value)
    if op == "contains":
        return isinstance(actual, str) and lower(value) in lower(actual)
    if op == "not_contains":
        return not (isinstance(actual, str) and lower(value) in lower(actual))
    if op == "includes":
        return any(v in actual for v in value)
    if op == "excludes":
        return not any(v in actual for v in value)
    number = actual if isinstance(actual, int | float) and type(actual) is not bool else None
    if number is None:
        return False
    return {
        "gt": number > value,
        "gte": number >= value,
        "lt": number < value,
        "lte": number <= value,
    }[op]


def ref_eval(node: dict[str, Any], t: dict[str, Any]) -> bool:
    if "all" in node:
        return all(ref_eval(n, t) for n in node["all"])
    if "any" in node:
        return any(ref_eval(n, t) for n in node["any"])
    return ref_leaf(node, t)


# --- strategies -----------------------------------------------------------------------------

leaf_strategy = st.one_of(
    st.builds(
        lambda op, v: {"field": "priority", "op": op, "value": v},
        st.sampled_from(["is", "is_not"]),
        st.sampled_from(LEVELS),
    ),
    st.builds(
        lambda op, v: {"field": "impact", "op": op, "value": v},
        st.sampled_from(["is", "is_not"]),
        st.sampled_from([*LEVELS, None]),
    ),
    st.builds(
        lambda op, v: {"field": "priority", "op": op, "value": v},
        st.sampled_from(["in", "not_in"]),
        st.lists(st.sampled_from(LEVELS), min_size=1, max_size=3),
    ),
    st.builds(
        lambda op, v: {"field": "title", "op": op, "value": v},
        st.sampled_from(["contains", "not_contains"]),
        st.sampled_from(WORDS),
    ),
    st.builds(
        lambda op, v: {"field": "tags", "op": op, "value": v},
        st.sampled_from(["includes", "excludes"]),
        st.lists(st.sampled_from(TAGS), min_size=1, max_size=2),
    ),
    st.builds(
        lambda op, v: {"field": "custom_fields.n", "op": op, "value": v},
        st.sampled_from(["gt", "gte", "lt", "lte", "is", "is_not"]),
        st.sampled_from(NUMBERS),
    ),
    st.builds(
        lambda op, v: {"field": "custom_fields.s", "op": op, "value": v},
        st.sampled_from(["is", "is_not", "contains", "not_contains", "in", "not_in"]),
        st.sampled_from(WORDS),
    ).map(lambda d: {**d, "value": [d["value"]]} if d["op"] in ("in", "not_in") else d),
    st.builds(
        lambda op, v: {"field": "custom_fields.s", "op": op, "value": v},
        st.sampled_from(["is", "is_not"]),
        st.sampled_from([True, 1, None]),
    ),
    st.builds(
        lambda op, v: {"field": "hours_since_created", "op": op, "value": v},
        st.sampled_from(["gt", "gte", "lt", "lte"]),
        st.sampled_from([0, 1, 24, 48.5, 100]),
    ),
)
condition_strategy = st.recursive(
    leaf_strategy,
    lambda children: st.builds(
        lambda mode, items: {mode: items},
        st.sampled_from(["all", "any"]),
        st.lists(children, max_size=3),
    ),
    max_leaves=6,
).map(lambda node: node if ("all" in node or "any" in node) else {"all": [node]})


# --- fixtures: one tenant, a fixed set of tickets written directly --------------------------------


@pytest.fixture(scope="module")
def world(client):
    org = make_tenant(client, roles=("requester",))
    tenant_id, requester = uuid.UUID(org.tenant_id), uuid.UUID(org.members["requester"].user_id)
    tickets: list[dict[str, Any]] = []
    values = [
        ("VPN down", "low", None, ["a"], {"n": 1, "s": "vpn"}, 0.5),
        ("Mail is slow", "medium", "high", ["b", "c"], {"n": 2.5, "s": "Mail"}, 24),
        ("printer jam Ünïcode", "high", "low", [], {"s": True}, 48.5),
        ("ÄB vpn", "critical", "medium", ["a", "c"], {"n": -3, "s": 1}, 100),
        ("nothing", "low", None, ["c"], {}, 200),
        ("äb VPN printer", "high", "critical", ["b"], {"n": 10, "s": "ünïcode"}, 48.5001),
    ]
    with db.transaction() as session:
        db.set_tenant(session, tenant_id=tenant_id, user_id=None)
        for i, (title, priority, impact, tags, custom, age) in enumerate(values):
            row = {
                "id": uuid.uuid4(),
                "title": title,
                "priority": priority,
                "impact": impact,
                "tags": tags,
                "custom_fields": custom,
                "created_at": NOW - timedelta(hours=age),
            }
            session.execute(
                text(
                    "INSERT INTO tickets (id, tenant_id, number, title, priority, impact,"
                    " requester_id, tags, custom_fields, created_at)"
                    " VALUES (:id, :t, :num, :title, :priority, :impact, :r, :tags,"
                    " CAST(:cf AS jsonb), :created_at)"
                ),
                {**row, "t": tenant_id, "num": f"P-{i}", "r": requester, "cf": json.dumps(custom)},
            )
            tickets.append(row)
    return org, tenant_id, tickets


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(raw=condition_strategy)
def test_sql_and_python_agree_with_the_reference(world, raw):
    _org, tenant_id, tickets = world
    node, errors = conditions.parse(raw, kind="time")
    assert errors == []
    expected = {t["id"] for t in tickets if ref_eval(raw, t)}
    predicate = conditions.compile_py(node)
    params = conditions.Params()
    where, exact = conditions.to_sql(node, params, NOW)
    assert exact
    with db.transaction() as session:
        db.set_tenant(session, tenant_id=tenant_id, user_id=None)
        by_sql = {
            uuid.UUID(str(i))
            for i in session.execute(
                text(f"SELECT t.id FROM tickets t WHERE t.tenant_id = :tenant AND {where}"),
                {**params.values, "tenant": tenant_id},
            ).scalars()
        }
        rows = session.query(Ticket).filter(Ticket.tenant_id == tenant_id).all()
        by_python = {
            r.id
            for r in rows
            if predicate(conditions.Facts(r, NOW, lambda: None), None)  # type: ignore[arg-type, return-value]
        }
    assert by_sql == expected, (raw, where)
    assert by_python == expected, raw


# --- the engine against a reference over random rule sets and event streams -----------------------

rule_strategy = st.fixed_dictionaries(
    {
        "trigger": st.sampled_from(
            [
                {"event": "updated"},
                {"event": "updated", "fields": ["priority"]},
                {"event": "updated", "fields": ["tags"]},
            ]
        ),
        "when": st.one_of(
            st.just({"all": []}),
            st.builds(
                lambda v: {"all": [{"field": "priority", "op": "is", "value": v}]},
                st.sampled_from(LEVELS),
            ),
            st.builds(
                lambda v: {"all": [{"field": "tags", "op": "excludes", "value": [v]}]},
                st.sampled_from(TAGS),
            ),
            st.builds(
                lambda v: {"all": [{"field": "priority", "op": "changed_to", "value": v}]},
                st.sampled_from(LEVELS),
            ),
        ),
        "actions": st.lists(
            st.one_of(
                st.builds(
                    lambda v: {"type": "set_field", "field": "priority", "value": v},
                    st.sampled_from(LEVELS),
                ),
                st.builds(lambda v: {"type": "add_tags", "tags": [v]}, st.sampled_from(TAGS)),
                st.builds(lambda v: {"type": "remove_tags", "tags": [v]}, st.sampled_from(TAGS)),
            ),
            min_size=1,
            max_size=2,
        ),
        "loop_limit": st.integers(1, 3),
    }
)


def reference_engine(  # noqa: C901 - the reference, written out plainly
    rules: list[dict[str, Any]], ticket: dict[str, Any], stream: list[str]
) -> list[tuple[int, str]]:
    """Plainly: per originating change, a queue of changes; each rule in order; trigger,
    conditions, loop limit, depth cap; an action that changes nothing reports nothing."""
    log: list[tuple[int, str]] = []
    for wanted in stream:
        if ticket["priority"] == wanted:
            continue
        first = {"priority": (ticket["priority"], wanted)}
        ticket["priority"] = wanted
        fired: Counter[int] = Counter()
        queue = deque([(first, 0)])
        while queue:
            change, depth = queue.popleft()
            for i, rule in enumerate(rules):
                fields = rule["trigger"].get("fields")
                if fields and not any(f in change for f in fields):
                    continue
                if not ref_when(rule["when"], ticket, change):
                    continue
                if fired[i] >= rule["loop_limit"]:
                    log.append((i, "loop_limit"))
                    continue
                if depth >= engine.MAX_CHAIN_DEPTH:
                    log.append((i, "depth_limit"))
                    continue
                fired[i] += 1
                log.append((i, "fired"))
                for action in rule["actions"]:
                    made = ref_apply(action, ticket)
                    if made:
                        queue.append((made, depth + 1))
    return log


def ref_when(when: dict[str, Any], ticket: dict[str, Any], change: dict[str, Any]) -> bool:
    for leaf in when["all"]:
        if leaf["op"] == "changed_to":
            if "priority" not in change or change["priority"][1] != leaf["value"]:
                return False
        elif not ref_leaf(leaf, ticket):
            return False
    return True


def ref_apply(action: dict[str, Any], ticket: dict[str, Any]) -> dict[str, Any] | None:
    if action["type"] == "set_field":
        if ticket["priority"] == action["value"]:
            return None
        before, ticket["priority"] = ticket["priority"], action["value"]
        return {"priority": (before, action["value"])}
    tags = list(ticket["tags"])
    if action["type"] == "add_tags":
        new = tags + [t for t in action["tags"] if t not in tags]
    else:
        new = [t for t in tags if t not in action["tags"]]
    if new == tags:
        return None
    ticket["tags"] = new
    return {"tags": (tags, new)}


@pytest.fixture(scope="module")
def engine_org(client):
    return make_tenant(client, roles=())


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    rules=st.lists(rule_strategy, min_size=1, max_size=4),
    stream=st.lists(st.sampled_from(LEVELS), min_size=1, max_size=3),
)
def test_the_engine_equals_the_reference(engine_org, rules, stream):
    org = engine_org
    tenant_id = uuid.UUID(org.tenant_id)
    admin = uuid.UUID(org.admin.user_id)
    expected_ticket = {"priority": "low", "tags": []}
    expected = reference_engine(rules, expected_ticket, stream)
    with db.transaction() as session:
        db.set_tenant(session, tenant_id=tenant_id, user_id=admin)
        ctx = RequestContext(session, tenant_id, admin, Role.ADMIN)
        session.execute(text("DELETE FROM automation_rules WHERE tenant_id = :t"), {"t": tenant_id})
        ids = []
        for i, rule in enumerate(rules):
            rule_id = uuid.uuid4()
            ids.append(rule_id)
            session.execute(
                text(
                    "INSERT INTO automation_rules (id, tenant_id, name, kind, triggers, conditions,"
                    " actions, position, loop_limit) VALUES (:id, :t, :n, 'event', CAST(:tr AS jsonb),"
                    " CAST(:c AS jsonb), CAST(:a AS jsonb), :p, :l)"
                ),
                {
                    "id": rule_id,
                    "t": tenant_id,
                    "n": f"r{i}",
                    "tr": json.dumps([rule["trigger"]]),
                    "c": json.dumps(rule["when"]),
                    "a": json.dumps(rule["actions"]),
                    "p": i,
                    "l": rule["loop_limit"],
                },
            )
        engine.forget(session)
        made = TicketCreate(title="prop", description="x", priority="low")
        ticket = service.create(ctx, data=made)
        for wanted in stream:
            service.update(
                ctx,
                ticket_id=ticket.id,
                data=TicketUpdate(priority=wanted),
                if_match=ticket.version,
            )
        log = [
            (ids.index(r.rule_id), r.status)
            for r in session.execute(
                text(
                    "SELECT rule_id, status FROM automation_runs WHERE ticket_id = :k ORDER BY at"
                ),
                {"k": ticket.id},
            )
        ]
        final = session.get(Ticket, ticket.id)
        assert final is not None
        got = {"priority": final.priority, "tags": list(final.tags)}
        per_origin_ok = all(
            Counter(i for i, s in log if s == "fired")[i] <= rules[i]["loop_limit"] * len(stream)
            for i in range(len(rules))
        )
    assert log == expected, (rules, stream)
    assert got == expected_ticket
    assert per_origin_ok
