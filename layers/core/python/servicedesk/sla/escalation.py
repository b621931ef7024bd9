"""Escalation rules run on a warning or a breach; each action is a timeline event.

Set-based: one statement per tenant and pass applies every rule of every policy to all
the crossings the pass recorded (only the statement that recorded a crossing passes it
here, so a crossing escalates once however many evaluators overlap). The result is the
one the rules give crossing by crossing, in the order the thresholds fell and the rules
are listed: a ticket raised twice in a pass moves up two levels (each step its own
event), the last reassignment wins, a locked assignment is not moved (the event is still
written), and the ticket's version grows by one per change made.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from servicedesk.sla.evaluator import Crossing

# Priorities in raising order; a raise past the last one leaves it there.
LEVELS = "ARRAY['low', 'medium', 'high', 'critical']"

ESCALATE = text(
    f"""
    WITH crossed AS (
        SELECT *
        FROM unnest(CAST(:tickets AS uuid[]), CAST(:targets AS text[]), CAST(:kinds AS text[]),
                    CAST(:policies AS uuid[]))
             WITH ORDINALITY AS c(ticket_id, target, kind, policy_id, seq)
    ),
    -- Each crossing with the rules of its policy that apply to it, in rule order.
    actions AS (
        SELECT c.seq, r.pos, c.ticket_id, c.target, c.kind, c.policy_id,
               r.rule ->> 'action' AS action, r.rule -> 'team_id' AS team
        FROM crossed c
        JOIN sla_policies p ON p.tenant_id = :tenant AND p.id = c.policy_id
        CROSS JOIN LATERAL jsonb_array_elements(p.escalations) WITH ORDINALITY AS r(rule, pos)
        WHERE (coalesce(r.rule ->> 'target', '') = '' OR r.rule ->> 'target' = c.target)
          AND CASE WHEN c.kind = 'breached' THEN r.rule ->> 'on' = 'breach'
                   ELSE r.rule ->> 'on' = 'warning'
                        AND (r.rule ->> 'threshold' IS NULL
                             OR c.kind = 'warning_' || (r.rule ->> 'threshold'))
              END
          AND (r.rule ->> 'action' LIKE 'notify\\_%'
               OR r.rule ->> 'action' IN ('reassign_team', 'raise_priority'))
    ),
    -- The tickets an action changes, locked and read as they are now.
    current AS (
        SELECT t.id, t.priority, t.assignment_locked
        FROM tickets t
        WHERE t.tenant_id = :tenant
          AND t.id IN (SELECT ticket_id FROM actions
                       WHERE action IN ('reassign_team', 'raise_priority'))
        FOR UPDATE
    ),
    -- raised: the ticket's level (1-based) after this action and the raises before it.
    steps AS (
        SELECT a.*, cur.assignment_locked,
               array_position({LEVELS}, cur.priority)
                 + count(*) FILTER (WHERE a.action = 'raise_priority') OVER (
                       PARTITION BY a.ticket_id ORDER BY a.seq, a.pos) AS raised
        FROM actions a LEFT JOIN current cur ON cur.id = a.ticket_id
    ),
    totals AS (
        SELECT ticket_id,
               count(*) FILTER (WHERE action = 'raise_priority' AND raised <= 4)
                 + count(*) FILTER (WHERE action = 'reassign_team' AND NOT assignment_locked)
                 AS changes,
               max(raised) FILTER (WHERE action = 'raise_priority') AS raised,
               (array_agg(team #>> '{{}}' ORDER BY seq DESC, pos DESC)
                  FILTER (WHERE action = 'reassign_team' AND NOT assignment_locked))[1] AS team,
               bool_or(action = 'reassign_team' AND NOT assignment_locked) AS reassigned
        FROM steps
        WHERE action IN ('reassign_team', 'raise_priority')
        GROUP BY ticket_id
    ),
    changed AS (
        UPDATE tickets t
        SET priority = coalesce(({LEVELS})[least(x.raised, 4)], t.priority),
            team_id = CASE WHEN x.reassigned THEN CAST(x.team AS uuid) ELSE t.team_id END,
            assignee_id = CASE WHEN x.reassigned THEN NULL ELSE t.assignee_id END,
            version = t.version + x.changes,
            updated_at = now()
        FROM totals x
        WHERE t.tenant_id = :tenant AND t.id = x.ticket_id AND x.changes > 0
    ),
    timeline AS (
        INSERT INTO ticket_events (tenant_id, ticket_id, type, visibility, payload)
        SELECT :tenant, ticket_id, 'escalated', 'internal',
               jsonb_build_object('action', action, 'target', target, 'kind', kind,
                                  'policy_id', policy_id)
               || CASE action
                      WHEN 'reassign_team' THEN jsonb_build_object('team_id', team)
                      WHEN 'raise_priority' THEN jsonb_build_object(
                          'from', ({LEVELS})[least(raised - 1, 4)],
                          'to', ({LEVELS})[least(raised, 4)])
                      ELSE '{{}}'::jsonb
                  END
        FROM steps
        ORDER BY seq, pos
    ),
    notified AS (
        INSERT INTO outbox (id, tenant_id, event_type, aggregate_type, aggregate_id, payload)
        SELECT gen_random_uuid(), :tenant, 'sla.escalation', 'ticket', ticket_id::text,
               jsonb_build_object('action', action, 'target', target, 'kind', kind,
                                  'policy_id', policy_id, 'ticket_id', ticket_id,
                                  'audience', substr(action, length('notify_') + 1))
        FROM steps
        WHERE action LIKE 'notify\\_%'
        ORDER BY seq, pos
        RETURNING id
    )
    SELECT id FROM notified
    """
)


def escalate(
    session: Session, tenant_id: uuid.UUID, crossings: Sequence[Crossing]
) -> list[uuid.UUID]:
    """Run the escalation rules on the tenant's new crossings (in the order they fell):
    the ids of the outbox events written, to publish after the commit."""
    if not crossings:
        return []
    rows = session.execute(
        ESCALATE,
        {
            "tenant": tenant_id,
            "tickets": [c.ticket_id for c in crossings],
            "targets": [c.target for c in crossings],
            "kinds": [c.kind for c in crossings],
            "policies": [c.policy_id for c in crossings],
        },
    ).scalars()
    return [uuid.UUID(str(event_id)) for event_id in rows]
