import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState, type FormEvent } from "react";
import { api, etag, idempotencyKey, ok } from "../api/client";
import { ApiError, describeError } from "../api/problem";
import type { Role } from "../api/types";
import { useMe } from "../auth/AuthProvider";
import { labelled, t } from "../i18n/admin";
import { Alert, Badge, Button, Card, EmptyState, Field, Input, PageHeader, Select, Spinner } from "../components/ui";
import { can, ROLES } from "../lib/domain";
import { formatDateTime, formatRelative } from "../lib/format";
import { adminKeys, invalidateShared } from "./api";
import { ConfirmButton, ScrollArea } from "./fields";
import { type Errors, FailureAlert } from "./forms";
import { useRoles } from "./RolesPage";
import type { Invitation, RoleRow, UserRow } from "./types";

const ROLE_LABEL: Record<Role, string> = labelled({
  requester: "admin.users.employeeRequester",
  agent: "admin.users.agent",
  manager: "admin.users.manager",
  admin: "admin.users.admin",
});
const ROLE_OPTIONS = ROLES.map((value) => ({ value, label: ROLE_LABEL[value] }));

function InviteForm() {
  const client = useQueryClient();
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<Role>("requester");
  const [errors, setErrors] = useState<Errors>({});
  const [failure, setFailure] = useState<unknown>(null);
  const [sent, setSent] = useState<string | null>(null);
  const [key, setKey] = useState<{ key: string; body: string } | null>(null);
  const invite = useMutation({
    mutationFn: (args: { body: { email: string; role: Role }; key: string }) =>
      // The route declares no response model (an API gap): it answers an InvitationPublic.
      ok(api.POST("/v1/users/invitations", { body: args.body, params: { header: { "Idempotency-Key": args.key } } })) as Promise<Invitation>,
  });

  async function submit(event: FormEvent) {
    event.preventDefault();
    setSent(null);
    setFailure(null);
    const body = { email: email.trim(), role };
    if (!body.email) {
      setErrors({ email: t("fields.required") });
      return;
    }
    setErrors({});
    const serialized = JSON.stringify(body);
    const attempt = key?.body === serialized ? key : { key: idempotencyKey(), body: serialized };
    setKey(attempt);
    try {
      const invitation = await invite.mutateAsync({ body, key: attempt.key });
      setSent(invitation.email);
      setEmail("");
      setKey(null);
      void client.invalidateQueries({ queryKey: adminKeys.invitations });
    } catch (error) {
      if (error instanceof ApiError) setErrors(error.fieldErrors);
      setFailure(error);
    }
  }

  return (
    <Card aria-labelledby="invite-heading">
      <h2 id="invite-heading" className="mb-3 font-semibold">
        {t("admin.users.inviteSomeone")}
      </h2>
      <form onSubmit={submit} noValidate className="grid *:min-w-0 gap-3 sm:grid-cols-[1fr_14rem_auto] sm:items-start">
        <Field label={t("admin.users.eMail")} error={errors.email} required>
          {(p) => <Input {...p} type="email" autoComplete="off" maxLength={254} value={email} onChange={(e) => setEmail(e.target.value)} />}
        </Field>
        <Field label={t("admin.users.role")} error={errors.role}>
          {(p) => (
            <Select {...p} value={role} onChange={(e) => setRole(e.target.value as Role)}>
              {ROLE_OPTIONS.map((r) => (
                <option key={r.value} value={r.value}>
                  {r.label}
                </option>
              ))}
            </Select>
          )}
        </Field>
        <Button type="submit" variant="primary" busy={invite.isPending} className="sm:mt-6">
          {t("admin.users.sendInvitation")}
        </Button>
      </form>
      <div className="mt-3" aria-live="polite">
        {failure ? <FailureAlert error={failure} errors={errors} placed={["email", "role"]} /> : null}
        {sent ? <Alert tone="success">{t("admin.users.invitationSentToSent", { sent })}</Alert> : null}
      </div>
    </Card>
  );
}

function invitationState(invitation: Invitation): { tone: "success" | "neutral" | "info" | "warning"; text: string } {
  if (invitation.accepted_at) return { tone: "success", text: t("admin.users.accepted") };
  if (invitation.revoked_at) return { tone: "neutral", text: t("admin.users.revoked") };
  if (new Date(invitation.expires_at).getTime() < Date.now()) return { tone: "warning", text: t("admin.users.expired") };
  return { tone: "info", text: t("admin.users.pending") };
}

