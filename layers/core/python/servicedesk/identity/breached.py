"""Breached passwords: is a new password one that leaked?

Asked of the k-anonymity range API of Have I Been Pwned (``GET <base>/range/<5 hex>``)
when ``breached_passwords_api_url`` is set: only the first five hex characters of the
password's SHA-1 leave the process; the answer lists the suffixes of every leaked hash
with that prefix (padded with zero-count decoys, which do not count), and the match is
made here. When the API is not configured, unreachable, slow (the timeout) or answers
something that is not a range, the bundled list decides: the 30,000 most common
passwords of the Xato corpus (``data/breached_passwords.txt.gz``, from zxcvbn 4.5.0, MIT
licence), compared case-insensitively.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import re
from dataclasses import dataclass
from importlib import resources
from typing import Literal

import httpx

from servicedesk.platform.config import Settings, get_settings
from servicedesk.platform.logging import get_logger

PREFIX_LENGTH = 5
_LINE = re.compile(r"^([0-9A-Fa-f]{35}):(\d+)$")
Source = Literal["range_api", "bundled"]


@dataclass(frozen=True)
class Verdict:
    breached: bool
    source: Source


@functools.cache
def bundled() -> frozenset[str]:
    data = resources.files("servicedesk.identity").joinpath("data/breached_passwords.txt.gz")
    lines = gzip.decompress(data.read_bytes()).decode("utf-8").splitlines()
    return frozenset(line.lower() for line in lines if line and not line.startswith("#"))


def check(password: str, *, settings: Settings | None = None) -> Verdict:
    settings = settings or get_settings()
    if settings.breached_passwords_api_url:
        found = _range_api(password, settings)
        if found is not None:
            return Verdict(found, "range_api")
    return Verdict(password.lower() in bundled(), "bundled")


def _range_api(password: str, settings: Settings) -> bool | None:
    """True or False from the range API; None when it could not say."""
    digest = hashlib.sha1(password.encode("utf-8"), usedforsecurity=False).hexdigest().upper()
    prefix, suffix = digest[:PREFIX_LENGTH], digest[PREFIX_LENGTH:]
    base = str(settings.breached_passwords_api_url).rstrip("/")
    try:
        response = httpx.get(
            f"{base}/range/{prefix}",
            headers={"Add-Padding": "true", "User-Agent": "servicedesk-password-check"},
            timeout=settings.breached_passwords_timeout_seconds,
            follow_redirects=False,
        )
        if response.status_code != 200:
            raise ValueError(f"status {response.status_code}")
        found = False
        for raw in response.text.splitlines():
            line = raw.strip()
            if not line:
                continue
            match = _LINE.match(line)
            if match is None:
                raise ValueError("not a range answer")
            if match.group(1).upper() == suffix and int(match.group(2)) > 0:
                found = True
        return found
    except (httpx.HTTPError, ValueError) as exc:
        get_logger().warning(
            "breached-password range API unavailable; the bundled list decides",
            extra={"reason": type(exc).__name__},
        )
        return None
