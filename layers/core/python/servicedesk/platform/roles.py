"""Roles per tenant, ordered: requester < agent < manager < admin."""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    REQUESTER = "requester"
    AGENT = "agent"
    MANAGER = "manager"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return _RANK[self]

    def at_least(self, other: Role) -> bool:
        return self.rank >= other.rank

    @property
    def is_staff(self) -> bool:
        return self.at_least(Role.AGENT)


_RANK = {Role.REQUESTER: 0, Role.AGENT: 1, Role.MANAGER: 2, Role.ADMIN: 3}

# The role sets, defined once (the web app's are in web/src/lib/domain.ts, and
# tests/unit/test_domain_sets.py compares them). Tuples, least privileged first.
ROLES: tuple[Role, ...] = tuple(sorted(Role, key=_RANK.__getitem__))
# The roles that work tickets: everyone but the requester.
STAFF_ROLES: tuple[Role, ...] = tuple(role for role in ROLES if role.is_staff)
