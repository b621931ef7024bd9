import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, idempotencyKey, ok } from "../api/client";
import { ApiError, describeError, fieldErrors } from "../api/problem";
import { EditorStatus, FormActions, useEditor, type Errors } from "../admin/forms";
import { Alert, Button, Field, Input } from "../components/ui";
import { formatDateTime } from "../lib/format";
import { t } from "../i18n/changes";
import { changeKeys, toInstant, toLocal, useBlackouts, type Blackout } from "./api";
import { NTHS, blackoutBody, browserZone, describeRecurrence, draftOf, emptyDraft, nthName, weekdayName, type BlackoutDraft } from "./blackouts";
import { Choice, Section, onSubmit } from "./parts";

const DAYS = [0, 1, 2, 3, 4, 5, 6];

/** Blackout windows (Change settings): the list, each one-off window with its times and
 * each recurring one with its rule, edited in place or deleted; the form adds a one-off window or
 * a weekly or monthly one (days, local start time, duration, IANA zone, first and last
 * day). The server's field errors sit beside their inputs. */
export function Blackouts() {
  const client = useQueryClient();
  const blackouts = useBlackouts();
  const [draft, setDraft] = useState<BlackoutDraft>(() => emptyDraft(browserZone()));
  const set = (patch: Partial<BlackoutDraft>) => setDraft((now) => ({ ...now, ...patch }));
  const refresh = () => void client.invalidateQueries({ queryKey: changeKeys.blackouts });
  const create = useMutation({
    mutationFn: () =>
      ok(
        api.POST("/v1/changes/blackouts", {
          params: { header: { "Idempotency-Key": idempotencyKey() } },
          body: blackoutBody(draft, toInstant),
        }),
      ),
    onSuccess: () => {
      set({ name: "" });
      refresh();
    },
  });
  const remove = useMutation({
    mutationFn: (id: string) => ok(api.DELETE("/v1/changes/blackouts/{blackout_id}", { params: { path: { blackout_id: id } } })),
    onSuccess: refresh,
  });
  const errors = create.error instanceof ApiError ? fieldErrors(create.error.problem) : {};
  const [editing, setEditing] = useState<string | null>(null);
  return (
    <Section id="settings-blackouts" title={t("changes.settings.blackouts")}>
      <ul className="space-y-1" data-testid="blackout-rows">
        {blackouts.data?.map((b) => (
          <li key={b.id} className="space-y-2">
            <div className="flex flex-wrap items-center justify-between gap-2">
              <span className="grow">
                {b.name}: {b.recurrence ? describeRecurrence(b.recurrence) : `${formatDateTime(b.starts_at)} – ${b.ends_at ? formatDateTime(b.ends_at) : ""}`}
              </span>
              <Button size="sm" aria-expanded={editing === b.id} onClick={() => setEditing(editing === b.id ? null : b.id)}>
                {t("changes.settings.editBlackout", { name: b.name })}
              </Button>
              <Button size="sm" variant="danger" disabled={remove.isPending} onClick={() => remove.mutate(b.id)}>
                {t("changes.settings.deleteBlackout", { name: b.name })}
              </Button>
            </div>
            {editing === b.id ? <BlackoutEditor blackout={b} onDone={() => setEditing(null)} /> : null}
          </li>
        ))}
      </ul>
      <form className="grid gap-3" aria-label={t("changes.settings.addBlackout")} onSubmit={onSubmit(() => create.mutate())}>
        <BlackoutFields draft={draft} set={set} errors={errors} />
        {create.isError && !Object.keys(errors).length ? <Alert>{describeError(create.error)}</Alert> : null}
        <div>
          <Button type="submit" busy={create.isPending}>
            {t("changes.settings.addBlackout")}
          </Button>
        </div>
      </form>
    </Section>
  );
}

/** The inputs of a window: its name, one-off times or a weekly or monthly rule. `errors`
 * are the server's field errors (a rule's under `recurrence.`). */
