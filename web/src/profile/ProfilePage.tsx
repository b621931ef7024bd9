import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useMemo, useState, type FormEvent } from "react";
import { api, ok } from "../api/client";
import { ApiError, describeError, fieldErrors } from "../api/problem";
import { fromResponse, markSignedIn } from "../api/session";
import { useAuth, useMe } from "../auth/AuthProvider";
import { ConfirmButton } from "../admin/fields";
import { Alert, Badge, Button, Card, Field, Input, PageHeader, Select, Spinner } from "../components/ui";
import { t } from "../i18n";
import { AvatarCard } from "./AvatarCard";
import { formatDateTime, formatDateTimeWith, formatRelative } from "../lib/format";
import { TwoStepCard } from "./TwoStep";

/** Locales offered for dates and numbers (any BCP 47 tag the API accepts would do). */
const LOCALES = ["en-GB", "en-US", "de-DE", "es-ES", "fr-FR", "it-IT", "ja-JP", "nl-NL", "pt-BR", "sv-SE"];

function timeZones(): string[] {
  const all = (Intl as unknown as { supportedValuesOf?: (key: string) => string[] }).supportedValuesOf?.("timeZone");
  return all?.length ? all : ["UTC", "Europe/London", "Europe/Paris", "America/New_York", "Asia/Tokyo"];
}

