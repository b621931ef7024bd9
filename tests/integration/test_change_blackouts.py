"""Editing a blackout window (PATCH /v1/changes/blackouts/{id}, issue 22) on the real
database: checked as a new window (422 naming the field, nothing written), the version
read is required (428) and current (412), one-off and recurring windows turn into each
other, the calendar follows, the audit log records it; agents and requesters are refused
and another organisation finds nothing."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import make_tenant

pytestmark = pytest.mark.usefixtures("client")

PATH = "/v1/changes/blackouts"
FRIDAY_NIGHTS = {
    "frequency": "weekly",
    "weekdays": [4],
    "start_time": "20:00",
    "duration_minutes": 120,
    "time_zone": "Europe/Paris",
    "starts_on": "2031-06-02",
}


@pytest.fixture(scope="module")
def org(client):
    return make_tenant(client, roles=("agent", "manager", "requester"))


@pytest.fixture(scope="module")
def other(client):
    return make_tenant(client, roles=("manager",))


def _h(org, role: str, version: int | None = None) -> dict[str, str]:
    headers = dict(org.admin.headers if role == "admin" else org.members[role].headers)
    if version is not None:
        headers["If-Match"] = f'"{version}"'
    return headers


def _made(client, org, **body: Any) -> dict[str, Any]:
    made = client.post(PATH, headers=_h(org, "manager"), json=body)
    assert made.status_code == 201, made.text
    return dict(made.json())


def _one_off(client, org, name: str = "Freeze") -> dict[str, Any]:
    return _made(
        client, org, name=name, starts_at="2031-06-10T08:00:00Z", ends_at="2031-06-12T18:00:00Z"
    )


def _edit(client, org, blackout: dict[str, Any], role: str = "manager", **body: Any) -> Any:
    return client.patch(f"{PATH}/{blackout['id']}", headers=_h(org, role), json=body)


def _listed(client, org, blackout_id: str) -> dict[str, Any]:
    items = client.get(PATH, headers=_h(org, "agent"), params={"limit": 100}).json()["items"]
    return next(b for b in items if b["id"] == blackout_id)


def test_a_manager_edits_a_window_at_the_version_read(client, org):
    made = _one_off(client, org)
    assert made["version"] == 1
    edited = client.patch(
        f"{PATH}/{made['id']}",
        headers=_h(org, "manager", version=1),
        json={"name": "Quarter-end freeze", "ends_at": "2031-06-13T18:00:00Z"},
    )
    assert edited.status_code == 200, edited.text
    assert edited.headers["ETag"] == '"2"'
    body = edited.json()
    assert (body["name"], body["starts_at"], body["ends_at"], body["version"]) == (
        "Quarter-end freeze",
        "2031-06-10T08:00:00Z",
        "2031-06-13T18:00:00Z",
        2,
    )
    assert _listed(client, org, made["id"]) == body
    stale = _edit(client, org, made, name="Late", version=1)
    assert stale.status_code == 412, stale.text
    assert stale.headers["content-type"].startswith("application/problem+json")
    missing = _edit(client, org, made, name="Late")
    assert missing.status_code == 428, missing.text
    assert _listed(client, org, made["id"])["name"] == "Quarter-end freeze"
    audit = client.get(
        "/v1/audit-events",
        headers=_h(org, "admin"),
        params={"entity_id": made["id"], "action": "change_blackout.updated"},
    )
    assert audit.status_code == 200, audit.text
    [entry] = audit.json()["items"]
    assert entry["data"] == {"changed": ["ends_at", "name"]}
    same = _edit(client, org, made, name="Quarter-end freeze", version=2)
    assert same.json()["version"] == 2  # nothing changes: no new version


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": None}, "name"),
        ({"ends_at": "2031-06-09T08:00:00Z"}, "ends_at"),
        ({"starts_at": "2031-06-12T18:00:00Z"}, "ends_at"),
        ({"recurrence": {**FRIDAY_NIGHTS, "time_zone": "Mars/Olympus"}}, "recurrence.time_zone"),
        ({"recurrence": {**FRIDAY_NIGHTS, "weekdays": None}}, "recurrence.weekdays"),
        ({"recurrence": {**FRIDAY_NIGHTS, "until": "2045-01-01"}}, "recurrence.until"),
        ({"recurrence": {**FRIDAY_NIGHTS, "until": "2031-01-01"}}, "recurrence.until"),
        ({"recurrence": FRIDAY_NIGHTS, "starts_at": "2031-06-10T08:00:00Z"}, "starts_at"),
        ({"recurrence": None}, "starts_at"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_an_edit_is_checked_as_a_new_window_and_writes_nothing(client, org, body, field):
    made = (
        _made(client, org, name="Nights", recurrence=FRIDAY_NIGHTS)
        if body == {"recurrence": None}
        else _one_off(client, org)
    )
    refused = _edit(client, org, made, **body, version=1)
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert field in [e["field"] for e in refused.json()["errors"]], refused.json()
    assert _listed(client, org, made["id"]) == made


def test_a_one_off_window_becomes_recurring_and_back(client, org):
    made = _one_off(client, org, "Moving")
    weekly = _edit(client, org, made, recurrence=FRIDAY_NIGHTS, version=1)
    assert weekly.status_code == 200, weekly.text
    body = weekly.json()
    # As a new recurring window: from starts_on at 20:00 in Paris (CEST: UTC+2), no end.
    assert (body["starts_at"], body["ends_at"]) == ("2031-06-02T18:00:00Z", None)
    assert body["recurrence"]["weekdays"] == [4]
    month = client.get(
        "/v1/changes/calendar",
        params={"from": "2031-06-01T00:00:00Z", "to": "2031-06-21T00:00:00Z"},
        headers=_h(org, "agent"),
    ).json()
    mine = [(b["starts_at"], b["recurring"]) for b in month["blackouts"] if b["id"] == made["id"]]
    assert mine == [
        ("2031-06-06T18:00:00Z", True),
        ("2031-06-13T18:00:00Z", True),
        ("2031-06-20T18:00:00Z", True),
    ]
    back = _edit(
        client,
        org,
        made,
        starts_at="2031-07-01T00:00:00Z",
        ends_at="2031-07-02T00:00:00Z",
        version=2,
    )
    assert back.status_code == 200, back.text
    assert (back.json()["recurrence"], back.json()["version"]) == (None, 3)
    until = _edit(client, org, made, recurrence={**FRIDAY_NIGHTS, "until": "2031-06-30"}, version=3)
    # The series' outer bounds (recurrence.bounds): to the until day's window end.
    assert until.json()["ends_at"] == "2031-06-30T20:00:00Z"


@pytest.mark.parametrize("role", ["requester", "agent"])
def test_agents_and_requesters_may_not_edit(client, org, role):
    made = _one_off(client, org)
    refused = _edit(client, org, made, role=role, name="Mine", version=1)
    assert refused.status_code == 403, refused.text
    assert _listed(client, org, made["id"]) == made


def test_another_organisation_finds_no_window(client, org, other):
    made = _one_off(client, org)
    foreign = client.patch(
        f"{PATH}/{made['id']}",
        headers=other.members["manager"].headers,
        json={"name": "x", "version": 1},
    )
    assert foreign.status_code == 404, foreign.text
    unknown = client.patch(
        f"{PATH}/00000000-0000-4000-8000-000000000000",
        headers=_h(org, "manager"),
        json={"name": "x", "version": 1},
    )
    assert unknown.status_code == 404
    assert _listed(client, org, made["id"]) == made
