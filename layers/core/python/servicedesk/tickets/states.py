"""The ticket state machine, in one place.

new -> open -> in_progress -> pending (waiting on the requester) -> resolved -> closed,
cancel while not finished, reopen from resolved, closed or cancelled. A service request
whose category needs approval starts in pending_approval: only its approval moves it (to
open, or closed when rejected: servicedesk/approvals); people may only cancel it.
Staff may make every transition; a requester may cancel or close their own ticket and
reopen it (a cancelled one too: a cancel is not a dead end) within the tenant's window.
"""

from __future__ import annotations

import enum
from datetime import datetime, timedelta


class Status(enum.StrEnum):
    NEW = "new"
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    PENDING = "pending"
    PENDING_APPROVAL = "pending_approval"
    RESOLVED = "resolved"
    CLOSED = "closed"
    CANCELLED = "cancelled"


# The status sets, defined once (the web app's are in web/src/lib/domain.ts, and
# tests/unit/test_domain_sets.py compares them).
# Someone still works on the ticket: the SLA clock may run, it is in the backlog.
ACTIVE_STATUSES = frozenset({Status.NEW, Status.OPEN, Status.IN_PROGRESS, Status.PENDING})
# Done with; each stamps when it finished, and the ticket may be reopened from it.
FINISHED_STATUSES = frozenset({Status.RESOLVED, Status.CLOSED, Status.CANCELLED})
# The finished statuses that mean an answer was given (not a cancelled request).
RESOLVED_STATUSES = FINISHED_STATUSES - {Status.CANCELLED}
# Waiting for an approval: neither worked on nor finished; the SLA clock is paused
# whatever the policy says (servicedesk/sla/engine.py).
APPROVAL_STATUSES = frozenset({Status.PENDING_APPROVAL})

# What people read for each status, in one place: the e-mails use it, and the web app's
# web/src/lib/format.ts holds the same map (tests/unit/test_status_labels.py compares
# them). Only "pending" reads differently for the requester: it is waiting on them.
LABELS: dict[Status, str] = {
    Status.NEW: "New",
    Status.OPEN: "Open",
    Status.IN_PROGRESS: "In progress",
    Status.PENDING: "Waiting on requester",
    Status.PENDING_APPROVAL: "Pending approval",
    Status.RESOLVED: "Resolved",
    Status.CLOSED: "Closed",
    Status.CANCELLED: "Cancelled",
}
REQUESTER_LABELS: dict[Status, str] = {**LABELS, Status.PENDING: "Waiting on you"}


def label(status: str, *, staff: bool) -> str:
    """The status as staff or as the requester read it (an unknown value as it is)."""
    try:
        known = Status(status)
    except ValueError:
        return status
    return (LABELS if staff else REQUESTER_LABELS)[known]


GRAPH: dict[Status, frozenset[Status]] = {
    Status.NEW: frozenset(
        {
            Status.OPEN,
            Status.IN_PROGRESS,
            Status.PENDING,
            Status.RESOLVED,
            Status.CLOSED,
            Status.CANCELLED,
        }
    ),
    Status.OPEN: frozenset(
        {Status.IN_PROGRESS, Status.PENDING, Status.RESOLVED, Status.CLOSED, Status.CANCELLED}
    ),
    Status.IN_PROGRESS: frozenset(
        {Status.OPEN, Status.PENDING, Status.RESOLVED, Status.CLOSED, Status.CANCELLED}
    ),
    Status.PENDING: frozenset(
        {Status.OPEN, Status.IN_PROGRESS, Status.RESOLVED, Status.CLOSED, Status.CANCELLED}
    ),
    Status.PENDING_APPROVAL: frozenset({Status.CANCELLED}),
    Status.RESOLVED: frozenset({Status.OPEN, Status.CLOSED}),
    Status.CLOSED: frozenset({Status.OPEN}),
    Status.CANCELLED: frozenset({Status.OPEN}),
}


def reopen_allowed(
    status: Status, finished_at: datetime | None, *, now: datetime, window_days: int
) -> bool:
    if status not in FINISHED_STATUSES or finished_at is None:
        return False
    return now - finished_at <= timedelta(days=window_days)


def allowed(
    current: Status,
    *,
    staff: bool,
    is_requester: bool,
    finished_at: datetime | None,
    now: datetime,
    reopen_window_days: int,
) -> frozenset[Status]:
    """Where the caller may move a ticket from ``current``."""
    targets = GRAPH[current]
    if staff:
        return targets
    if not is_requester:
        return frozenset()
    own: set[Status] = set()
    if current in ACTIVE_STATUSES or current in APPROVAL_STATUSES:
        own.add(Status.CANCELLED)
    if current in ACTIVE_STATUSES or current is Status.RESOLVED:
        own.add(Status.CLOSED)
    if reopen_allowed(current, finished_at, now=now, window_days=reopen_window_days):
        own.add(Status.OPEN)
    return frozenset(own & targets)


def reply_moves_to(current: Status) -> Status | None:
    """A requester's public reply: pending/resolved go back to open; closed reopens."""
    if current in (Status.PENDING, Status.RESOLVED, Status.CLOSED):
        return Status.OPEN
    return None
