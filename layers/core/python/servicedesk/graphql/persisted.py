"""Persisted queries (APQ-style ``extensions.persistedQuery``): sha256 hash -> query.

The registered queries are ``persisted.json`` beside this module (the web app's and the
benchmark's, by their hash; ``scripts``-free: a test checks each key is its query's
hash). A request may send

- the hash alone: the registered query, or ``PERSISTED_QUERY_NOT_FOUND``;
- the hash with the query: the hash must be the query's (``PERSISTED_QUERY_HASH_MISMATCH``);
- the query alone: accepted unless ``graphql_persisted_only`` is set, which then accepts
  only registered queries (a production switch that freezes the API to known queries).
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path
from typing import Any

REGISTRY = Path(__file__).with_name("persisted.json")


class PersistedQueryError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def digest(query: str) -> str:
    return hashlib.sha256(query.encode()).hexdigest()


@functools.cache
def registered() -> dict[str, str]:
    loaded: dict[str, str] = json.loads(REGISTRY.read_text(encoding="utf-8"))
    return loaded


def resolve(query: str | None, extensions: dict[str, Any] | None, *, only_registered: bool) -> str:
    """The query text to run, or ``PersistedQueryError``."""
    persisted = (extensions or {}).get("persistedQuery")
    if persisted is not None:
        if not isinstance(persisted, dict) or persisted.get("version") != 1:
            raise PersistedQueryError(
                "PERSISTED_QUERY_NOT_SUPPORTED", "persistedQuery must be {version: 1, sha256Hash}"
            )
        wanted = persisted.get("sha256Hash")
        if not isinstance(wanted, str) or len(wanted) != 64:
            raise PersistedQueryError(
                "PERSISTED_QUERY_NOT_FOUND", "sha256Hash must be 64 hex digits"
            )
        if query is None:
            found = registered().get(wanted.lower())
            if found is None:
                raise PersistedQueryError("PERSISTED_QUERY_NOT_FOUND", "PersistedQueryNotFound")
            return found
        if digest(query) != wanted.lower():
            raise PersistedQueryError(
                "PERSISTED_QUERY_HASH_MISMATCH", "sha256Hash is not the hash of the query"
            )
    if query is None:
        raise PersistedQueryError(
            "QUERY_MISSING", "a query or a registered persistedQuery is required"
        )
    if only_registered and digest(query) not in registered():
        raise PersistedQueryError(
            "PERSISTED_QUERY_REQUIRED", "only registered persisted queries are accepted"
        )
    return query