function BlackoutFields({ draft, set, errors }: { draft: BlackoutDraft; set: (patch: Partial<BlackoutDraft>) => void; errors: Errors }) {
  const err = (field: string) => errors[field] ?? errors[`recurrence.${field}`];
  const rule = draft.repeats;
  return (
    <>
      <Field label={t("changes.settings.blackoutName")} error={errors.name}>
        {(p) => <Input {...p} value={draft.name} maxLength={120} onChange={(e) => set({ name: e.target.value })} />}
      </Field>
      <Choice
        label={t("changes.settings.repeats")}
        value={rule}
        empty={t("changes.settings.noRepeat")}
        options={[
          ["weekly", t("changes.settings.weekly")],
          ["monthly", t("changes.settings.monthly")],
        ]}
        onChange={(repeats) => set({ repeats })}
      />
      {!rule ? (
        <div className="grid gap-3 sm:grid-cols-2">
          <Field label={t("changes.settings.blackoutStart")} error={errors.starts_at}>
            {(p) => <Input {...p} type="datetime-local" value={draft.start} onChange={(e) => set({ start: e.target.value })} />}
          </Field>
          <Field label={t("changes.settings.blackoutEnd")} error={errors.ends_at}>
            {(p) => <Input {...p} type="datetime-local" value={draft.end} onChange={(e) => set({ end: e.target.value })} />}
          </Field>
        </div>
      ) : (
        <>
          {rule === "weekly" ? (
            <fieldset className="space-y-1">
              <legend className="font-medium text-fg">{t("changes.settings.onDays")}</legend>
              <div className="flex flex-wrap gap-3">
                {DAYS.map((day) => (
                  <label key={day} className="inline-flex items-center gap-1">
                    <input
                      type="checkbox"
                      checked={draft.weekdays.includes(day)}
                      onChange={(e) => set({ weekdays: e.target.checked ? [...draft.weekdays, day] : draft.weekdays.filter((d) => d !== day) })}
                    />
                    {weekdayName(day)}
                  </label>
                ))}
              </div>
              {err("weekdays") ? <p className="font-medium text-danger-text">{err("weekdays")}</p> : null}
            </fieldset>
          ) : (
            <div className="grid gap-3 sm:grid-cols-3">
              <Choice
                label={t("changes.settings.monthlyOn")}
                value={draft.monthly}
                options={[
                  ["day", t("changes.settings.monthlyDay")],
                  ["nth", t("changes.settings.monthlyNth")],
                ]}
                onChange={(monthly) => set({ monthly: monthly || "day" })}
              />
              {draft.monthly === "day" ? (
                <Field label={t("changes.settings.monthday")} error={err("monthday")}>
                  {(p) => <Input {...p} type="number" min={1} max={31} value={draft.monthday} onChange={(e) => set({ monthday: e.target.value })} />}
                </Field>
              ) : (
                <>
                  <Choice label={t("changes.settings.nth")} value={draft.nth} error={err("nth")} options={NTHS.map((n) => [n, nthName(n)] as const)} onChange={(nth) => set({ nth: nth || "1" })} />
                  <Choice label={t("changes.settings.weekday")} value={draft.weekday} error={err("weekday")} options={DAYS.map((d) => [String(d), weekdayName(d)] as const)} onChange={(weekday) => set({ weekday: weekday || "0" })} />
                </>
              )}
            </div>
          )}
          <div className="grid gap-3 sm:grid-cols-3">
            <Field label={t("changes.settings.startTime")} error={err("start_time")}>
              {(p) => <Input {...p} type="time" value={draft.startTime} onChange={(e) => set({ startTime: e.target.value })} />}
            </Field>
            <Field label={t("changes.settings.duration")} error={err("duration_minutes")}>
              {(p) => <Input {...p} type="number" min={1} max={10080} value={draft.duration} onChange={(e) => set({ duration: e.target.value })} />}
            </Field>
            <Field label={t("changes.settings.timeZone")} description={t("changes.settings.timeZoneHint")} error={err("time_zone")}>
              {(p) => <Input {...p} value={draft.timeZone} maxLength={64} onChange={(e) => set({ timeZone: e.target.value })} />}
            </Field>
            <Field label={t("changes.settings.startsOn")} error={err("starts_on")}>
              {(p) => <Input {...p} type="date" value={draft.startsOn} onChange={(e) => set({ startsOn: e.target.value })} />}
            </Field>
            <Field label={t("changes.settings.until")} error={err("until")}>
              {(p) => <Input {...p} type="date" value={draft.until} onChange={(e) => set({ until: e.target.value })} />}
            </Field>
          </div>
        </>
      )}
    </>
  );
}

const placed = ["name", "starts_at", "ends_at", "recurrence."];

/** One window's form, saved with the version it was read at (If-Match): a 412 keeps what
 * was typed on top of the latest and says so (the admin screens' editor). */
function BlackoutEditor({ blackout, onDone }: { blackout: Blackout; onDone: () => void }) {
  const client = useQueryClient();
  const editor = useEditor<Blackout, BlackoutDraft>({
    entity: blackout,
    toForm: (b) => (b ? draftOf(b, toLocal, browserZone()) : emptyDraft(browserZone())),
    tag: (b) => String(b.version),
    update: (form, base, version) =>
      ok(
        api.PATCH("/v1/changes/blackouts/{blackout_id}", {
          params: { path: { blackout_id: base.id }, header: { "If-Match": `"${version}"` } },
          body: blackoutBody(form, toInstant),
        }),
      ),
    reload: async () => {
      const fresh = await ok(api.GET("/v1/changes/blackouts", { params: { query: { limit: 100 } } }));
      return fresh.items.find((b) => b.id === blackout.id) ?? null;
    },
    onSaved: () => void client.invalidateQueries({ queryKey: changeKeys.blackouts }),
  });
  const set = (patch: Partial<BlackoutDraft>) => editor.setForm((now) => ({ ...now, ...patch }));
  return (
    <form className="grid gap-3 rounded border border-border p-3" aria-label={t("changes.settings.editBlackoutForm", { name: blackout.name })} onSubmit={(e) => void editor.submit(e)}>
      <BlackoutFields draft={editor.form} set={set} errors={editor.errors} />
      <EditorStatus editor={editor} placed={placed} savedText={t("changes.settings.blackoutSaved")} />
      <FormActions editor={editor} saveLabel={t("changes.settings.saveBlackout")}>
        <Button variant="ghost" onClick={onDone}>
          {t("changes.settings.closeEdit")}
        </Button>
      </FormActions>
    </form>
  );
}