function Invitations() {
  const client = useQueryClient();
  const invitations = useQuery({
    queryKey: adminKeys.invitations,
    queryFn: ({ signal }) => ok(api.GET("/v1/users/invitations", { params: { query: { limit: 50 } }, signal })),
  });
  const revoke = useMutation({
    mutationFn: (id: string) => ok(api.DELETE("/v1/users/invitations/{invitation_id}", { params: { path: { invitation_id: id } } })),
    onSettled: () => client.invalidateQueries({ queryKey: adminKeys.invitations }),
  });
  return (
    <Card aria-labelledby="invitations-heading">
      <h2 id="invitations-heading" className="mb-3 font-semibold">
        {t("admin.users.invitations")}
      </h2>
      {invitations.isPending ? <Spinner label={t("admin.users.loadingInvitations")} /> : null}
      {invitations.isError ? <FailureAlert error={invitations.error} /> : null}
      {revoke.isError ? <FailureAlert error={revoke.error} /> : null}
      {invitations.data && !invitations.data.items.length ? <p className="text-fg-muted">{t("admin.users.noInvitationsYet")}</p> : null}
      {invitations.data?.items.length ? (
        <ScrollArea label={t("admin.users.invitationsTable")}>
          <table className="w-full text-left">
            <caption className="sr-only">{t("admin.users.invitationsNewestFirst")}</caption>
            <thead className="border-b border-border text-fg-muted">
              <tr>
                <th scope="col" className="px-2 py-2 font-medium">{t("admin.users.eMail")}</th>
                <th scope="col" className="px-2 py-2 font-medium">{t("admin.users.role")}</th>
                <th scope="col" className="px-2 py-2 font-medium">{t("admin.users.sent")}</th>
                <th scope="col" className="px-2 py-2 font-medium">{t("admin.users.state")}</th>
                <th scope="col" className="px-2 py-2 font-medium"><span className="sr-only">{t("admin.users.actions")}</span></th>
              </tr>
            </thead>
            <tbody>
              {invitations.data.items.map((inv) => {
                const state = invitationState(inv);
                return (
                  <tr key={inv.id} className="border-b border-border last:border-0">
                    <td className="min-w-48 break-all px-2 py-2">{inv.email}</td>
                    <td className="px-2 py-2">{ROLE_LABEL[inv.role]}</td>
                    <td className="whitespace-nowrap px-2 py-2 text-fg-muted" title={formatDateTime(inv.created_at)}>
                      {formatRelative(inv.created_at)}
                    </td>
                    <td className="px-2 py-2">
                      <Badge tone={state.tone}>{state.text}</Badge>
                    </td>
                    <td className="px-2 py-2 text-right">
                      {state.text === t("admin.users.pending") ? (
                        <ConfirmButton confirmLabel={t("admin.users.revokeEmail", { email: inv.email })} busy={revoke.isPending && revoke.variables === inv.id} onConfirm={() => revoke.mutate(inv.id)}>
                          {t("admin.users.revoke")}
                        </ConfirmButton>
                      ) : null}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </ScrollArea>
      ) : null}
    </Card>
  );
}

/** A member's custom role: exactly its permissions; none: their built-in role's. */
function CustomRolePicker({ user, roles, busy, onSave }: { user: UserRow; roles: RoleRow[]; busy: boolean; onSave: (id: string | null, name: string) => void }) {
  const current = user.custom_role_id ?? "";
  const [choice, setChoice] = useState<string>(current);
  useEffect(() => setChoice(current), [current]);
  const id = `custom-role-${user.id}`;
  const name = roles.find((r) => r.id === choice)?.name ?? t("admin.users.noCustomRole");
  return (
    <div className="mt-2 flex flex-wrap items-center gap-2">
      <label htmlFor={id} className="sr-only">{t("admin.users.customRoleOfName", { name: user.name })}</label>
      <div className="w-52 max-w-full">
        <Select id={id} value={choice} onChange={(e) => setChoice(e.target.value)}>
          <option value="">{t("admin.users.noCustomRole")}</option>
          {roles.map((r) => (
            <option key={r.id} value={r.id ?? ""}>
              {r.name}
            </option>
          ))}
        </Select>
      </div>
      {choice !== current ? (
        <Button size="sm" variant="primary" busy={busy} onClick={() => onSave(choice || null, name)}>
          {t("admin.users.saveCustomRole")}
        </Button>
      ) : null}
    </div>
  );
}

/** One person: their role (saved with the version read) and deactivation. */
function UserLine({ user, isMe, customRoles, onConflict }: { user: UserRow; isMe: boolean; customRoles: RoleRow[] | null; onConflict: () => Promise<void> }) {
  const client = useQueryClient();
  // The role picked but not saved yet (kept through a failed save and a reload).
  const [choice, setChoice] = useState<Role | null>(null);
  const [message, setMessage] = useState<{ tone: "danger" | "warning" | "success"; text: string } | null>(null);
  const [pending, setPending] = useState(false);
  const role = choice ?? user.role;
  const dirty = role !== user.role;
  const setRole = (value: Role) => setChoice(value === user.role ? null : value);

  async function patch(body: { role?: Role; active?: boolean; custom_role_id?: string | null }, done: string) {
    setMessage(null);
    setPending(true);
    try {
      await ok(
        api.PATCH("/v1/users/{user_id}", {
          params: { path: { user_id: user.id }, header: { "If-Match": etag(user.version) } },
          body,
        }),
      );
      invalidateShared(client, "users");
      await client.invalidateQueries({ queryKey: ["admin", "users"] });
      if (body.role) setChoice(null);
      setMessage({ tone: "success", text: done });
    } catch (error) {
      if (error instanceof ApiError && error.status === 412) {
        setMessage({ tone: "warning", text: t("admin.users.changedBySomeoneElse") });
        await onConflict();
      } else {
        setMessage({ tone: "danger", text: describeError(error) });
      }
    } finally {
      setPending(false);
    }
  }

  /** An action on the person whose answer is a sentence for the row's live region. */
  async function act(call: () => Promise<string>) {
    setMessage(null);
    setPending(true);
    try {
      setMessage({ tone: "success", text: await call() });
    } catch (error) {
      setMessage({ tone: "danger", text: describeError(error) });
    } finally {
      setPending(false);
    }
  }
  const revokeSessions = () =>
    act(async () => {
      const done = await ok(api.POST("/v1/users/{user_id}/sessions/revoke", { params: { path: { user_id: user.id } } }));
      return t("users.sessionsRevoked", { name: user.name, count: String(done.revoked) });
    });
  const resetMfa = () =>
    act(async () => {
      await ok(api.DELETE("/v1/users/{user_id}/mfa", { params: { path: { user_id: user.id } } }));
      return t("mfa.resetDone", { name: user.name });
    });

  const roleId = `role-${user.id}`;
  return (
    <tr className="border-b border-border align-top last:border-0">
      <td className="min-w-44 px-2 py-2">
        <span className="font-medium">{user.name}</span>
        {isMe ? <span className="text-fg-muted">{" "}{t("admin.users.you")}</span> : null}
        <span className="block break-all text-fg-muted">{user.email}</span>
      </td>
      <td className="px-2 py-2">
        <label htmlFor={roleId} className="sr-only">{t("admin.users.roleOfName", { name: user.name })}</label>
        <div className="flex flex-wrap items-center gap-2">
          <div className="w-52 max-w-full">
            <Select id={roleId} value={role} disabled={isMe} onChange={(e) => setRole(e.target.value as Role)}>
              {ROLE_OPTIONS.map((r) => (
                <option key={r.value} value={r.value}>
                  {r.label}
                </option>
              ))}
            </Select>
          </div>
          {dirty ? (
            <Button size="sm" variant="primary" busy={pending} onClick={() => void patch({ role }, t("admin.users.nameIsNowValue", { name: user.name, value: ROLE_LABEL[role] }))}>
              {t("admin.users.saveRole")}
            </Button>
          ) : null}
        </div>
        {customRoles ? (
          <CustomRolePicker
            user={user}
            roles={customRoles}
            busy={pending}
            onSave={(id, name) => void patch({ custom_role_id: id }, t("admin.users.nameNowHasValue", { name: user.name, value: name }))}
          />
        ) : null}
      </td>
      <td className="px-2 py-2">
        {user.active ? <Badge tone="success">{t("admin.users.active")}</Badge> : <Badge tone="neutral">{t("admin.users.deactivated")}</Badge>}
      </td>
      <td className="px-2 py-2">
        {isMe ? null : user.active ? (
          <ConfirmButton confirmLabel={t("admin.users.deactivateName", { name: user.name })} busy={pending && !dirty} onConfirm={() => void patch({ active: false }, t("admin.users.nameWasDeactivated", { name: user.name }))}>
            {t("admin.users.deactivate")}
          </ConfirmButton>
        ) : (
          <Button size="sm" busy={pending && !dirty} onClick={() => void patch({ active: true }, t("admin.users.nameWasReactivated", { name: user.name }))}>
            {t("admin.users.reactivate")}
          </Button>
        )}
        {user.active ? (
          <div className="mt-2 flex flex-wrap gap-2">
            <ConfirmButton confirmLabel={t("users.revokeSessionsConfirm", { name: user.name })} busy={pending && !dirty} onConfirm={() => void revokeSessions()}>
              {t("users.revokeSessions")}
            </ConfirmButton>
            {isMe ? null : (
              <ConfirmButton confirmLabel={t("mfa.resetFor", { name: user.name })} busy={pending && !dirty} onConfirm={() => void resetMfa()}>
                {t("mfa.reset")}
              </ConfirmButton>
            )}
          </div>
        ) : null}
        <div aria-live="polite">
          {message ? (
            <p className={message.tone === "success" ? "mt-1 text-success-text" : message.tone === "warning" ? "mt-1 text-warning-text" : "mt-1 text-danger-text"}>
              {message.text}
            </p>
          ) : null}
        </div>
      </td>
    </tr>
  );
}

function People() {
  const me = useMe();
  const client = useQueryClient();
  // The custom roles, for those who may see them (admin:roles): the picker on each row.
  const roles = useRoles(can(me, "admin:roles"));
  const customRoles = roles.data ? roles.data.filter((r) => r.id) : null;
  const [text, setText] = useState("");
  const [filters, setFilters] = useState<{ q: string; role: Role | ""; active: "" | "true" | "false" }>({ q: "", role: "", active: "" });
  useEffect(() => {
    const id = window.setTimeout(() => setFilters((f) => (f.q === text.trim() ? f : { ...f, q: text.trim() })), 300);
    return () => window.clearTimeout(id);
  }, [text]);
  const users = useInfiniteQuery({
    queryKey: adminKeys.users(filters),
    queryFn: ({ pageParam, signal }) =>
      ok(
        api.GET("/v1/users", {
          params: {
            query: {
              limit: 50,
              cursor: pageParam,
              q: filters.q || null,
              role: filters.role || null,
              active: filters.active === "" ? null : filters.active === "true",
            },
          },
          signal,
        }),
      ),
    initialPageParam: null as string | null,
    getNextPageParam: (page) => page.next_cursor ?? null,
  });
  const rows = users.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <Card aria-labelledby="people-heading">
      <h2 id="people-heading" className="mb-3 font-semibold">
        {t("admin.users.people")}
      </h2>
      <div className="mb-3 grid gap-3 sm:grid-cols-3" role="search" aria-label={t("admin.users.filterPeople")}>
        <Field label={t("admin.users.search")}>
          {(p) => <Input {...p} type="search" placeholder={t("admin.users.nameOrEMail")} value={text} onChange={(e) => setText(e.target.value)} />}
        </Field>
        <Field label={t("admin.users.role")}>
          {(p) => (
            <Select {...p} value={filters.role} onChange={(e) => setFilters((f) => ({ ...f, role: e.target.value as Role | "" }))}>
              <option value="">{t("admin.users.anyRole")}</option>
              {ROLE_OPTIONS.map((r) => (
                <option key={r.value} value={r.value}>
                  {r.label}
                </option>
              ))}
            </Select>
          )}
        </Field>
        <Field label={t("admin.users.state")}>
          {(p) => (
            <Select {...p} value={filters.active} onChange={(e) => setFilters((f) => ({ ...f, active: e.target.value as "" | "true" | "false" }))}>
              <option value="">{t("admin.users.activeAndDeactivated")}</option>
              <option value="true">{t("admin.users.active")}</option>
              <option value="false">{t("admin.users.deactivated")}</option>
            </Select>
          )}
        </Field>
      </div>
      {users.isPending ? <Spinner label={t("admin.users.loadingPeople")} /> : null}
      {users.isError ? <FailureAlert error={users.error} /> : null}
      {users.isSuccess && !rows.length ? <EmptyState title={t("admin.users.nobodyMatches")} /> : null}
      {rows.length ? (
        <ScrollArea label={t("admin.users.peopleTable")}>
          <table className="w-full text-left">
            <caption className="sr-only">{t("admin.users.peopleInThisOrganisation")}</caption>
            <thead className="border-b border-border text-fg-muted">
              <tr>
                <th scope="col" className="px-2 py-2 font-medium">{t("admin.users.person")}</th>
                <th scope="col" className="px-2 py-2 font-medium">{t("admin.users.role")}</th>
                <th scope="col" className="px-2 py-2 font-medium">{t("admin.users.state")}</th>
                <th scope="col" className="px-2 py-2 font-medium"><span className="sr-only">{t("admin.users.actions")}</span></th>
              </tr>
            </thead>
            <tbody data-testid="user-rows">
              {rows.map((u) => (
                <UserLine
                  key={u.id}
                  user={u}
                  isMe={u.id === me.user.id}
                  customRoles={customRoles}
                  onConflict={() => client.invalidateQueries({ queryKey: ["admin", "users"] })}
                />
              ))}
            </tbody>
          </table>
        </ScrollArea>
      ) : null}
      {users.hasNextPage ? (
        <div className="mt-3 text-center">
          <Button onClick={() => void users.fetchNextPage()} busy={users.isFetchingNextPage}>
            {t("admin.users.loadMore")}
          </Button>
        </div>
      ) : null}
    </Card>
  );
}

export default function UsersPage() {
  return (
    <>
      <PageHeader title={t("admin.users.users")}>{t("admin.users.invitePeopleChangeTheir")}</PageHeader>
      <div className="space-y-6">
        <InviteForm />
        <People />
        <Invitations />
      </div>
    </>
  );
}
