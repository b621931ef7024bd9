"""The per-ticket SLA clock: start, pause, resume, meet, and recompute on change.

Each target keeps `elapsed_seconds` of business time spent up to `clock_at`. Pausing
settles the clock; resuming restarts it; a policy change settles it on the old calendar
and continues with the new budget and calendar, so elapsed time carries over. While a
target runs, its due time and warning instants are precomputed for the evaluator.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Collection
from datetime import datetime
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from servicedesk.sla import calendars
from servicedesk.sla.business_time import (
    BusinessCalendar,
    add_business_seconds,
    business_seconds_between,
)
from servicedesk.sla.models import Calendar, Pause, Policy, SlaTarget

# Statuses that pause the clock whatever the policy's pause_statuses: a service request
# waiting for its approval (tickets.states.APPROVAL_STATUSES) is nobody's work yet.
ALWAYS_PAUSED = frozenset({"pending_approval"})


def settle(target: SlaTarget, cal: BusinessCalendar, now: datetime) -> None:
    """Bring the target's elapsed business time up to ``now`` if its clock runs."""
    if target.met_at is None and target.paused_since is None and now > target.clock_at:
        spent = business_seconds_between(cal, target.clock_at, now)
        remaining = target.budget_seconds - target.elapsed_seconds
        if target.breached_at is None and 0 < remaining <= spent:
            # The budget ran out inside this stretch: remember when, exactly.
            target.breached_at = add_business_seconds(cal, target.clock_at, remaining)
        target.elapsed_seconds += spent
        target.clock_at = now


def rebudget(target: SlaTarget, budget_seconds: int, now: datetime) -> None:
    """A new budget (another policy applies), elapsed time carried over. If the time
    already spent exhausts it, the target is missed as of now."""
    target.budget_seconds = budget_seconds
    if (
        target.met_at is None
        and target.breached_at is None
        and (target.elapsed_seconds >= budget_seconds)
    ):
        target.breached_at = now


def schedule(target: SlaTarget, cal: BusinessCalendar, thresholds: list[int]) -> None:
    """Precompute the due time, the warning instants and the next moment to check.

    Pure arithmetic on the target and the calendar in force; the property tests hold it
    against a minute-by-minute oracle over random pause and policy-change histories.
    """
    if target.met_at is not None or target.paused_since is not None:
        target.due_at, target.warn_at, target.warn_levels = None, [], []
        target.next_check_at = None
        return

    def at(spent: int) -> datetime:
        remaining = spent - target.elapsed_seconds
        if remaining <= 0:
            return target.clock_at
        return add_business_seconds(cal, target.clock_at, remaining)

    # Once missed, the target stays missed at the instant it was: a later pause or a more
    # lenient policy does not move a breach that already happened.
    target.due_at = target.breached_at or at(target.budget_seconds)
    target.warn_levels = list(thresholds)
    target.warn_at = [at(math.ceil(target.budget_seconds * t / 100)) for t in thresholds]
    target.next_check_at = min([*target.warn_at, target.due_at])


