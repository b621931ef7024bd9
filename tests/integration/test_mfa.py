"""Two-step verification (issue 21 point 4): TOTP enrolment, the sign-in's second step,
recovery codes, the tenant's policy for staff, and an admin's reset."""

from __future__ import annotations

import base64
import time
from typing import Any

import pyotp
import pytest

from tests.conftest import PASSWORD, Actor, login, make_tenant
from tests.test_support import accept_latest_invitation


def _totp(secret: str) -> pyotp.TOTP:
    return pyotp.TOTP(secret, digits=6, interval=30)


def code(secret: str, steps: int = 0) -> str:
    """The app's code ``steps`` periods from now."""
    return _totp(secret).at(time.time() + 30 * steps)


def enrol(client: Any, actor: Actor, *, step: int = 0) -> tuple[str, list[str]]:
    started = client.post("/v1/me/mfa/totp", headers=actor.headers)
    assert started.status_code == 200, started.text
    secret = started.json()["secret"]
    confirmed = client.post(
        "/v1/me/mfa/totp/confirm", json={"code": code(secret, step)}, headers=actor.headers
    )
    assert confirmed.status_code == 200, confirmed.text
    return secret, confirmed.json()["recovery_codes"]


def challenge(client: Any, actor: Actor) -> str:
    answer = login(client, actor.email)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["mfa_required"] is True and "access_token" not in body, body
    assert "sd_refresh" not in answer.headers.get("set-cookie", "")
    return str(body["mfa_token"])


def second_step(client: Any, token: str, **body: Any) -> Any:
    return client.post("/v1/auth/mfa", json={"mfa_token": token, **body})


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return dict(response.json())


