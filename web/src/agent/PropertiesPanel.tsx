import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState, type FormEvent, type ReactNode } from "react";
import { ApiError, describeError } from "../api/problem";
import type { Level, Ticket, TicketStatus, User } from "../api/types";
import { useMe } from "../auth/AuthProvider";
import { Alert, Button, Card, Field, Input, Select } from "../components/ui";
import { LEVELS, LEVEL_LABELS, statusLabel } from "../lib/format";
import { isStaff } from "../lib/domain";
import { allowedTransitions } from "../lib/transitions";
import { keys, storeTicket, treeLabel, useCategories, useTeams, useTicketTypes } from "../tickets/queries";
import { ImpactUrgency } from "../tickets/ImpactUrgency";
import { isDirty, propertiesOf, saveProperties, type Properties } from "./saveProperties";
import { t } from "../i18n";

function Lock({ id, label, checked, onChange }: { id: string; label: string; checked: boolean; onChange: (v: boolean) => void }) {
  return (
    <div className="flex items-center gap-2">
      <input id={id} type="checkbox" className="h-4 w-4 accent-accent" checked={checked} onChange={(e) => onChange(e.target.checked)} />
      <label htmlFor={id}>{label}</label>
    </div>
  );
}

interface Props {
  ticket: Ticket;
  users: Map<string, User> | undefined;
  /** Someone else saved first (412); the page says so above the reloaded ticket. */
  onConflict: () => void;
}

/** Status, priority, assignment, category, tags and locks; one Save.
 *
 * The form remembers the ticket it was started from (`base`). A newer ticket arriving (a
 * push, a refetch) replaces it only while nothing is edited; otherwise the edits stay and
 * the save carries the old version, so the server answers 412 instead of silently
 * overwriting what someone else just saved. */
