"""Password hashing (argon2id) and the password policy."""

from __future__ import annotations

import functools
import os
import re
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 12
MAX_LENGTH = 256
# Tests only: argon2id at its cheapest, so the suite's thousands of sign-ins cost CPU
# milliseconds, not seconds. Never on Lambda, whatever the environment says; hashes
# carry their own parameters, so a hash made either way verifies either way.
FAST_HASHING_FOR_TESTS = "SERVICEDESK_INSECURE_FAST_PASSWORD_HASHING"
_TRAILING = re.compile(r"[\d\W_]+$")


@functools.cache
def _common() -> frozenset[str]:
    text = resources.files("servicedesk.identity").joinpath("data/common_passwords.txt")
    lines = text.read_text(encoding="utf-8").splitlines()
    return frozenset(line for line in lines if line and not line.startswith("#"))


@functools.cache
def _hasher() -> PasswordHasher:
    fast = os.environ.get(FAST_HASHING_FOR_TESTS) == "1"
    if fast and not os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
        return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    return PasswordHasher()  # argon2id with the library's current recommended parameters


@functools.cache
def _dummy_hash() -> str:
    return _hasher().hash("timing-equaliser-not-a-password")


def policy_problem(password: str, *, email: str | None = None) -> str | None:
    """Why ``password`` is not acceptable, or None."""
    if len(password) < MIN_LENGTH:
        return f"must be at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"must be at most {MAX_LENGTH} characters"
    lowered = password.lower()
    common = _common()
    # "password123456" is as weak as "password": strip trailing digits and symbols too.
    if lowered in common or _TRAILING.sub("", lowered) in common or len(set(lowered)) < 4:
        return "is too common; choose a less guessable password"
    if email and email.split("@", 1)[0].lower() in lowered and len(email.split("@")[0]) >= 4:
        return "must not contain your e-mail address"
    return None


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Constant-ish time whether or not the account exists or has a password."""
    try:
        return (
            _hasher().verify(password_hash or _dummy_hash(), password) and password_hash is not None
        )
    except (VerificationError, InvalidHashError):
        return False
