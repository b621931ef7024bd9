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