def test_enrolment_shows_the_key_once_and_then_signs_in_with_a_code(client, tenant):
    agent = tenant.members["agent"]
    assert client.get("/v1/me/mfa", headers=agent.headers).json() == {
        "enabled": False,
        "pending": False,
        "confirmed_at": None,
        "recovery_codes_left": 0,
        "required": False,
    }
    started = client.post("/v1/me/mfa/totp", headers=agent.headers)
    assert started.status_code == 200, started.text
    body = started.json()
    assert started.headers["cache-control"] == "no-store"
    assert body["otpauth_uri"].startswith(f"otpauth://totp/Org%20{tenant.slug}:")
    assert agent.email in body["otpauth_uri"] and f"secret={body['secret']}" in body["otpauth_uri"]
    assert body["qr_svg"].startswith('<svg xmlns="http://www.w3.org/2000/svg"')
    assert body["qr_svg"].endswith("</svg>")
    assert len(base64.b32decode(body["secret"])) == 20
    assert client.get("/v1/me/mfa", headers=agent.headers).json()["pending"] is True
    # Not on yet: the password alone still signs in.
    assert "access_token" in login(client, agent.email).json()
    wrong = client.post("/v1/me/mfa/totp/confirm", json={"code": "000000"}, headers=agent.headers)
    assert {e["field"] for e in _problem(wrong, 422)["errors"]} == {"code"}
    confirmed = client.post(
        "/v1/me/mfa/totp/confirm", json={"code": code(body["secret"])}, headers=agent.headers
    )
    assert confirmed.status_code == 200, confirmed.text
    codes = confirmed.json()["recovery_codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    state = client.get("/v1/me/mfa", headers=agent.headers).json()
    assert state["enabled"] is True and state["recovery_codes_left"] == 10
    # The key is never shown again: starting over is refused while it is on.
    assert _problem(client.post("/v1/me/mfa/totp", headers=agent.headers), 409)

    token = challenge(client, agent)
    signed_in = client.post(
        "/v1/auth/mfa",
        json={"mfa_token": token, "code": code(body["secret"], 1)},
        headers={"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0"},
    )
    assert signed_in.status_code == 200, signed_in.text
    assert "sd_refresh" in signed_in.headers["set-cookie"]
    access = signed_in.json()["access_token"]
    me = client.get("/v1/me", headers={"Authorization": f"Bearer {access}"})
    assert me.json()["user"]["email"] == agent.email and me.json()["role"] == "agent"
    # The second step's session says where it came from, like any other sign-in's.
    mine = client.get("/v1/me/sessions", headers={"Authorization": f"Bearer {access}"}).json()
    (current,) = [s for s in mine if s["current"]]
    assert "Firefox" in (current["user_agent"] or ""), current


def test_a_code_is_accepted_once_and_one_step_of_skew_either_way(client, tenant):
    person = tenant.members["requester"]
    secret, _ = enrol(client, person, step=-1)
    # The confirmation used step -1: it cannot sign in again.
    refused = second_step(client, challenge(client, person), code=code(secret, -1))
    _problem(refused, 401)
    ok = second_step(client, challenge(client, person), code=code(secret, 0))
    assert ok.status_code == 200, ok.text
    replay = second_step(client, challenge(client, person), code=code(secret, 0))
    assert _problem(replay, 401)["errors"][0]["field"] == "code"
    ahead = second_step(client, challenge(client, person), code=code(secret, 1))
    assert ahead.status_code == 200, ahead.text
    too_far = second_step(client, challenge(client, person), code=code(secret, 3))
    _problem(too_far, 401)


def test_every_failure_answers_the_same(client, tenant):
    person = tenant.members["agent"]
    secret, _ = enrol(client, person)
    token = challenge(client, person)
    wrong_code = second_step(client, token, code="123456" if code(secret) != "123456" else "654321")
    bad_token = second_step(client, token[:-4] + "AAAA", code=code(secret, 1))
    used_recovery = second_step(client, token, recovery_code="aaaaa-bbbbb")
    bodies = [_problem(r, 401) for r in (wrong_code, bad_token, used_recovery)]
    for body in bodies:
        body.pop("instance", None)
    assert bodies[0] == bodies[1] == bodies[2]
    # A token of another purpose does not open the second step (nor the other way).
    enrol_only = client.post("/v1/auth/mfa/totp", json={"mfa_token": token})
    _problem(enrol_only, 401)
    both = second_step(client, token, code=code(secret, 1), recovery_code="aaaaa-bbbbb")
    assert {e["field"] for e in _problem(both, 422)["errors"]} == {"code", "recovery_code"}
    neither = second_step(client, token)
    assert {e["field"] for e in _problem(neither, 422)["errors"]} == {"code", "recovery_code"}
    malformed = second_step(client, token, code="12ab56")
    assert any(e["field"].endswith("code") for e in _problem(malformed, 422)["errors"])


def test_failures_lock_the_second_step_for_a_while(client, tenant):
    person = tenant.members["agent"]
    secret, _ = enrol(client, person)
    token = challenge(client, person)
    good = code(secret, 1)
    wrong = "000000" if good != "000000" else "111111"
    for _ in range(5):  # login_max_failures_account
        _problem(second_step(client, token, code=wrong), 401)
    locked = second_step(client, token, code=good)
    _problem(locked, 429)
    assert int(locked.headers["retry-after"]) >= 1
    # Per person: another person's second step is not locked.
    other = tenant.members["requester"]
    other_secret, _ = enrol(client, other)
    assert (
        second_step(client, challenge(client, other), code=code(other_secret, 1)).status_code == 200
    )


def test_a_recovery_code_signs_in_once(client, tenant):
    person = tenant.members["requester"]
    _, codes = enrol(client, person)
    first = second_step(client, challenge(client, person), recovery_code=codes[0].upper())
    assert first.status_code == 200, first.text
    again = second_step(client, challenge(client, person), recovery_code=codes[0])
    _problem(again, 401)
    no_hyphen = second_step(
        client, challenge(client, person), recovery_code=codes[1].replace("-", "")
    )
    assert no_hyphen.status_code == 200, no_hyphen.text
    assert client.get("/v1/me/mfa", headers=person.headers).json()["recovery_codes_left"] == 8


def test_turning_it_off_needs_the_password_or_a_code(client, tenant):
    person = tenant.members["requester"]
    secret, _ = enrol(client, person)
    nothing = client.request("DELETE", "/v1/me/mfa", json={}, headers=person.headers)
    assert _problem(nothing, 422)
    wrong = client.request(
        "DELETE", "/v1/me/mfa", json={"password": "not-the-password-1"}, headers=person.headers
    )
    assert _problem(wrong, 422)["errors"][0]["field"] == "password"
    wrong_code = client.request(
        "DELETE", "/v1/me/mfa", json={"recovery_code": "zzzzz-zzzzz"}, headers=person.headers
    )
    assert _problem(wrong_code, 422)["errors"][0]["field"] == "recovery_code"
    # The enrolment's code was used: the next one.
    off = client.request(
        "DELETE", "/v1/me/mfa", json={"code": code(secret, 1)}, headers=person.headers
    )
    assert off.status_code == 204, off.text
    assert "access_token" in login(client, person.email).json()
    # And again with the password.
    enrol(client, person, step=1)
    off = client.request(
        "DELETE", "/v1/me/mfa", json={"password": PASSWORD}, headers=person.headers
    )
    assert off.status_code == 204, off.text
    gone = client.request(
        "DELETE", "/v1/me/mfa", json={"password": PASSWORD}, headers=person.headers
    )
    _problem(gone, 404)


def test_new_recovery_codes_replace_every_earlier_one(client, tenant):
    person = tenant.members["agent"]
    renew = "/v1/me/mfa/recovery-codes"
    _problem(client.post(renew, json={"password": PASSWORD}, headers=person.headers), 404)
    _, first = enrol(client, person)
    assert second_step(client, challenge(client, person), recovery_code=first[0]).status_code == 200
    _problem(client.post(renew, json={}, headers=person.headers), 422)
    wrong = client.post(renew, json={"password": "not-the-password-1"}, headers=person.headers)
    assert _problem(wrong, 422)["errors"][0]["field"] == "password"
    made = client.post(renew, json={"password": PASSWORD}, headers=person.headers)
    assert made.status_code == 200, made.text
    assert made.headers["cache-control"] == "no-store"
    codes = made.json()["recovery_codes"]
    assert len(codes) == 10 and not set(codes) & set(first)
    assert client.get("/v1/me/mfa", headers=person.headers).json()["recovery_codes_left"] == 10
    # Every earlier code stops working, the new ones sign in.
    _problem(second_step(client, challenge(client, person), recovery_code=first[1]), 401)
    assert second_step(client, challenge(client, person), recovery_code=codes[0]).status_code == 200
    # A recovery code proves it too (and is spent by it).
    again = client.post(renew, json={"recovery_code": codes[1]}, headers=person.headers)
    assert again.status_code == 200, again.text
    _problem(second_step(client, challenge(client, person), recovery_code=codes[2]), 401)


def test_a_password_reset_then_sign_in_still_asks_for_the_code(client, tenant):
    from tests.integration.test_account_recovery import _reset_token

    person = tenant.members["agent"]
    enrol(client, person)
    token = _reset_token(client, person.email)
    new_password = "a-brand-new-passphrase-77"
    reset = client.post("/v1/auth/password/reset", json={"token": token, "password": new_password})
    assert reset.status_code == 204, reset.text
    answer = login(client, person.email, new_password)
    assert answer.json().get("mfa_required") is True
    assert "access_token" not in answer.json()


def test_an_invitation_accepted_with_the_password_asks_for_the_code(client, tenant):
    person = tenant.members["agent"]
    enrol(client, person)
    other = make_tenant(client, roles=())
    invited = client.post(
        "/v1/users/invitations", headers=other.admin.headers, json={"email": person.email}
    )
    assert invited.status_code == 201, invited.text
    accepted = accept_latest_invitation(client, other, person.email, password=PASSWORD)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["mfa_required"] is True and "access_token" not in accepted.json()


def _require_mfa(client: Any, admin: Actor, on: bool = True) -> None:
    read = client.get("/v1/settings/security", headers=admin.headers)
    assert read.status_code == 200, read.text
    put = client.put(
        "/v1/settings/security",
        json={"require_mfa_for_staff": on},
        headers={**admin.headers, "If-Match": read.headers["etag"]},
    )
    assert put.status_code == 200, put.text


def test_the_tenant_policy_makes_staff_enrol_before_any_session(client):
    org = make_tenant(client, roles=("agent", "requester"))
    assert (
        client.get("/v1/settings/security", headers=org.members["agent"].headers).status_code == 403
    )
    _require_mfa(client, org.admin)
    # A requester is not staff: the password alone.
    assert "access_token" in login(client, org.members["requester"].email).json()
    agent = org.members["agent"]
    assert client.get("/v1/me/mfa", headers=agent.headers).json()["required"] is True
    answer = login(client, agent.email)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["mfa_enrolment_required"] is True and "access_token" not in body
    token = body["mfa_token"]
    # That token opens the enrolment only: not the second step, not the API.
    _problem(second_step(client, token, code="123456"), 401)
    _problem(client.get("/v1/me", headers={"Authorization": f"Bearer {token}"}), 401)
    started = client.post("/v1/auth/mfa/totp", json={"mfa_token": token})
    assert started.status_code == 200, started.text
    secret = started.json()["secret"]
    wrong = client.post("/v1/auth/mfa/totp/confirm", json={"mfa_token": token, "code": "000000"})
    _problem(wrong, 422)
    done = client.post("/v1/auth/mfa/totp/confirm", json={"mfa_token": token, "code": code(secret)})
    assert done.status_code == 200, done.text
    assert len(done.json()["recovery_codes"]) == 10 and "sd_refresh" in done.headers["set-cookie"]
    me = client.get("/v1/me", headers={"Authorization": f"Bearer {done.json()['access_token']}"})
    assert me.status_code == 200 and me.json()["role"] == "agent"
    # From now on the code is asked.
    assert login(client, agent.email).json()["mfa_required"] is True


def test_switching_into_a_tenant_that_requires_it_needs_it(client):
    strict = make_tenant(client, roles=())
    relaxed = make_tenant(client, roles=("agent",))
    agent = relaxed.members["agent"]
    added = client.post(
        "/v1/users",
        headers=strict.admin.headers,
        json={"email": agent.email, "name": "Agent", "role": "agent", "password": PASSWORD},
    )
    assert added.status_code == 201, added.text
    _require_mfa(client, strict.admin)
    refused = client.post(
        "/v1/auth/switch-tenant", json={"tenant": strict.slug}, headers=agent.headers
    )
    assert _problem(refused, 403)["errors"][0]["field"] == "tenant"
    enrol(client, agent)
    switched = client.post(
        "/v1/auth/switch-tenant", json={"tenant": strict.slug}, headers=agent.headers
    )
    assert switched.status_code == 200, switched.text


def test_an_admin_resets_a_members_mfa_audited_and_only_their_own_members(client):
    org = make_tenant(client, roles=("agent",))
    agent = org.members["agent"]
    enrol(client, agent)
    state = client.get(f"/v1/users/{agent.user_id}/mfa", headers=org.admin.headers)
    assert state.status_code == 200 and state.json()["enabled"] is True
    forbidden = client.delete(f"/v1/users/{agent.user_id}/mfa", headers=agent.headers)
    _problem(forbidden, 403)
    _problem(client.get(f"/v1/users/{agent.user_id}/mfa", headers=agent.headers), 403)
    stranger = make_tenant(client, roles=())
    _problem(client.delete(f"/v1/users/{agent.user_id}/mfa", headers=stranger.admin.headers), 404)
    _problem(client.get(f"/v1/users/{agent.user_id}/mfa", headers=stranger.admin.headers), 404)
    reset = client.delete(f"/v1/users/{agent.user_id}/mfa", headers=org.admin.headers)
    assert reset.status_code == 204, reset.text
    assert "access_token" in login(client, agent.email).json()
    assert (
        client.get(f"/v1/users/{agent.user_id}/mfa", headers=org.admin.headers).json()["enabled"]
        is False
    )
    from tests.conftest import current_database

    with current_database().connect("owner") as conn:
        row = conn.execute(
            "SELECT actor_user_id::text, data FROM audit_log WHERE tenant_id = %s"
            " AND action = 'user.mfa_reset' AND entity_id = %s",
            (org.tenant_id, agent.user_id),
        ).fetchone()
    assert row == (org.admin.user_id, {"was_on": True})
    # The person hears of it: account mail to them alone (none for a reset of nothing).
    with current_database().connect("owner") as conn:
        told = conn.execute(
            "SELECT payload FROM outbox WHERE tenant_id = %s AND event_type = 'user.mfa_reset'",
            (org.tenant_id,),
        ).fetchall()
    assert [(p["user_id"], p["actor_id"]) for (p,) in told] == [(agent.user_id, org.admin.user_id)]
    again = client.delete(f"/v1/users/{agent.user_id}/mfa", headers=org.admin.headers)
    assert again.status_code == 204
    with current_database().connect("owner") as conn:
        count = conn.execute(
            "SELECT count(*) FROM outbox WHERE tenant_id = %s AND event_type = 'user.mfa_reset'",
            (org.tenant_id,),
        ).fetchone()
    assert count == (1,)


def test_an_admin_cannot_reset_a_person_of_other_organisations(client):
    home = make_tenant(client, roles=("agent",))
    agent = home.members["agent"]
    enrol(client, agent)
    # Another organisation adds the same person, then tries to turn their MFA off.
    grabber = make_tenant(client, roles=())
    added = client.post(
        "/v1/users",
        headers=grabber.admin.headers,
        json={"email": agent.email, "name": "Agent", "role": "requester", "password": PASSWORD},
    )
    assert added.status_code == 201, added.text
    _problem(client.delete(f"/v1/users/{agent.user_id}/mfa", headers=grabber.admin.headers), 409)
    assert client.get("/v1/me/mfa", headers=agent.headers).json()["enabled"] is True


def test_the_secret_is_stored_encrypted(client, tenant):
    person = tenant.members["agent"]
    started = client.post("/v1/me/mfa/totp", headers=person.headers).json()
    raw = base64.b32decode(started["secret"] + "=" * (-len(started["secret"]) % 8))
    from tests.conftest import current_database

    with current_database().connect("owner") as conn:
        stored = conn.execute(
            "SELECT secret FROM user_mfa WHERE user_id = %s", (person.user_id,)
        ).fetchone()[0]
        hashes = conn.execute(
            "SELECT count(*) FROM user_mfa_recovery_codes WHERE user_id = %s", (person.user_id,)
        ).fetchone()
    assert raw not in bytes(stored) and len(stored) == 12 + 20 + 16
    assert hashes == (0,)


def test_another_persons_mfa_rows_are_invisible(client, database):
    a = make_tenant(client, roles=("agent",))
    b = make_tenant(client, roles=("agent",))
    enrol(client, a.members["agent"])
    with database.connect("app") as conn, conn.transaction():
        conn.execute(
            "SELECT set_config('app.tenant_id', %s, true), set_config('app.user_id', %s, true)",
            (b.tenant_id, b.members["agent"].user_id),
        )
        assert conn.execute(
            "SELECT count(*) FROM user_mfa WHERE user_id = %s", (a.members["agent"].user_id,)
        ).fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM user_mfa_recovery_codes").fetchone() == (0,)
        deleted = conn.execute(
            "DELETE FROM user_mfa WHERE user_id = %s", (a.members["agent"].user_id,)
        )
        assert deleted.rowcount == 0


@pytest.mark.parametrize("path", ["/v1/auth/mfa/totp", "/v1/auth/mfa/totp/confirm", "/v1/auth/mfa"])
def test_altered_tokens_are_refused_by_every_step(client, path):
    body: dict[str, Any] = {"mfa_token": "A" * 60, "code": "123456"}
    if path == "/v1/auth/mfa/totp":
        body.pop("code")
    _problem(client.post(path, json=body), 401)
