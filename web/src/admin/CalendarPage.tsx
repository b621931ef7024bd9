import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { Link, useLocation, useNavigate, useParams } from "react-router";
import { api, etag, ok } from "../api/client";
import { Alert, Button, Card, Field, Input, PageHeader, Select, Spinner } from "../components/ui";
import { adminKeys, useCalendar } from "./api";
import { DAYS, checkHolidays, checkWeek, officeHours, timeZones, weeklyHours, type Week } from "./calendar";
import { weekdayNames } from "../lib/format";
import { ConfirmButton } from "./fields";
import { EditorStatus, FormActions, FailureAlert, useEditor, type Errors } from "./forms";
import type { Calendar } from "./types";
import { t } from "../i18n/admin";

interface CalendarForm {
  name: string;
  timezone: string;
  week: Week;
  holidays: string[];
  yearly_holidays: string[];
}

function browserZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

function toForm(calendar: Calendar | null): CalendarForm {
  return {
    name: calendar?.name ?? "",
    timezone: calendar?.timezone ?? browserZone(),
    week: calendar ? calendar.week.map((day) => day.map((i) => ({ start: i.start, end: i.end }))) : officeHours(),
    holidays: calendar ? [...calendar.holidays].sort() : [],
    yearly_holidays: calendar ? [...calendar.yearly_holidays].sort() : [],
  };
}

function validate(form: CalendarForm): Errors {
  const errors: Errors = { ...checkWeek(form.week), ...checkHolidays(form.holidays, form.yearly_holidays) };
  if (!form.name.trim()) errors.name = t("fields.required");
  return errors;
}

function body(form: CalendarForm) {
  return { name: form.name.trim(), timezone: form.timezone, week: form.week, holidays: form.holidays, yearly_holidays: form.yearly_holidays };
}

function WeekEditor({ week, onChange, errors }: { week: Week; onChange: (week: Week) => void; errors: Errors }) {
  const setDay = (d: number, day: Week[number]) => onChange(week.map((x, i) => (i === d ? day : x)));
  return (
    <fieldset className="min-w-0" aria-describedby={errors.week ? "week-error" : undefined}>
      <legend className="mb-2 font-semibold">{t("admin.calendar.workingHours")}</legend>
      <p className="mb-2 text-fg-muted">{t("admin.calendar.localTimeInThe")}</p>
      <div className="mb-3 flex flex-wrap gap-2">
        <Button size="sm" onClick={() => onChange(officeHours())}>
          {t("admin.calendar.weekdays090017")}
        </Button>
        <Button size="sm" onClick={() => onChange(week.map((day, d) => (d > 0 && d < 5 ? (week[0] ?? []).map((i) => ({ ...i })) : day)))}>
          {t("admin.calendar.copyMondayToTuesday")}
        </Button>
        <Button size="sm" onClick={() => onChange(DAYS.map(() => [{ start: "00:00", end: "24:00" }]))}>
          {t("admin.calendar.aroundTheClock")}
        </Button>
      </div>
      <div className="divide-y divide-border rounded-md border border-border">
        {weekdayNames().map((name, d) => {
          const day = week[d] ?? [];
          return (
            <div key={name} className="grid *:min-w-0 gap-2 p-3 sm:grid-cols-[7rem_1fr]" role="group" aria-label={name}>
              <span className="font-medium">{name}</span>
              <div className="space-y-2">
                {day.length ? null : <p className="text-fg-muted">{t("admin.calendar.closed")}</p>}
                {day.map((interval, n) => {
                  const rowError = errors[`week.${d}.${n}`];
                  const startError = errors[`week.${d}.${n}.start`];
                  const endError = errors[`week.${d}.${n}.end`];
                  const problem = [rowError, startError && `start ${startError}`, endError && `end ${endError}`].filter(Boolean).join("; ");
                  const problemId = `week-${d}-${n}-error`;
                  const set = (edge: "start" | "end", value: string) => setDay(d, day.map((x, i) => (i === n ? { ...x, [edge]: value } : x)));
                  return (
                    <div key={n}>
                      <div className="flex flex-wrap items-center gap-2">
                        <label className="sr-only" htmlFor={`week-${d}-${n}-start`}>{t("admin.calendar.nameIntervalValueStart", { name, value: n + 1 })}</label>
                        <div className="w-24">
                          <Input
                            id={`week-${d}-${n}-start`}
                            className="font-mono"
                            inputMode="numeric"
                            placeholder="09:00"
                            maxLength={5}
                            value={interval.start}
                            aria-invalid={rowError || startError ? true : undefined}
                            aria-describedby={problem ? problemId : undefined}
                            onChange={(e) => set("start", e.target.value)}
                          />
                        </div>
                        <span aria-hidden="true">–</span>
                        <label className="sr-only" htmlFor={`week-${d}-${n}-end`}>{t("admin.calendar.nameIntervalValueEnd", { name, value: n + 1 })}</label>
                        <div className="w-24">
                          <Input
                            id={`week-${d}-${n}-end`}
                            className="font-mono"
                            inputMode="numeric"
                            placeholder="17:00"
                            maxLength={5}
                            value={interval.end}
                            aria-invalid={rowError || endError ? true : undefined}
                            aria-describedby={problem ? problemId : undefined}
                            onChange={(e) => set("end", e.target.value)}
                          />
                        </div>
                        <Button size="sm" variant="ghost" onClick={() => setDay(d, day.filter((_, i) => i !== n))}>
                          {t("admin.calendar.remove")}<span className="sr-only">{t("admin.calendar.nameIntervalValue", { name, value: n + 1 })}</span>
                        </Button>
                      </div>
                      {problem ? (
                        <p id={problemId} className="mt-1 font-medium text-danger-text">
                          {problem}
                        </p>
                      ) : null}
                    </div>
                  );
                })}
                <Button
                  size="sm"
                  variant="ghost"
                  onClick={() => {
                    const last = day[day.length - 1];
                    setDay(d, [...day, last ? { start: last.end === "24:00" ? "00:00" : last.end, end: "24:00" } : { start: "09:00", end: "17:00" }]);
                  }}
                >
                  {t("admin.calendar.addHours")}<span className="sr-only">{t("admin.calendar.onName", { name })}</span>
                </Button>
              </div>
            </div>
          );
        })}
      </div>
      {errors.week ? (
        <p id="week-error" className="mt-2 font-medium text-danger-text">
          {errors.week}
        </p>
      ) : null}
      <p className="mt-2 text-fg-muted">{t("admin.calendar.valueWorkingHoursA", { value: weeklyHours(week).toFixed(1).replace(/\.0$/, "") })}</p>
    </fieldset>
  );
}

