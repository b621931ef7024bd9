import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useId, useState, type FormEvent } from "react";
import { api, idempotencyKey, ok } from "../api/client";
import { ApiError, describeError } from "../api/problem";
import type { Participant, Ticket, User } from "../api/types";
import { Alert, Badge, Button, Field, Input, Select, Spinner } from "../components/ui";
import { formatDateTime, formatRelative } from "../lib/format";
import { keys, useParticipants } from "../tickets/queries";
import { LookupError, collabKeys, findPerson, useTicketInvitations, type TicketInvitation } from "./collab";
import { t, type MessageKey } from "../i18n";
import { Avatar } from "../components/Avatar";

const ROLE_LABELS: Record<Participant["role"], MessageKey> = {
  requester: "agent.people.role.requester",
  assignee: "agent.people.role.assignee",
  cc: "agent.people.role.cc",
  participant: "agent.people.role.participant",
};

const INVITATION_STATES: Record<TicketInvitation["status"], MessageKey> = {
  pending: "agent.people.invitation.pending",
  accepted: "agent.people.invitation.accepted",
  declined: "agent.people.invitation.declined",
  cancelled: "agent.people.invitation.cancelled",
};

const INVITATION_TONES = { pending: "warning", accepted: "success", declined: "neutral", cancelled: "neutral" } as const;

type Kind = "cc" | "participant";

function nameOf(users: Map<string, User> | undefined, id: string): string {
  const user = users?.get(id);
  return user ? user.name : t("agent.people.someone");
}

function useRefresh(ticketId: string) {
  const client = useQueryClient();
  return () => {
    void client.invalidateQueries({ queryKey: keys.participants(ticketId) });
    void client.invalidateQueries({ queryKey: collabKeys.invitations(ticketId) });
    void client.invalidateQueries({ queryKey: keys.events(ticketId) });
  };
}

function ParticipantRow({ ticketId, p, users }: { ticketId: string; p: Participant; users: Map<string, User> | undefined }) {
  const refresh = useRefresh(ticketId);
  const remove = useMutation({
    mutationFn: () =>
      ok(api.DELETE("/v1/tickets/{ticket_id}/participants/{user_id}", { params: { path: { ticket_id: ticketId, user_id: p.user_id } } })),
    onSettled: refresh,
  });
  const name = p.name || nameOf(users, p.user_id);
  const removable = p.role === "cc" || p.role === "participant";
  return (
    <li className="flex flex-wrap items-center justify-between gap-2 py-1.5" data-testid="participant">
      <span className="min-w-0">
        <span className="inline-flex items-center gap-1.5 font-medium">
          <Avatar name={name} url={p.avatar_url ?? users?.get(p.user_id)?.avatar_url} />
          {name}
        </span>{" "}
        <span className="text-fg-muted">{t("agent.people.role", { role: t(ROLE_LABELS[p.role]) })}</span>
        {p.can_edit && removable ? <span className="text-fg-muted">{t("agent.people.canEdit")}</span> : null}
      </span>
      {removable ? (
        <Button size="sm" variant="ghost" busy={remove.isPending} onClick={() => remove.mutate()} aria-label={t("agent.people.removeOf", { name })}>
          {t("agent.people.remove")}
        </Button>
      ) : null}
      {remove.isError ? <span className="w-full text-danger-text">{describeError(remove.error)}</span> : null}
    </li>
  );
}

function InvitationRow({ ticketId, invitation, users }: { ticketId: string; invitation: TicketInvitation; users: Map<string, User> | undefined }) {
  const refresh = useRefresh(ticketId);
  const cancel = useMutation({
    mutationFn: () =>
      ok(
        api.POST("/v1/tickets/{ticket_id}/invitations/{invitation_id}/{action}", {
          params: {
            path: { ticket_id: ticketId, invitation_id: invitation.id, action: "cancel" },
            header: { "Idempotency-Key": idempotencyKey() },
          },
        }),
      ),
    onSettled: refresh,
  });
  const name = nameOf(users, invitation.user_id);
  return (
    <li className="flex flex-wrap items-center justify-between gap-2 py-1.5" data-testid="invitation">
      <span className="min-w-0">
        <span className="font-medium">{name}</span>{" "}
        <Badge tone={INVITATION_TONES[invitation.status]}>{t(INVITATION_STATES[invitation.status])}</Badge>{" "}
        <time className="text-fg-muted" dateTime={invitation.created_at} title={formatDateTime(invitation.created_at)}>
          {formatRelative(invitation.created_at)}
        </time>
      </span>
      {invitation.status === "pending" ? (
        <Button size="sm" variant="ghost" busy={cancel.isPending} onClick={() => cancel.mutate()} aria-label={t("agent.people.cancelOf", { name })}>
          {t("agent.people.cancel")}
        </Button>
      ) : null}
      {cancel.isError ? <span className="w-full text-danger-text">{describeError(cancel.error)}</span> : null}
    </li>
  );
}

