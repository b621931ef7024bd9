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


@pytest.mark.parametrize(
    ("flag", "on_lambda", "fast"),
    [(None, False, False), ("1", False, True), ("1", True, False), ("yes", False, False)],
)
def test_cheap_hashing_is_for_tests_only_and_never_on_lambda(
    monkeypatch: pytest.MonkeyPatch, flag: str | None, on_lambda: bool, fast: bool
) -> None:
    from argon2 import PasswordHasher

    from servicedesk.identity import passwords

    production = PasswordHasher()
    if flag is None:
        monkeypatch.delenv(passwords.FAST_HASHING_FOR_TESTS, raising=False)
    else:
        monkeypatch.setenv(passwords.FAST_HASHING_FOR_TESTS, flag)
    if on_lambda:
        monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "identity")
    else:
        monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    passwords._hasher.cache_clear()
    try:
        hashed = passwords.hash_password("correct-horse-battery-staple-42")
        params = f"$m={production.memory_cost},t={production.time_cost},p={production.parallelism}$"
        assert (params not in hashed) is fast
        # A hash made the other way verifies too: the parameters travel in the hash.
        assert passwords.verify_password(
            production.hash("another-long-passphrase-9"), "another-long-passphrase-9"
        )
    finally:
        passwords._hasher.cache_clear()


def test_passwords_are_verified_only_by_the_throttled_gate():
    """Static half: no module but the gate calls the verifier, so a route can only check a
    password by declaring PasswordCheck, which the walk below finds."""
    import ast
    from pathlib import Path

    import servicedesk

    root = Path(servicedesk.__file__).parent
    callers = set()
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "attr", getattr(node.func, "id", None))
                if name == "verify_password":
                    callers.add(path.relative_to(root).as_posix())
    assert callers == {"identity/throttle.py"}