class Clock:
    """SLA bookkeeping for one tenant's transaction (calendars and policies cached)."""

    def __init__(self, session: Session, tenant_id: uuid.UUID) -> None:
        self.session = session
        self.tenant_id = tenant_id
        self._calendars: dict[uuid.UUID | None, BusinessCalendar] = {}

    def policy(self, policy_id: uuid.UUID | None) -> Policy | None:
        return self.session.get(Policy, policy_id) if policy_id else None

    def calendar(self, policy: Policy | None) -> BusinessCalendar:
        key = policy.calendar_id if policy else None
        if key not in self._calendars:
            stored = self.session.get(Calendar, key) if key else None
            self._calendars[key] = calendars.to_business(stored)
        return self._calendars[key]

    def targets(self, ticket_id: uuid.UUID) -> list[SlaTarget]:
        return list(
            self.session.scalars(
                select(SlaTarget)
                .where(SlaTarget.tenant_id == self.tenant_id, SlaTarget.ticket_id == ticket_id)
                .with_for_update()
            )
        )

    # -- the clock of one target -------------------------------------------------------

    def settle(self, target: SlaTarget, now: datetime) -> None:
        settle(target, self.calendar(self.policy(target.policy_id)), now)

    def schedule(self, target: SlaTarget) -> None:
        policy = self.policy(target.policy_id)
        thresholds = sorted(policy.warning_thresholds) if policy else []
        schedule(target, self.calendar(policy), thresholds)

    def meet(self, target: SlaTarget, now: datetime) -> None:
        if target.met_at is not None:
            return
        self.settle(target, now)
        target.met_at = now
        if target.elapsed_seconds > target.budget_seconds and target.breached_at is None:
            target.breached_at = target.due_at or now
        self.schedule(target)

    # -- ticket events ----------------------------------------------------------------

    def start(self, ticket: TicketLike, policy: Policy | None, now: datetime) -> None:
        rows, _ = self.opening(ticket.id, ticket.status, policy, now)
        if not rows:
            return
        self.session.add_all(rows)
        self.session.flush()
        self.refresh_due(ticket)

    def opening(
        self, ticket_id: uuid.UUID, status: str, policy: Policy | None, now: datetime
    ) -> tuple[list[SlaTarget | Pause], datetime | None]:
        """What starting a new ticket's clocks writes, not yet added to the session (its
        scheduled targets, and a pause if it opens paused), and the ticket's sla_due_at."""
        if policy is None:
            return [], None
        budgets = {
            "first_response": policy.first_response_minutes,
            "resolution": policy.resolution_minutes,
        }
        paused = status in policy.pause_statuses or status in ALWAYS_PAUSED
        targets: list[SlaTarget] = []
        for name, minutes in budgets.items():
            if minutes:
                target = SlaTarget(
                    tenant_id=self.tenant_id,
                    ticket_id=ticket_id,
                    target=name,
                    policy_id=policy.id,
                    budget_seconds=minutes * 60,
                    elapsed_seconds=0,
                    clock_at=now,
                    paused_since=now if paused else None,
                )
                self.schedule(target)
                targets.append(target)
        dues = [t.due_at for t in targets if t.due_at is not None and t.met_at is None]
        rows: list[SlaTarget | Pause] = list(targets)
        if paused:
            rows.append(
                Pause(tenant_id=self.tenant_id, ticket_id=ticket_id, started_at=now, reason=status)
            )
        return rows, min(dues) if dues else None

    def status_changed(
        self, ticket: TicketLike, previous: str, now: datetime, *, finished: Collection[str]
    ) -> None:
        """``finished``: the statuses that end the ticket (the tickets domain's)."""
        targets = self.targets(ticket.id)
        if not targets:
            return
        policy = self.policy(targets[0].policy_id)
        pause_statuses = (set(policy.pause_statuses) if policy else {"pending"}) | ALWAYS_PAUSED
        if ticket.status in finished:
            for target in targets:
                self.meet(target, now)
            self._close_pause(ticket.id, now)
        elif previous in finished:
            unanswered = ticket.first_response_at is None
            self._reopen(
                targets, paused=ticket.status in pause_statuses, now=now, unanswered=unanswered
            )
        elif ticket.status in pause_statuses and previous not in pause_statuses:
            self._pause(targets, now)
            self._open_pause(ticket.id, now, ticket.status)
        elif previous in pause_statuses and ticket.status not in pause_statuses:
            self.resume(targets, now)
            self._close_pause(ticket.id, now)
        self.refresh_due(ticket, targets)

    def _reopen(
        self, targets: list[SlaTarget], *, paused: bool, now: datetime, unanswered: bool
    ) -> None:
        """Resolution runs again from where it stopped (its elapsed time carries over); so
        does first response when nobody answered yet (a request cancelled, then reopened)."""
        again = {"resolution", "first_response"} if unanswered else {"resolution"}
        for target in targets:
            if target.target in again:
                target.met_at, target.clock_at = None, now
                target.paused_since = now if paused else None
                self.schedule(target)

    def _pause(self, targets: list[SlaTarget], now: datetime) -> None:
        for target in targets:
            if target.met_at is None and target.paused_since is None:
                self.settle(target, now)
                target.paused_since = now
                self.schedule(target)

    def resume(self, targets: list[SlaTarget], now: datetime) -> None:
        for target in targets:
            if target.paused_since is not None:
                target.paused_since, target.clock_at = None, now
                self.schedule(target)

    def replied(self, ticket: TicketLike, *, by_staff: bool, now: datetime) -> None:
        targets = {t.target: t for t in self.targets(ticket.id)}
        if not targets:
            return
        if by_staff:
            for name in ("first_response", "next_response"):
                if name in targets:
                    self.meet(targets[name], now)
        else:
            policy = self.policy(next(iter(targets.values())).policy_id)
            first = targets.get("first_response")
            responded = first is None or first.met_at is not None
            if policy and policy.next_response_minutes and responded:
                self._restart(targets.get("next_response"), ticket, policy, now)
        self.refresh_due(ticket)

    def _restart(
        self, target: SlaTarget | None, ticket: TicketLike, policy: Policy, now: datetime
    ) -> None:
        budget = (policy.next_response_minutes or 0) * 60
        if target is None:
            target = SlaTarget(
                tenant_id=self.tenant_id,
                ticket_id=ticket.id,
                target="next_response",
                policy_id=policy.id,
                budget_seconds=budget,
                cycle=1,
            )
            self.session.add(target)
        elif target.met_at is None:
            return  # still waiting for the previous answer: the clock keeps running
        else:
            target.cycle += 1  # a new question: its crossings are recorded afresh
        target.budget_seconds, target.elapsed_seconds, target.clock_at = budget, 0, now
        target.met_at = target.breached_at = None
        target.paused_since = None
        self.schedule(target)
        self.session.flush()

    def reclassified(self, ticket: TicketLike, policy: Policy | None, now: datetime) -> None:
        """Priority, category or team changed: a different policy may apply now. Elapsed
        time is settled on the old calendar and carried into the new budget."""
        targets = self.targets(ticket.id)
        current = targets[0].policy_id if targets else None
        if (policy.id if policy else None) == current:
            return
        for target in targets:
            self.settle(target, now)
        if policy is None:
            for target in targets:
                target.policy_id = None
                if target.met_at is None:
                    self.session.delete(target)
        elif not targets:
            self.start(ticket, policy, now)
            return
        else:
            self._rebudget(ticket, targets, policy, now)
        self.session.flush()
        self.refresh_due(ticket)

    def _rebudget(
        self, ticket: TicketLike, targets: list[SlaTarget], policy: Policy, now: datetime
    ) -> None:
        budgets = {
            "first_response": policy.first_response_minutes,
            "next_response": policy.next_response_minutes,
            "resolution": policy.resolution_minutes,
        }
        have = {t.target: t for t in targets}
        for name, target in have.items():
            minutes = budgets.get(name)
            if minutes:
                target.policy_id = policy.id
                rebudget(target, minutes * 60, now)
                self.schedule(target)
            elif target.met_at is None:
                self.session.delete(target)
        for name in ("first_response", "resolution"):
            minutes = budgets[name]
            responded = name == "first_response" and ticket.first_response_at is not None
            if minutes and name not in have and not responded:
                target = SlaTarget(
                    tenant_id=self.tenant_id,
                    ticket_id=ticket.id,
                    target=name,
                    policy_id=policy.id,
                    budget_seconds=minutes * 60,
                    elapsed_seconds=0,
                    clock_at=now,
                )
                self.schedule(target)
                self.session.add(target)

    def running_under(self, *, policy_ids: list[uuid.UUID]) -> list[SlaTarget]:
        return list(
            self.session.scalars(
                select(SlaTarget)
                .where(
                    SlaTarget.tenant_id == self.tenant_id,
                    SlaTarget.policy_id.in_(policy_ids),
                    SlaTarget.met_at.is_(None),
                )
                .with_for_update()
            )
        )

    def rules_changed(self, targets: list[SlaTarget], now: datetime) -> None:
        """A policy's budgets or a calendar changed: each open target was settled on the
        old rules (by the caller, before the change) and is rescheduled on the new ones."""
        self._calendars.clear()
        touched: set[uuid.UUID] = set()
        for target in targets:
            policy = self.policy(target.policy_id)
            minutes = {
                "first_response": policy.first_response_minutes if policy else None,
                "next_response": policy.next_response_minutes if policy else None,
                "resolution": policy.resolution_minutes if policy else None,
            }[target.target]
            if not minutes:
                self.session.delete(target)
            else:
                rebudget(target, minutes * 60, now)
                self.schedule(target)
            touched.add(target.ticket_id)
        self.session.flush()
        self._refresh_due_of(touched)

    def _refresh_due_of(self, ticket_ids: set[uuid.UUID]) -> None:
        from sqlalchemy import text

        if ticket_ids:
            self.session.execute(
                text(
                    "UPDATE tickets t SET sla_due_at = (SELECT min(s.due_at) FROM"
                    " ticket_sla_targets s WHERE s.tenant_id = t.tenant_id"
                    " AND s.ticket_id = t.id AND s.met_at IS NULL)"
                    " WHERE t.tenant_id = :tenant AND t.id = ANY(:ids)"
                ),
                {"tenant": self.tenant_id, "ids": list(ticket_ids)},
            )

    def refresh_due(self, ticket: TicketLike, targets: list[SlaTarget] | None = None) -> None:
        rows = targets if targets is not None else self.targets(ticket.id)
        dues = [t.due_at for t in rows if t.due_at is not None and t.met_at is None]
        ticket.sla_due_at = min(dues) if dues else None

    def _open_pause(self, ticket_id: uuid.UUID, now: datetime, reason: str) -> None:
        self.session.add(
            Pause(tenant_id=self.tenant_id, ticket_id=ticket_id, started_at=now, reason=reason)
        )

    def _close_pause(self, ticket_id: uuid.UUID, now: datetime) -> None:
        for pause in self.session.scalars(
            select(Pause).where(
                Pause.tenant_id == self.tenant_id,
                Pause.ticket_id == ticket_id,
                Pause.ended_at.is_(None),
            )
        ):
            pause.ended_at = now


class TicketLike(Protocol):
    """What the clock reads and writes on a ticket (the tickets model satisfies it)."""

    id: uuid.UUID
    status: str
    first_response_at: datetime | None
    sla_due_at: datetime | None
