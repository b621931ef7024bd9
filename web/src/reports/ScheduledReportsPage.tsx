/**
 * Scheduled reports (managers and admins): subscribe a report (the one on the reports page:
 * "Schedule this report" brings its parameters here), its frequency, hour and time zone, the
 * staff who receive it and the format; the list of subscriptions to edit, pause or delete.
 */
import { useQueryClient } from "@tanstack/react-query";
import { useMemo, useRef, useState, type FormEvent } from "react";
import { Link, useSearchParams } from "react-router";
import { idempotencyKey } from "../api/client";
import { ApiError } from "../api/problem";
import { FailureAlert } from "../admin/forms";
import { ScrollArea } from "../admin/fields";
import { useMe } from "../auth/AuthProvider";
import { ConfirmDialog } from "../components/ConfirmDialog";
import { Alert, Badge, Button, Card, EmptyState, Field, Input, PageHeader, Select, Spinner } from "../components/ui";
import { STAFF_ROLES } from "../lib/domain";
import { formatDateTime, weekdayNames } from "../lib/format";
import { useUsers } from "../tickets/queries";
import { createSubscription, deleteSubscription, reportKeys, storeSubscription, updateSubscription, useCatalogue, useSubscriptions } from "./api";
import { describeSchedule, fromSubscription, scheduleParams, toInput, validateSchedule, type ScheduleForm } from "./schedule";
import { useListing } from "./listing";
import type { Subscription } from "./types";
import { browserTimeZone, isTimeZone } from "./url";
import { t } from "../i18n/reports";

export default function ScheduledReportsPage() {
  const [params, setParams] = useSearchParams();
  const subscriptions = useListing(useSubscriptions(), reportKeys.subscriptions, t("reports.scheduledReports.scheduledReports2"));
  const catalogue = useCatalogue();
  const me = useMe();
  const [editing, setEditing] = useState<Subscription | null>(null);
  const titles = Object.fromEntries((catalogue.data ?? []).map((r) => [r.name, r.title]));
  const fromReport = params.get("report");
  const showForm = editing !== null || fromReport !== null;
  const initial: ScheduleForm = editing
    ? fromSubscription(editing)
    : {
        report: fromReport ?? catalogue.data?.[0]?.name ?? "",
        params: scheduleParams(params),
        format: "pdf",
        frequency: "weekly",
        hour: 8,
        weekday: 0,
        monthday: 1,
        tz: params.get("tz") ?? browserTimeZone(),
        recipients: [me.user.id],
      };
  const close = () => {
    setEditing(null);
    setParams(new URLSearchParams(), { replace: true });
  };
  return (
    <>
      <PageHeader
        title={t("reports.scheduledReports.scheduledReports")}
        actions={
          showForm ? null : (
            <Button variant="primary" onClick={() => setParams(new URLSearchParams({ report: catalogue.data?.[0]?.name ?? "volume" }), { replace: true })}>
              {t("reports.scheduledReports.newSchedule")}
            </Button>
          )
        }
      >
        {t("reports.scheduledReports.reportsDeliveredByE")}{" "}
        <Link to="/reports" className="text-accent-text underline">
          {t("reports.scheduledReports.backToTheReports")}
        </Link>
      </PageHeader>
      {showForm && catalogue.data ? (
        <ScheduleEditor key={editing?.id ?? `new-${fromReport}`} initial={initial} editing={editing} reports={catalogue.data.map((r) => ({ name: r.name, title: r.title }))} onDone={close} />
      ) : null}
      {subscriptions.status}
      {subscriptions.empty && !showForm ? (
        <EmptyState title={t("reports.scheduledReports.noScheduledReports")}>{t("reports.scheduledReports.openAReportAnd")}</EmptyState>
      ) : null}
      {subscriptions.items.length ? (
        <ScrollArea label={t("reports.scheduledReports.scheduledReports")}>
          <table className="w-full text-left" data-testid="subscriptions">
            <caption className="sr-only">{t("reports.scheduledReports.scheduledReports")}</caption>
            <thead className="border-b border-border text-fg-muted">
              <tr>
                <th scope="col" className="px-2 py-2 font-medium">{t("reports.scheduledReports.report")}</th>
                <th scope="col" className="px-2 py-2 font-medium">{t("reports.scheduledReports.schedule")}</th>
                <th scope="col" className="px-2 py-2 font-medium">{t("reports.scheduledReports.recipients")}</th>
                <th scope="col" className="px-2 py-2 font-medium">{t("reports.scheduledReports.next")}</th>
                <th scope="col" className="px-2 py-2 font-medium">
                  <span className="sr-only">{t("reports.scheduledReports.actions")}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {subscriptions.items.map((s) => (
                <SubscriptionRow key={s.id} subscription={s} title={titles[s.report] ?? s.report} onEdit={() => setEditing(s)} reload={subscriptions.reload} />
              ))}
            </tbody>
          </table>
        </ScrollArea>
      ) : null}
    </>
  );
}

