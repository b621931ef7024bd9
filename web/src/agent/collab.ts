/** Who takes part in a ticket and how tickets relate: queries, and the look-ups that turn
 * what a person types (an e-mail, a ticket number) into the ids the API takes. */
import { useQuery } from "@tanstack/react-query";
import { api, ok } from "../api/client";
import type { components } from "../api/schema";
import type { Ticket, User } from "../api/types";
import { keys } from "../tickets/queries";
import { t, type MessageKey } from "../i18n";

export type Link = components["schemas"]["LinkPublic"];
export type LinkKind = components["schemas"]["LinkCreate"]["kind"];
export type TicketInvitation = components["schemas"]["TicketInvitationPublic"];

export const collabKeys = {
  links: (id: string) => [...keys.ticket(id), "links"] as const,
  invitations: (id: string) => [...keys.ticket(id), "invitations"] as const,
};

export function useLinks(ticketId: string) {
  return useQuery({
    queryKey: collabKeys.links(ticketId),
    queryFn: ({ signal }) => ok(api.GET("/v1/tickets/{ticket_id}/links", { params: { path: { ticket_id: ticketId } }, signal })),
  });
}

export function useTicketInvitations(ticketId: string) {
  return useQuery({
    queryKey: collabKeys.invitations(ticketId),
    queryFn: ({ signal }) =>
      ok(api.GET("/v1/tickets/{ticket_id}/invitations", { params: { path: { ticket_id: ticketId } }, signal })),
  });
}

/** A look-up that found nothing usable; `message` goes next to the field. */
export class LookupError extends Error {}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The ticket a person means by its number (as shown, e.g. TKT-2025-000042) or its id,
 * among the tickets they may see. */
export async function findTicket(text: string): Promise<Ticket> {
  const wanted = text.trim();
  if (!wanted) throw new LookupError(t("agent.find.enterNumber"));
  if (UUID.test(wanted)) {
    try {
      return await ok(api.GET("/v1/tickets/{ticket_id}", { params: { path: { ticket_id: wanted } } }));
    } catch {
      throw new LookupError(t("agent.find.noId"));
    }
  }
  const page = await ok(api.GET("/v1/tickets", { params: { query: { q: wanted, limit: 10 } } }));
  const found = page.items.find((t) => t.number.toLowerCase() === wanted.toLowerCase());
  if (!found) throw new LookupError(t("agent.find.noNumber"));
  return found;
}

/** The active member a person means by their e-mail address (or a name that only one
 * member has). Looks in the names already loaded first, then asks the API. */
export async function findPerson(text: string, known: Iterable<User> = []): Promise<User> {
  const wanted = text.trim();
  if (!wanted) throw new LookupError(t("agent.find.enterPerson"));
  const lower = wanted.toLowerCase();
  const exact = (users: Iterable<User>) => [...users].find((u) => u.active && u.email.toLowerCase() === lower);
  const local = exact(known);
  if (local) return local;
  const page = await ok(api.GET("/v1/users", { params: { query: { q: wanted, active: true, limit: 10 } } }));
  const remote = exact(page.items);
  if (remote) return remote;
  if (!wanted.includes("@")) {
    const named = page.items.filter((u) => u.active && u.name.toLowerCase() === lower);
    const only = named.length === 1 ? named[0] : page.items.length === 1 ? page.items[0] : undefined;
    if (only) return only;
    if (page.items.length > 1) throw new LookupError(t("agent.find.several"));
  }
  throw new LookupError(t("agent.find.noPerson"));
}

/** How a link reads from this ticket's side. */
export function linkLabel(link: Link, ticketId: string): string {
  const outgoing = link.source_id === ticketId;
  switch (link.kind) {
    case "relates_to":
      return t("agent.link.relatesTo");
    case "duplicate_of":
      return t(outgoing ? "agent.link.duplicateOf" : "agent.link.duplicatedBy");
    case "problem_of":
      return t(outgoing ? "agent.link.problemCausing" : "agent.link.incidentOfProblem");
    case "parent_of":
      return t(outgoing ? "agent.link.parentOf" : "agent.link.childOf");
  }
}

export function otherEnd(link: Link, ticketId: string): string {
  return link.source_id === ticketId ? link.target_id : link.source_id;
}

export const LINK_KINDS: { value: LinkKind; label: MessageKey }[] = [
  { value: "relates_to", label: "agent.link.relatesTo" },
  { value: "duplicate_of", label: "agent.link.duplicateOf" },
  { value: "parent_of", label: "agent.link.parentOf" },
  { value: "child_of", label: "agent.link.childOf" },
  { value: "problem_of", label: "agent.link.kind.problemOf" },
  { value: "incident_of", label: "agent.link.kind.incidentOf" },
];
