import { useMutation } from "@tanstack/react-query";
import { useMemo, useState, type FormEvent } from "react";
import { api, ok } from "../api/client";
import { ApiError, describeError, fieldErrors } from "../api/problem";
import { fromResponse, markSignedIn } from "../api/session";
import { useAuth, useMe } from "../auth/AuthProvider";
import { Alert, Button, Card, Field, Input, PageHeader, Select } from "../components/ui";
import { t } from "../i18n";
import { formatDateTimeWith } from "../lib/format";
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

/** /settings/profile: the person's own name, time zone and locale, password, and two-step
 * verification. */
export default function ProfilePage() {
  return (
    <>
      <PageHeader title={t("profile.title")}>{t("profile.intro")}</PageHeader>
      <div className="space-y-6">
        <ProfileForm />
        <PasswordForm />
        <TwoStepCard />
      </div>
    </>
  );
}