export function PropertiesPanel({ ticket, users, onConflict }: Props) {
  const me = useMe();
  const client = useQueryClient();
  const categories = useCategories();
  const teams = useTeams();
  const types = useTicketTypes();
  const [base, setBase] = useState<Ticket>(ticket);
  const [form, setForm] = useState<Properties>(() => propertiesOf(ticket));
  const dirty = isDirty(base, form);
  const behind = ticket.version !== base.version;

  useEffect(() => {
    if (ticket.version !== base.version && !isDirty(base, form)) {
      setBase(ticket);
      setForm(propertiesOf(ticket));
    }
  }, [ticket, base, form]);

  function restart(from: Ticket) {
    setBase(from);
    setForm(propertiesOf(from));
  }
  const [message, setMessage] = useState<ReactNode>(null);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const save = useMutation({
    mutationFn: () => saveProperties(base, form),
    onSuccess: (updated) => {
      restart(updated);
      storeTicket(client, updated);
      void client.invalidateQueries({ queryKey: keys.sla(ticket.id) });
    },
  });

  const set = <K extends keyof Properties>(key: K, value: Properties[K]) => setForm((f) => ({ ...f, [key]: value }));
  // The server says which moves this caller may make; the local mirror is for an older API.
  const statuses: TicketStatus[] = [
    base.status,
    ...(base.allowed_transitions ?? allowedTransitions(base.status, { staff: true, isRequester: false })),
  ].filter((s, i, all) => all.indexOf(s) === i);
  const staff = [...(users?.values() ?? [])].filter((u) => u.active && isStaff(u.role));

  async function submit(event: FormEvent) {
    event.preventDefault();
    setMessage(null);
    setErrors({});
    try {
      await save.mutateAsync();
      setMessage(<Alert tone="success">{t("agent.props.saved")}</Alert>);
    } catch (error) {
      if (error instanceof ApiError && error.status === 412) {
        // Someone else saved first: show theirs, and say so above the ticket.
        onConflict();
        await client.invalidateQueries({ queryKey: keys.ticket(ticket.id) });
        restart(client.getQueryData<Ticket>(keys.ticket(ticket.id)) ?? ticket);
        return;
      }
      if (error instanceof ApiError) setErrors(error.fieldErrors);
      setMessage(<Alert tone="danger">{describeError(error)}</Alert>);
      void client.invalidateQueries({ queryKey: keys.ticket(ticket.id) });
    }
  }

  return (
    <Card as="aside" aria-labelledby="properties-heading">
      <h2 id="properties-heading" className="mb-3 font-semibold">
        {t("agent.props.heading")}
      </h2>
      <form className="space-y-3" onSubmit={submit} noValidate>
        <Field label={t("agent.props.status")} error={errors.to}>
          {(p) => (
            <Select {...p} value={form.status} onChange={(e) => set("status", e.target.value as TicketStatus)}>
              {statuses.map((s) => (
                <option key={s} value={s}>
                  {statusLabel(s, true)}
                </option>
              ))}
            </Select>
          )}
        </Field>
        <Field label={t("agent.props.type")} error={errors.type}>
          {(p) => (
            <Select {...p} value={form.type} onChange={(e) => set("type", e.target.value)}>
              {(types.data ?? [])
                .filter((kind) => !kind.archived || kind.key === base.type)
                .map((kind) => (
                  <option key={kind.key} value={kind.key}>
                    {kind.name}
                  </option>
                ))}
              {types.data?.some((kind) => kind.key === base.type) ? null : <option value={base.type}>{base.type}</option>}
            </Select>
          )}
        </Field>
        <Field label={t("agent.props.priority")} error={errors.priority}>
          {(p) => (
            <Select {...p} value={form.priority} onChange={(e) => set("priority", e.target.value as Level)}>
              {LEVELS.map((l) => (
                <option key={l} value={l}>
                  {LEVEL_LABELS[l]}
                </option>
              ))}
            </Select>
          )}
        </Field>
        <ImpactUrgency
          impact={form.impact}
          urgency={form.urgency}
          errors={errors}
          onChange={({ impact, urgency, priority }) => setForm((f) => ({ ...f, impact, urgency, priority: priority ?? f.priority }))}
        />
        <Field label={t("agent.props.team")} error={errors.team_id}>
          {(p) => (
            <Select {...p} value={form.team_id} onChange={(e) => set("team_id", e.target.value)}>
              <option value="">{t("agent.props.noTeam")}</option>
              {(teams.data ?? []).map((team) => (
                <option key={team.id} value={team.id}>
                  {team.name}
                </option>
              ))}
            </Select>
          )}
        </Field>
        <Field label={t("agent.props.assignee")} error={errors.assignee_id}>
          {(p) => (
            <div className="flex gap-2">
              <Select {...p} value={form.assignee_id} onChange={(e) => set("assignee_id", e.target.value)}>
                <option value="">{t("agent.props.unassigned")}</option>
                {staff.map((u) => (
                  <option key={u.id} value={u.id}>
                    {u.id === me.user.id ? t("agent.props.me", { name: u.name }) : u.name}
                  </option>
                ))}
              </Select>
              {form.assignee_id !== me.user.id ? (
                <Button size="md" onClick={() => set("assignee_id", me.user.id)}>
                  {t("agent.props.assignMe")}
                </Button>
              ) : null}
            </div>
          )}
        </Field>
        <Field label={t("agent.props.category")} error={errors.category_id}>
          {(p) => (
            <Select {...p} value={form.category_id} onChange={(e) => set("category_id", e.target.value)}>
              <option value="" disabled={!!base.category_id}>
                {t("agent.props.noCategory")}
              </option>
              {(categories.data ?? []).map((c) => (
                <option key={c.id} value={c.id}>
                  {treeLabel(c)}
                </option>
              ))}
            </Select>
          )}
        </Field>
        <Field label={t("agent.props.tags")} description={t("agent.props.tagsHelp")} error={errors.tags}>
          {(p) => <Input {...p} value={form.tags} onChange={(e) => set("tags", e.target.value)} />}
        </Field>
        <fieldset className="space-y-1">
          <legend className="mb-1 font-medium">{t("agent.props.locks")}</legend>
          <Lock id="lock-priority" label={t("agent.props.lockPriority")} checked={form.priority_locked} onChange={(v) => set("priority_locked", v)} />
          <Lock id="lock-category" label={t("agent.props.lockCategory")} checked={form.category_locked} onChange={(v) => set("category_locked", v)} />
          <Lock id="lock-assignment" label={t("agent.props.lockAssignment")} checked={form.assignment_locked} onChange={(v) => set("assignment_locked", v)} />
        </fieldset>
        {behind && dirty ? (
          <Alert tone="warning">{t("agent.props.behind")}</Alert>
        ) : null}
        {message}
        <div className="flex gap-2">
          <Button type="submit" variant="primary" busy={save.isPending} disabled={!dirty}>
            {t("agent.props.save")}
          </Button>
          {dirty ? (
            <Button variant="ghost" onClick={() => restart(ticket)}>
              {t("agent.props.discard")}
            </Button>
          ) : null}
        </div>
      </form>
    </Card>
  );
}