/** Add someone directly (staff may) or invite them (they accept or decline). */
function AddPerson({ ticketId, users }: { ticketId: string; users: Map<string, User> | undefined }) {
  const refresh = useRefresh(ticketId);
  const listId = useId();
  const [person, setPerson] = useState("");
  const [kind, setKind] = useState<Kind>("cc");
  const [canEdit, setCanEdit] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const [message, setMessage] = useState<{ tone: "success" | "danger"; text: string } | null>(null);
  const [busy, setBusy] = useState<"add" | "invite" | null>(null);

  async function run(action: "add" | "invite") {
    setError(undefined);
    setMessage(null);
    setBusy(action);
    try {
      const user = await findPerson(person, users?.values());
      const path = { ticket_id: ticketId };
      const header = { "Idempotency-Key": idempotencyKey() };
      if (action === "add") {
        await ok(
          api.POST("/v1/tickets/{ticket_id}/participants", {
            params: { path, header },
            body: { user_id: user.id, kind, can_comment: true, can_edit: canEdit },
          }),
        );
        setMessage({ tone: "success", text: t(kind === "cc" ? "agent.people.addedCc" : "agent.people.addedParticipant", { name: user.name }) });
      } else {
        await ok(
          api.POST("/v1/tickets/{ticket_id}/invitations", {
            params: { path, header },
            body: { user_id: user.id, can_comment: true, can_edit: canEdit },
          }),
        );
        setMessage({ tone: "success", text: t("agent.people.invited", { name: user.name }) });
      }
      setPerson("");
      refresh();
    } catch (e) {
      if (e instanceof LookupError) setError(e.message);
      else if (e instanceof ApiError && e.fieldErrors.user_id) setError(e.fieldErrors.user_id);
      else setMessage({ tone: "danger", text: describeError(e) });
    } finally {
      setBusy(null);
    }
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    void run("add");
  }

  const people = [...(users?.values() ?? [])].filter((u) => u.active);
  return (
    <form onSubmit={submit} className="space-y-3 border-t border-border pt-3" noValidate aria-labelledby={`${listId}-heading`}>
      <h3 id={`${listId}-heading`} className="font-semibold">
        {t("agent.people.add")}
      </h3>
      <Field label={t("agent.people.person")} error={error}>
        {(p) => (
          <Input {...p} list={listId} autoComplete="off" value={person} onChange={(e) => setPerson(e.target.value)} placeholder={t("agent.people.personPlaceholder")} />
        )}
      </Field>
      <datalist id={listId}>
        {people.map((u) => (
          <option key={u.id} value={u.email}>
            {u.name}
          </option>
        ))}
      </datalist>
      <Field label={t("agent.people.addAs")}>
        {(p) => (
          <Select {...p} value={kind} onChange={(e) => setKind(e.target.value as Kind)}>
            <option value="cc">{t("agent.people.asCc")}</option>
            <option value="participant">{t("agent.people.asParticipant")}</option>
          </Select>
        )}
      </Field>
      <div className="flex items-center gap-2">
        <input id={`${listId}-edit`} type="checkbox" className="h-4 w-4 accent-accent" checked={canEdit} onChange={(e) => setCanEdit(e.target.checked)} />
        <label htmlFor={`${listId}-edit`}>{t("agent.people.mayEdit")}</label>
      </div>
      {message ? <Alert tone={message.tone}>{message.text}</Alert> : null}
      <div className="flex flex-wrap gap-2">
        <Button type="submit" variant="primary" size="sm" busy={busy === "add"} disabled={busy !== null}>
          {t("agent.people.addButton")}
        </Button>
        <Button size="sm" busy={busy === "invite"} disabled={busy !== null} onClick={() => void run("invite")}>
          {t("agent.people.invite")}
        </Button>
      </div>
      <p className="text-fg-muted">{t("agent.people.inviteHelp")}</p>
    </form>
  );
}

/** The people on a ticket, pending invitations, and adding or inviting more. */
export function People({ ticket, users }: { ticket: Ticket; users: Map<string, User> | undefined }) {
  const participants = useParticipants(ticket.id);
  const invitations = useTicketInvitations(ticket.id);
  const open = (invitations.data ?? []).filter((i) => i.status === "pending" || i.status === "declined");
  return (
    <section aria-labelledby="people-heading" className="rounded-lg border border-border bg-surface p-4 shadow-card" data-testid="people">
      <h2 id="people-heading" className="mb-2 font-semibold">
        {t("agent.people.heading")}
      </h2>
      {participants.isPending ? <Spinner label={t("agent.people.loading")} /> : null}
      {participants.isError ? <Alert tone="danger">{describeError(participants.error)}</Alert> : null}
      {participants.data ? (
        <ul aria-label={t("agent.people.label")} className="divide-y divide-border">
          {participants.data.map((p) => (
            <ParticipantRow key={`${p.user_id}-${p.role}`} ticketId={ticket.id} p={p} users={users} />
          ))}
        </ul>
      ) : null}
      {open.length ? (
        <>
          <h3 className="mt-3 font-semibold">{t("agent.people.invitations")}</h3>
          <ul aria-label={t("agent.people.invitations")} className="divide-y divide-border">
            {open.map((i) => (
              <InvitationRow key={i.id} ticketId={ticket.id} invitation={i} users={users} />
            ))}
          </ul>
        </>
      ) : null}
      <div className="mt-3">
        <AddPerson ticketId={ticket.id} users={users} />
      </div>
    </section>
  );
}