function browserZone(): string {
  return new Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

// A fixed moment for the sample, so that the person sees the effect of their choice.
const SAMPLE = new Date(Date.UTC(2030, 0, 15, 14, 30));

function ProfileForm() {
  const me = useMe();
  const { updateMe } = useAuth();
  const [name, setName] = useState(me.user.name);
  const [zone, setZone] = useState(me.time_zone ?? "");
  const [locale, setLocale] = useState(me.locale ?? "");
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [saved, setSaved] = useState(false);
  const zones = useMemo(timeZones, []);
  const save = useMutation({
    mutationFn: () => ok(api.PATCH("/v1/me", { body: { name: name.trim(), time_zone: zone || null, locale: locale || null } })),
    onSuccess: (next) => {
      updateMe(next);
      setSaved(true);
    },
    onError: (error) => setErrors(error instanceof ApiError ? fieldErrors(error.problem) : {}),
  });

  function submit(event: FormEvent) {
    event.preventDefault();
    setSaved(false);
    const trimmed = name.trim();
    if (!trimmed || trimmed.length > 200) {
      setErrors({ name: t("profile.nameRequired") });
      return;
    }
    setErrors({});
    save.mutate();
  }

  return (
    <Card aria-labelledby="profile-details-heading">
      <h2 id="profile-details-heading" className="mb-3 font-semibold">
        {t("profile.details")}
      </h2>
      <form className="space-y-4" onSubmit={submit} noValidate>
        <div className="grid gap-3 *:min-w-0 sm:grid-cols-3">
          <Field label={t("profile.name")} error={errors.name} required>
            {(p) => <Input {...p} value={name} maxLength={200} autoComplete="name" onChange={(e) => setName(e.target.value)} />}
          </Field>
          <Field label={t("profile.timeZone")} error={errors.time_zone}>
            {(p) => (
              <Select {...p} value={zone} onChange={(e) => setZone(e.target.value)}>
                <option value="">{t("profile.timeZoneBrowser", { zone: browserZone() })}</option>
                {zones.map((z) => (
                  <option key={z} value={z}>
                    {z}
                  </option>
                ))}
              </Select>
            )}
          </Field>
          <Field label={t("profile.locale")} error={errors.locale}>
            {(p) => (
              <Select {...p} value={locale} onChange={(e) => setLocale(e.target.value)}>
                <option value="">{t("profile.localeBrowser")}</option>
                {LOCALES.map((l) => (
                  <option key={l} value={l}>
                    {l}
                  </option>
                ))}
              </Select>
            )}
          </Field>
        </div>
        <p className="text-fg-muted" data-testid="date-sample">
          {t("profile.sample", { sample: formatDateTimeWith(SAMPLE, { timeZone: zone || null, locale: locale || null }) })}
        </p>
        {save.isError && !Object.keys(errors).length ? <Alert>{t("profile.failed", { reason: describeError(save.error) })}</Alert> : null}
        {saved ? <Alert tone="success">{t("profile.saved")}</Alert> : null}
        <Button variant="primary" type="submit" disabled={save.isPending}>
          {t("profile.save")}
        </Button>
      </form>
    </Card>
  );
}

function PasswordForm() {
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [again, setAgain] = useState("");
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [done, setDone] = useState(false);
  const change = useMutation({
    mutationFn: () => ok(api.POST("/v1/me/password", { body: { current_password: current, new_password: next } })),
    onSuccess: (tokens) => {
      // This tab goes on with the new session; every other one has ended.
      markSignedIn(fromResponse(tokens));
      setCurrent("");
      setNext("");
      setAgain("");
      setDone(true);
    },
    onError: (error) => setErrors(error instanceof ApiError ? fieldErrors(error.problem) : {}),
  });

  function submit(event: FormEvent) {
    event.preventDefault();
    setDone(false);
    const found: Record<string, string> = {};
    if (!current) found.current_password = t("profile.passwordRequired");
    if (!next) found.new_password = t("profile.passwordRequired");
    else if (next !== again) found.repeat = t("profile.passwordsDiffer");
    setErrors(found);
    if (!Object.keys(found).length) change.mutate();
  }

  return (
    <Card aria-labelledby="profile-password-heading">
      <h2 id="profile-password-heading" className="mb-1 font-semibold">
        {t("profile.password")}
      </h2>
      <p className="mb-3 text-fg-muted">{t("profile.passwordIntro")}</p>
      <form className="space-y-4" onSubmit={submit} noValidate>
        <div className="grid gap-3 *:min-w-0 sm:grid-cols-3">
          <Field label={t("profile.currentPassword")} error={errors.current_password} required>
            {(p) => <Input {...p} type="password" autoComplete="current-password" value={current} onChange={(e) => setCurrent(e.target.value)} />}
          </Field>
          <Field label={t("profile.newPassword")} error={errors.new_password} required>
            {(p) => <Input {...p} type="password" autoComplete="new-password" value={next} onChange={(e) => setNext(e.target.value)} />}
          </Field>
          <Field label={t("profile.repeatPassword")} error={errors.repeat} required>
            {(p) => <Input {...p} type="password" autoComplete="new-password" value={again} onChange={(e) => setAgain(e.target.value)} />}
          </Field>
        </div>
        {change.isError && !Object.keys(errors).length ? <Alert>{t("profile.failed", { reason: describeError(change.error) })}</Alert> : null}
        {done ? <Alert tone="success">{t("profile.passwordChanged")}</Alert> : null}
        <Button variant="primary" type="submit" disabled={change.isPending}>
          {t("profile.changePassword")}
        </Button>
      </form>
    </Card>
  );
}

const SESSIONS_KEY = ["me", "sessions"] as const;

/** A readable name for a user agent: the browser and the system, else the string itself. */
export function deviceName(agent: string | null | undefined): string {
  if (!agent) return t("sessions.unknownDevice");
  const browser = /Edg\//.test(agent)
    ? "Edge"
    : /Firefox\//.test(agent)
      ? "Firefox"
      : /Chrome\//.test(agent)
        ? "Chrome"
        : /Safari\//.test(agent)
          ? "Safari"
          : null;
  const system = /Windows/.test(agent)
    ? "Windows"
    : /Android/.test(agent)
      ? "Android"
      : /iPhone|iPad/.test(agent)
        ? "iOS"
        : /Mac OS X/.test(agent)
          ? "macOS"
          : /Linux/.test(agent)
            ? "Linux"
            : null;
  if (browser && system) return t("sessions.browserOn", { browser, system });
  return browser ?? (agent.length > 60 ? `${agent.slice(0, 57)}…` : agent);
}

/** The person's sign-ins here: where, when, the current one marked; revoke one or all others. */
function SessionsCard() {
  const client = useQueryClient();
  const [message, setMessage] = useState<{ tone: "success" | "danger"; text: string } | null>(null);
  const sessions = useQuery({
    queryKey: SESSIONS_KEY,
    queryFn: ({ signal }) => ok(api.GET("/v1/me/sessions", { signal })),
  });
  const revoke = useMutation({
    mutationFn: (id: string) => ok(api.DELETE("/v1/me/sessions/{session_id}", { params: { path: { session_id: id } } })),
    onSuccess: () => setMessage({ tone: "success", text: t("sessions.revoked") }),
    onError: (error) => setMessage({ tone: "danger", text: t("profile.failed", { reason: describeError(error) }) }),
    onSettled: () => client.invalidateQueries({ queryKey: SESSIONS_KEY }),
  });
  const others = useMutation({
    mutationFn: () => ok(api.POST("/v1/me/sessions/revoke-others")),
    onSuccess: (done) => setMessage({ tone: "success", text: t("sessions.othersRevoked", { count: String(done.revoked) }) }),
    onError: (error) => setMessage({ tone: "danger", text: t("profile.failed", { reason: describeError(error) }) }),
    onSettled: () => client.invalidateQueries({ queryKey: SESSIONS_KEY }),
  });
  const rows = sessions.data ?? [];
  const hasOthers = rows.some((s) => !s.current);
  return (
    <Card aria-labelledby="profile-sessions-heading">
      <h2 id="profile-sessions-heading" className="mb-1 font-semibold">
        {t("sessions.title")}
      </h2>
      <p className="mb-3 text-fg-muted">{t("sessions.intro")}</p>
      {sessions.isPending ? <Spinner label={t("sessions.loading")} /> : null}
      {sessions.isError ? <Alert>{t("profile.failed", { reason: describeError(sessions.error) })}</Alert> : null}
      {rows.length ? (
        <ul className="divide-y divide-border" data-testid="session-rows" aria-label={t("sessions.title")}>
          {rows.map((s) => (
            <li key={s.id} className="flex flex-wrap items-center justify-between gap-2 py-2" data-testid="session-row">
              <div className="min-w-0">
                <span className="font-medium">{deviceName(s.user_agent)}</span>{" "}
                {s.current ? <Badge tone="success">{t("sessions.current")}</Badge> : null}
                <span className="block text-fg-muted">
                  {t("sessions.details", {
                    address: s.ip_address ?? t("sessions.unknownAddress"),
                    signedIn: formatDateTime(s.created_at),
                    lastUsed: formatRelative(s.last_used_at),
                  })}
                </span>
              </div>
              {s.current ? null : (
                <ConfirmButton confirmLabel={t("sessions.revokeConfirm", { device: deviceName(s.user_agent) })} busy={revoke.isPending && revoke.variables === s.id} onConfirm={() => revoke.mutate(s.id)}>
                  {t("sessions.revoke")}
                </ConfirmButton>
              )}
            </li>
          ))}
        </ul>
      ) : null}
      <div className="mt-3 flex flex-wrap items-center gap-3">
        <ConfirmButton confirmLabel={t("sessions.revokeOthersConfirm")} busy={others.isPending} onConfirm={() => others.mutate()}>
          {t("sessions.revokeOthers")}
        </ConfirmButton>
        {!hasOthers && sessions.isSuccess ? <span className="text-fg-muted">{t("sessions.noOthers")}</span> : null}
      </div>
      <div aria-live="polite">
        {message ? <p className={message.tone === "success" ? "mt-2 text-success-text" : "mt-2 text-danger-text"}>{message.text}</p> : null}
      </div>
    </Card>
  );
}

/** /settings/profile: the person's own name, time zone and locale, password, sessions and
 * two-step verification. */
export default function ProfilePage() {
  return (
    <>
      <PageHeader title={t("profile.title")}>{t("profile.intro")}</PageHeader>
      <div className="space-y-6">
        <ProfileForm />
        <AvatarCard />
        <PasswordForm />
        <TwoStepCard />
        <SessionsCard />
      </div>
    </>
  );
}