function SubscriptionRow({ subscription: s, title, onEdit, reload }: { subscription: Subscription; title: string; onEdit: () => void; reload: () => Promise<void> }) {
  const client = useQueryClient();
  const [confirm, setConfirm] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const act = async (action: () => Promise<Subscription | void>) => {
    setBusy(true);
    setError(null);
    try {
      const saved = await action();
      // The answer is the new state (and version): shown at once, then the list is re-read.
      if (saved) await storeSubscription(client, saved);
      // Re-read in the background: the buttons are free again as soon as the server answered.
      void reload();
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
      setConfirm(false);
    }
  };
  return (
    <tr className="border-b border-border align-top last:border-0" data-testid={`subscription-${s.id}`}>
      <th scope="row" className="px-2 py-2 font-medium">
        {title} <span className="font-normal text-fg-muted">({s.format.toUpperCase()})</span>
        {s.active ? null : (
          <Badge tone="warning" className="ml-2">
            {t("reports.scheduledReports.paused")}
          </Badge>
        )}
        {s.last_error ? <p className="font-normal text-danger-text">{t("reports.scheduledReports.lastDeliveryFailedLasterror", { lasterror: s.last_error })}</p> : null}
      </th>
      <td className="px-2 py-2">{describeSchedule(s)}</td>
      <td className="px-2 py-2">{s.recipients.length}</td>
      <td className="whitespace-nowrap px-2 py-2 text-fg-muted">{s.active && s.next_run_at ? formatDateTime(s.next_run_at) : "—"}</td>
      <td className="px-2 py-2">
        <div className="flex flex-wrap justify-end gap-2">
          <Button size="sm" onClick={onEdit} aria-label={t("reports.scheduledReports.editTitle", { title })}>
            {t("reports.scheduledReports.edit")}
          </Button>
          <Button size="sm" busy={busy && !confirm} onClick={() => void act(() => updateSubscription(s.id, s.version, { active: !s.active }))} aria-label={t("reports.scheduledReports.valueTitle", { value: s.active ? "Pause" : "Resume", title })}>
            {s.active ? t("reports.scheduledReports.pause") : t("reports.scheduledReports.resume")}
          </Button>
          <Button size="sm" variant="danger" onClick={() => setConfirm(true)} aria-label={t("reports.scheduledReports.deleteTitle", { title })}>
            {t("reports.scheduledReports.delete")}
          </Button>
        </div>
        {error ? <FailureAlert error={error} /> : null}
        <ConfirmDialog
          open={confirm}
          title={t("reports.scheduledReports.deleteThisReport")}
          confirmLabel={t("reports.scheduledReports.delete")}
          busy={busy}
          onConfirm={() => void act(() => deleteSubscription(s.id))}
          onClose={() => setConfirm(false)}
        >{t("reports.scheduledReports.titleSNobodyWill", { title, s: describeSchedule(s) })}</ConfirmDialog>
      </td>
    </tr>
  );
}

