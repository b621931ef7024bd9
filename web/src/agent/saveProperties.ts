import { api, idempotencyKey, ok } from "../api/client";
import type { Level, Ticket, TicketStatus } from "../api/types";

export interface Properties {
  status: TicketStatus;
  priority: Level;
  impact: Level | "";
  urgency: Level | "";
  category_id: string;
  type: string;
  team_id: string;
  assignee_id: string;
  tags: string;
  priority_locked: boolean;
  category_locked: boolean;
  assignment_locked: boolean;
}

export function propertiesOf(ticket: Ticket): Properties {
  return {
    status: ticket.status,
    priority: ticket.priority,
    impact: ticket.impact ?? "",
    urgency: ticket.urgency ?? "",
    category_id: ticket.category_id ?? "",
    type: ticket.type ?? "incident",
    team_id: ticket.team_id ?? "",
    assignee_id: ticket.assignee_id ?? "",
    tags: ticket.tags.join(", "),
    priority_locked: ticket.priority_locked,
    category_locked: ticket.category_locked,
    assignment_locked: ticket.assignment_locked,
  };
}

export function parseTags(text: string): string[] {
  return [...new Set(text.split(/[,\s]+/).map((t) => t.trim().toLowerCase()).filter(Boolean))];
}

/** Which of the three kinds of change the form holds. */
export function diff(ticket: Ticket, form: Properties) {
  const before = propertiesOf(ticket);
  const patch: Record<string, unknown> = {};
  if (form.priority !== before.priority) patch.priority = form.priority;
  if (form.impact !== before.impact) patch.impact = form.impact || null;
  if (form.urgency !== before.urgency) patch.urgency = form.urgency || null;
  if (form.category_id !== before.category_id && form.category_id) patch.category_id = form.category_id;
  if (form.type !== before.type && form.type) patch.type = form.type;
  const tags = parseTags(form.tags);
  if (tags.join(",") !== ticket.tags.join(",")) patch.tags = tags;
  for (const lock of ["priority_locked", "category_locked", "assignment_locked"] as const) {
    if (form[lock] !== before[lock]) patch[lock] = form[lock];
  }
  const assign = form.team_id !== before.team_id || form.assignee_id !== before.assignee_id;
  const status = form.status !== before.status ? form.status : null;
  return { patch, assign, status };
}

export function isDirty(ticket: Ticket, form: Properties): boolean {
  const { patch, assign, status } = diff(ticket, form);
  return Object.keys(patch).length > 0 || assign || status !== null;
}

/**
 * Save in up to three calls, each carrying the version the previous one returned, so our
 * own earlier call is never mistaken for someone else's change. A 412 means someone else
 * saved in between: the caller reloads and says so.
 */
export async function saveProperties(ticket: Ticket, form: Properties): Promise<Ticket> {
  const { patch, assign, status } = diff(ticket, form);
  let current = ticket;
  const path = { ticket_id: ticket.id };
  if (Object.keys(patch).length) {
    current = await ok(api.PATCH("/v1/tickets/{ticket_id}", { params: { path }, body: { ...patch, version: current.version } }));
  }
  if (assign) {
    current = await ok(
      api.POST("/v1/tickets/{ticket_id}/assign", {
        params: { path, header: { "Idempotency-Key": idempotencyKey() } },
        body: { team_id: form.team_id || null, assignee_id: form.assignee_id || null, version: current.version },
      }),
    );
  }
  if (status) {
    current = await ok(
      api.POST("/v1/tickets/{ticket_id}/transitions", {
        params: { path, header: { "Idempotency-Key": idempotencyKey() } },
        body: { to: status, version: current.version },
      }),
    );
  }
  return current;
}
