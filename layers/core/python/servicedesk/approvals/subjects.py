"""What an approval is about: the summary an approver reads (they may not see the subject
itself) and what the subject does when its approval ends. Each subject type registers its
adapter (``register``): tickets in servicedesk/tickets/approvals.py, changes in
servicedesk/changes/approvals.py."""

from __future__ import annotations

import importlib
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from servicedesk.platform.tenancy import RequestContext

if TYPE_CHECKING:
    from servicedesk.approvals.models import ApprovalRequest

Summaries = Callable[[Session, uuid.UUID, list[uuid.UUID]], dict[uuid.UUID, dict[str, Any]]]
Decided = Callable[[RequestContext, "ApprovalRequest", str, str], None]

SUMMARIES: dict[str, Summaries] = {}
DECIDED: dict[str, Decided] = {}
# The subject types' adapters register themselves when imported; they import this package,
# so it cannot import them at module level (a cycle): the first use imports them by name,
# as tickets.timeline does its hooks.
SUBJECT_MODULES = ("servicedesk.tickets.approvals", "servicedesk.changes.approvals")
_installed: list[bool] = []


def _install() -> None:
    if not _installed:
        for name in SUBJECT_MODULES:
            importlib.import_module(name)
        _installed.append(True)


def register(subject_type: str, summaries: Summaries, decided: Decided) -> None:
    SUMMARIES[subject_type] = summaries
    DECIDED[subject_type] = decided


def summaries(
    session: Session, tenant_id: uuid.UUID, requests: list[ApprovalRequest]
) -> dict[uuid.UUID, dict[str, Any]]:
    """Each request's subject summary, by request id (one query per subject type)."""
    _install()
    out: dict[uuid.UUID, dict[str, Any]] = {}
    by_type: dict[str, list[ApprovalRequest]] = {}
    for request in requests:
        by_type.setdefault(request.subject_type, []).append(request)
    for subject_type, group in by_type.items():
        reader = SUMMARIES.get(subject_type)
        if reader is None:
            continue
        found = reader(session, tenant_id, [r.subject_id for r in group])
        for request in group:
            if request.subject_id in found:
                out[request.id] = found[request.subject_id]
    return out


def decided(ctx: RequestContext, request: ApprovalRequest, state: str, reason: str) -> None:
    _install()
    handler = DECIDED.get(request.subject_type)
    if handler is not None:
        handler(ctx, request, state, reason)