/** A list of dates (or MM-DD days) with an input to add one and a button per item to remove it. */
function DateList({
  legend,
  description,
  values,
  onChange,
  errors,
  errorKey,
  yearly = false,
}: {
  legend: string;
  description: string;
  values: string[];
  onChange: (values: string[]) => void;
  errors: Errors;
  errorKey: string;
  yearly?: boolean;
}) {
  const [draft, setDraft] = useState("");
  const inputId = `${errorKey}-new`;
  const listError = errors[errorKey] ?? values.map((_, i) => errors[`${errorKey}.${i}`]).find(Boolean);
  const add = () => {
    const value = draft.trim();
    if (!value || values.includes(value)) return;
    onChange([...values, value].sort());
    setDraft("");
  };
  return (
    <fieldset className="min-w-0" aria-describedby={listError ? `${errorKey}-error` : undefined}>
      <legend className="mb-1 font-semibold">{legend}</legend>
      <p className="mb-2 text-fg-muted">{description}</p>
      {values.length ? (
        <ul className="mb-2 flex flex-wrap gap-2" aria-label={legend}>
          {values.map((value, i) => (
            <li key={value} className="inline-flex items-center gap-1 rounded-full border border-border py-0.5 pl-3 pr-1">
              <span className={errors[`${errorKey}.${i}`] ? "font-mono text-danger-text" : "font-mono"}>{value}</span>
              <Button size="sm" variant="ghost" className="h-6 px-2" onClick={() => onChange(values.filter((v) => v !== value))}>
                <span aria-hidden="true">×</span>
                <span className="sr-only">{t("admin.calendar.removeValue", { value })}</span>
              </Button>
            </li>
          ))}
        </ul>
      ) : (
        <p className="mb-2 text-fg-muted">{t("admin.calendar.none")}</p>
      )}
      <div className="flex flex-wrap items-center gap-2">
        <label htmlFor={inputId} className="sr-only">
          {yearly ? t("admin.calendar.addAYearlyHoliday") : t("admin.calendar.addAHoliday")}
        </label>
        <div className="w-44 max-w-full">
          <Input
            id={inputId}
            type={yearly ? "text" : "date"}
            placeholder={yearly ? "12-25" : undefined}
            maxLength={yearly ? 5 : undefined}
            value={draft}
            onChange={(e) => setDraft(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === "Enter") {
                e.preventDefault();
                add();
              }
            }}
          />
        </div>
        <Button size="sm" onClick={add} disabled={!draft.trim()}>
          {t("admin.calendar.add")}<span className="sr-only"> {yearly ? t("admin.calendar.yearlyHoliday") : t("admin.calendar.holiday")}</span>
        </Button>
      </div>
      {listError ? (
        <p id={`${errorKey}-error`} className="mt-1 font-medium text-danger-text">
          {listError}
        </p>
      ) : null}
    </fieldset>
  );
}

