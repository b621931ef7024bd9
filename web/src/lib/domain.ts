import type { Role, TicketStatus } from "../api/types";

/**
 * The domain's sets, defined once for the whole web app (the server's are in
 * servicedesk/platform/roles.py and servicedesk/tickets/states.py, and
 * tests/unit/test_domain_sets.py compares them; the API has the last word).
 */

/** Every role, least privileged first: each one may do what the ones before it may. */
export const ROLES: readonly Role[] = ["requester", "agent", "manager", "admin"];

/** The roles that work tickets (everyone but the requester). */
export const STAFF_ROLES: readonly Role[] = ROLES.filter((role) => role !== "requester");

export function isStaff(role: Role | undefined): boolean {
  return role !== undefined && STAFF_ROLES.includes(role);
}

/** Whether the caller holds `permission` (the API's answer on /v1/me: their custom role's
 * permissions, else their built-in role's; servicedesk/platform/permissions.py). */
export function can(me: { permissions?: readonly string[] } | undefined, permission: string): boolean {
  return me?.permissions?.includes(permission) ?? false;
}

/** Whether `role` has at least the rights of `min`. */
export function atLeast(role: Role | undefined, min: Role): boolean {
  return role !== undefined && ROLES.indexOf(role) >= ROLES.indexOf(min);
}

/** Statuses of a ticket someone still works on (the SLA clock may run, it is in the backlog). */
export const ACTIVE_STATUSES: readonly TicketStatus[] = ["new", "open", "in_progress", "pending"];

/** Statuses of a ticket that is done with; the requester may reopen it for a while. */
export const FINISHED_STATUSES: readonly TicketStatus[] = ["resolved", "closed", "cancelled"];

/** A service request waiting for its approval: neither worked on nor finished (the SLA
 * clock is paused); only the approval moves it (servicedesk/approvals). */
export const APPROVAL_STATUSES: readonly TicketStatus[] = ["pending_approval"];

/** The finished statuses that mean an answer was given (not a cancelled request). */
export const RESOLVED_STATUSES: readonly TicketStatus[] = FINISHED_STATUSES.filter((status) => status !== "cancelled");

export function isActive(status: TicketStatus): boolean {
  return ACTIVE_STATUSES.includes(status);
}

export function isFinished(status: TicketStatus): boolean {
  return FINISHED_STATUSES.includes(status);
}
