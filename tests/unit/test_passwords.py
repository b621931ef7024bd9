from __future__ import annotations

import pytest

from servicedesk.identity.passwords import hash_password, policy_problem, verify_password


@pytest.mark.parametrize(
    "password", ["short", "password1234", "qwerty123456!", "aaaaaaaaaaaaaaa", "iloveyou12345678"]
)
def test_weak_passwords_are_refused(password):
    assert policy_problem(password) is not None


def test_password_containing_the_email_is_refused():
    assert policy_problem("margaret-rocks-2026", email="margaret@example.org") is not None


def test_strong_password_passes_and_hashes_with_argon2id():
    password = "correct-horse-battery-staple-42"
    assert policy_problem(password, email="someone@example.org") is None
    hashed = hash_password(password)
    assert hashed.startswith("$argon2id$")
    assert verify_password(hashed, password)
    assert not verify_password(hashed, "wrong" + password)
    assert not verify_password(None, password)