function CalendarEditor({ calendar }: { calendar: Calendar | null }) {
  const client = useQueryClient();
  const navigate = useNavigate();
  const zones = useMemo(timeZones, []);
  const load = (id: string) => ok(api.GET("/v1/calendars/{calendar_id}", { params: { path: { calendar_id: id } } }));
  const editor = useEditor<Calendar, CalendarForm>({
    entity: calendar,
    toForm,
    tag: (c) => etag(c.version),
    validate,
    create: (form, key) => ok(api.POST("/v1/calendars", { params: { header: { "Idempotency-Key": key } }, body: body(form) })),
    update: (form, base, ifMatch) =>
      ok(api.PATCH("/v1/calendars/{calendar_id}", { params: { path: { calendar_id: base.id }, header: { "If-Match": ifMatch } }, body: body(form) })),
    reload: calendar ? () => client.fetchQuery({ queryKey: adminKeys.calendar(calendar.id), staleTime: 0, queryFn: () => load(calendar.id) }) : undefined,
    onSaved: (saved, created) => {
      client.setQueryData(adminKeys.calendar(saved.id), saved);
      void client.invalidateQueries({ queryKey: adminKeys.calendars });
      if (created) navigate(`/admin/calendars/${saved.id}`, { replace: true, state: { created: true } });
    },
  });
  const remove = useMutation({
    mutationFn: (id: string) => ok(api.DELETE("/v1/calendars/{calendar_id}", { params: { path: { calendar_id: id } } })),
    onSuccess: () => {
      void client.invalidateQueries({ queryKey: adminKeys.calendars });
      navigate("/admin/calendars", { replace: true });
    },
  });
  const { form, set, errors } = editor;
  const zoneList = zones.includes(form.timezone) ? zones : [form.timezone, ...zones];
  return (
    <form className="space-y-6" onSubmit={editor.submit} noValidate>
      <Card className="grid *:min-w-0 gap-3 sm:grid-cols-2">
        <Field label={t("admin.calendar.name")} required error={errors.name}>
          {(p) => <Input {...p} maxLength={100} value={form.name} onChange={(e) => set("name", e.target.value)} />}
        </Field>
        <Field label={t("admin.calendar.timeZone")} error={errors.timezone}>
          {(p) => (
            <Select {...p} value={form.timezone} onChange={(e) => set("timezone", e.target.value)}>
              {zoneList.map((z) => (
                <option key={z} value={z}>
                  {z.replaceAll("_", " ")}
                </option>
              ))}
            </Select>
          )}
        </Field>
      </Card>
      <Card>
        <WeekEditor week={form.week} onChange={(week) => set("week", week)} errors={errors} />
      </Card>
      <Card className="grid *:min-w-0 gap-6 md:grid-cols-2">
        <DateList
          legend={t("admin.calendar.holidays")}
          description={t("admin.calendar.singleDaysOffThe")}
          values={form.holidays}
          onChange={(v) => set("holidays", v)}
          errors={errors}
          errorKey="holidays"
        />
        <DateList
          legend={t("admin.calendar.yearlyHolidays")}
          description={t("admin.calendar.daysOffEveryYear")}
          values={form.yearly_holidays}
          onChange={(v) => set("yearly_holidays", v)}
          errors={errors}
          errorKey="yearly_holidays"
          yearly
        />
      </Card>
      <div className="space-y-3">
        <EditorStatus editor={editor} placed={["name", "timezone", "week", "holidays", "yearly_holidays"]} savedText={calendar ? t("admin.calendar.saved") : t("admin.calendar.calendarCreated")} />
        {remove.isError ? <FailureAlert error={remove.error} /> : null}
        <FormActions editor={editor} creating={calendar === null} saveLabel={calendar ? t("admin.calendar.saveCalendar") : t("admin.calendar.createCalendar")}>
          {calendar ? (
            <ConfirmButton size="md" confirmLabel={t("admin.calendar.deleteThisCalendar")} busy={remove.isPending} onConfirm={() => remove.mutate(calendar.id)}>
              {t("admin.calendar.delete")}
            </ConfirmButton>
          ) : null}
        </FormActions>
      </div>
    </form>
  );
}

export default function CalendarPage() {
  const { calendarId = "" } = useParams();
  const location = useLocation();
  const creating = calendarId === "new";
  const calendar = useCalendar(creating ? "" : calendarId);
  const created = (location.state as { created?: boolean } | null)?.created;
  return (
    <>
      <p className="mb-2">
        <Link to="/admin/calendars" className="text-accent-text underline">
          {t("admin.calendar.calendars")}
        </Link>
      </p>
      {creating ? (
        <>
          <PageHeader title={t("admin.calendar.newCalendar")}>{t("admin.calendar.whenTheSlaClock")}</PageHeader>
          <CalendarEditor calendar={null} />
        </>
      ) : calendar.isPending ? (
        <Spinner label={t("admin.calendar.loadingTheCalendar")} />
      ) : calendar.isError ? (
        <FailureAlert error={calendar.error} />
      ) : (
        <>
          <PageHeader title={calendar.data.name}>{calendar.data.timezone}</PageHeader>
          {created ? (
            <div className="mb-4">
              <Alert tone="success">{t("admin.calendar.calendarCreatedSlaPolicies")}</Alert>
            </div>
          ) : null}
          <CalendarEditor key={calendar.data.id} calendar={calendar.data} />
        </>
      )}
    </>
  );
}