function ScheduleEditor({ initial, editing, reports, onDone }: { initial: ScheduleForm; editing: Subscription | null; reports: { name: string; title: string }[]; onDone: () => void }) {
  const [form, setForm] = useState(initial);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<unknown>(null);
  const [saving, setSaving] = useState(false);
  const key = useRef(idempotencyKey());
  const client = useQueryClient();
  const users = useUsers();
  const staff = useMemo(() => [...(users.data?.values() ?? [])].filter((u) => STAFF_ROLES.includes(u.role) && u.active !== false), [users.data]);
  const set = <K extends keyof ScheduleForm>(k: K, v: ScheduleForm[K]) => setForm((f) => ({ ...f, [k]: v }));
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const found = validateSchedule(form);
    if (!isTimeZone(form.tz)) found.tz = t("reports.scheduledReports.notATimeZone");
    setErrors(found);
    if (Object.keys(found).length) return;
    setSaving(true);
    setFailure(null);
    try {
      if (editing) {
        // The report is fixed, and pausing is the list's business: neither is sent.
        const { report: _fixed, active: _kept, ...patch } = toInput(form);
        await updateSubscription(editing.id, editing.version, patch);
      }
      else await createSubscription(toInput(form), key.current);
      await client.invalidateQueries({ queryKey: reportKeys.subscriptions });
      onDone();
    } catch (error) {
      if (error instanceof ApiError) setErrors(error.fieldErrors);
      setFailure(error);
    } finally {
      setSaving(false);
    }
  };
  const paramText = Object.entries(form.params)
    .map(([k, v]) => `${k.replaceAll("_", " ")}: ${v}`)
    .join(" · ");
  return (
    <Card className="mb-6" aria-labelledby="schedule-title">
      <h2 id="schedule-title" className="mb-3 font-semibold">
        {editing ? t("reports.scheduledReports.editTheSchedule") : t("reports.scheduledReports.scheduleAReport")}
      </h2>
      <form className="space-y-4" onSubmit={(e) => void submit(e)} noValidate>
        <div className="grid gap-3 sm:grid-cols-2 lg:grid-cols-3">
          <Field label={t("reports.scheduledReports.report")} error={errors.report}>
            {(props) => (
              <Select {...props} disabled={editing !== null} value={form.report} onChange={(e) => set("report", e.target.value)}>
                {reports.map((r) => (
                  <option key={r.name} value={r.name}>
                    {r.title}
                  </option>
                ))}
              </Select>
            )}
          </Field>
          <Field label={t("reports.scheduledReports.format")} error={errors.format}>
            {(props) => (
              <Select {...props} value={form.format} onChange={(e) => set("format", e.target.value as ScheduleForm["format"])}>
                <option value="pdf">{t("reports.scheduledReports.pdf")}</option>
                <option value="csv">{t("reports.scheduledReports.csv")}</option>
              </Select>
            )}
          </Field>
          <Field label={t("reports.scheduledReports.frequency")} error={errors.frequency}>
            {(props) => (
              <Select {...props} value={form.frequency} onChange={(e) => set("frequency", e.target.value as ScheduleForm["frequency"])}>
                <option value="daily">{t("reports.scheduledReports.daily")}</option>
                <option value="weekly">{t("reports.scheduledReports.weekly")}</option>
                <option value="monthly">{t("reports.scheduledReports.monthly")}</option>
              </Select>
            )}
          </Field>
          {form.frequency === "weekly" ? (
            <Field label={t("reports.scheduledReports.day")} error={errors.weekday}>
              {(props) => (
                <Select {...props} value={form.weekday} onChange={(e) => set("weekday", Number(e.target.value))}>
                  {weekdayNames().map((d, i) => (
                    <option key={d} value={i}>
                      {d}
                    </option>
                  ))}
                </Select>
              )}
            </Field>
          ) : null}
          {form.frequency === "monthly" ? (
            <Field label={t("reports.scheduledReports.dayOfTheMonth")} error={errors.monthday} description={t("reports.scheduledReports.1To28Every")}>
              {(props) => <Input {...props} type="number" min={1} max={28} value={form.monthday} onChange={(e) => set("monthday", Number(e.target.value))} />}
            </Field>
          ) : null}
          <Field label={t("reports.scheduledReports.hour")} error={errors.hour}>
            {(props) => (
              <Select {...props} value={form.hour} onChange={(e) => set("hour", Number(e.target.value))}>
                {Array.from({ length: 24 }, (_, h) => (
                  <option key={h} value={h}>
                    {t("reports.scheduledReports.value00", { value: String(h).padStart(2, "0") })}
                  </option>
                ))}
              </Select>
            )}
          </Field>
          <Field label={t("reports.scheduledReports.timeZone")} error={errors.tz}>
            {(props) => <Input {...props} value={form.tz} onChange={(e) => set("tz", e.target.value)} />}
          </Field>
        </div>
        {paramText ? <p className="text-fg-muted">{t("reports.scheduledReports.withParamtext", { paramText })}</p> : null}
        <fieldset aria-describedby={errors.recipients ? "recipients-error" : undefined}>
          <legend className="font-medium">{t("reports.scheduledReports.recipients")}</legend>
          {users.isPending ? <Spinner label={t("reports.scheduledReports.loadingPeople")} /> : null}
          <div className="mt-1 grid max-h-56 gap-1 overflow-auto sm:grid-cols-2">
            {staff.map((u) => (
              <label key={u.id} className="flex items-center gap-2">
                <input
                  type="checkbox"
                  checked={form.recipients.includes(u.id)}
                  onChange={(e) => set("recipients", e.target.checked ? [...form.recipients, u.id] : form.recipients.filter((id) => id !== u.id))}
                />
                {u.name} <span className="text-fg-muted">{u.email}</span>
              </label>
            ))}
          </div>
          {errors.recipients ? (
            <p id="recipients-error" className="font-medium text-danger-text">
              {errors.recipients}
            </p>
          ) : null}
        </fieldset>
        {failure && !(failure instanceof ApiError && failure.status === 422 && Object.keys(errors).length) ? <FailureAlert error={failure} /> : null}
        {failure instanceof ApiError && failure.status === 422 && Object.keys(errors).length ? <Alert tone="danger">{t("reports.scheduledReports.pleaseCorrectTheMarked")}</Alert> : null}
        <div className="flex gap-2">
          <Button type="submit" variant="primary" busy={saving}>
            {editing ? t("reports.scheduledReports.save") : t("reports.scheduledReports.subscribe")}
          </Button>
          <Button onClick={onDone}>{t("reports.scheduledReports.cancel")}</Button>
        </div>
      </form>
    </Card>
  );
}
