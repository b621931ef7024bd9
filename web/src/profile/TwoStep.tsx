import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { api, ok } from "../api/client";
import { ApiError, describeError, fieldErrors } from "../api/problem";
import type { components } from "../api/schema";
import { Alert, Badge, Button, Card, Field, Input, Spinner } from "../components/ui";
import { t } from "../i18n";
import { formatDateTime } from "../lib/format";

export type Enrolment = components["schemas"]["MfaEnrolment"];

const CODE = /^[0-9]{6}$/;

/** The key of a new enrolment: its QR code (an SVG the API drew), the key and the link as
 * text, and the field for the app's first code. */
export function EnrolmentForm({
  enrolment,
  busy,
  error,
  onConfirm,
}: {
  enrolment: Enrolment;
  busy: boolean;
  error: string | null;
  onConfirm: (code: string) => void;
}) {
  const [code, setCode] = useState("");
  const [invalid, setInvalid] = useState<string | undefined>();
  function submit(event: FormEvent) {
    event.preventDefault();
    const trimmed = code.replace(/\s/g, "");
    if (!CODE.test(trimmed)) {
      setInvalid(t("login.mfaCodeFormat"));
      return;
    }
    setInvalid(undefined);
    onConfirm(trimmed);
  }
  return (
    <form className="space-y-4" onSubmit={submit} noValidate>
      <p>{t("mfa.scan")}</p>
      <img
        className="h-48 w-48 rounded border border-border bg-white"
        src={`data:image/svg+xml;utf8,${encodeURIComponent(enrolment.qr_svg)}`}
        alt={t("mfa.qrAlt")}
      />
      <dl className="space-y-2">
        <div>
          <dt className="font-medium">{t("mfa.key")}</dt>
          <dd className="break-all font-mono" data-testid="mfa-secret">
            {enrolment.secret}
          </dd>
        </div>
        <div>
          <dt className="font-medium">{t("mfa.uri")}</dt>
          <dd className="break-all font-mono text-fg-muted" data-testid="mfa-uri">
            {enrolment.otpauth_uri}
          </dd>
        </div>
      </dl>
      <Field label={t("mfa.confirmCode")} error={invalid ?? error ?? undefined} required>
        {(p) => (
          <Input
            {...p}
            className="max-w-40"
            inputMode="numeric"
            autoComplete="one-time-code"
            maxLength={6}
            value={code}
            onChange={(e) => setCode(e.target.value)}
          />
        )}
      </Field>
      <Button type="submit" variant="primary" busy={busy}>
        {t("mfa.confirm")}
      </Button>
    </form>
  );
}

/** The recovery codes, shown once, with a copy button. */
export function RecoveryCodes({ codes, onDone }: { codes: string[]; onDone: () => void }) {
  const [copied, setCopied] = useState(false);
  async function copy() {
    try {
      await navigator.clipboard.writeText(codes.join("\n"));
      setCopied(true);
    } catch {
      setCopied(false);
    }
  }
  return (
    <div className="space-y-3" aria-labelledby="recovery-codes-heading">
      <h3 id="recovery-codes-heading" className="font-semibold">
        {t("mfa.codesTitle")}
      </h3>
      <p>{t("mfa.codesIntro")}</p>
      <ul className="grid max-w-md grid-cols-2 gap-1 font-mono" data-testid="recovery-codes">
        {codes.map((code) => (
          <li key={code}>{code}</li>
        ))}
      </ul>
      <div className="flex flex-wrap items-center gap-2">
        <Button onClick={() => void copy()}>{t("mfa.copy")}</Button>
        <Button variant="primary" onClick={onDone}>
          {t("mfa.codesSaved")}
        </Button>
        <span aria-live="polite" className="text-success-text">
          {copied ? t("mfa.copied") : null}
        </span>
      </div>
    </div>
  );
}

const KEY = ["me", "mfa"];

/** A form that asks for the password again before an action on the person's own two-step
 * verification (turning it off, new recovery codes). */
function PasswordAgainForm<T>({
  id,
  title,
  intro,
  action,
  variant,
  send,
  onDone,
}: {
  id: string;
  title: string;
  intro: string;
  action: string;
  variant: "danger" | "secondary";
  send: (password: string) => Promise<T>;
  onDone: (answer: T) => void;
}) {
  const [password, setPassword] = useState("");
  const [errors, setErrors] = useState<Record<string, string>>({});
  const run = useMutation({
    mutationFn: () => send(password),
    onSuccess: (answer) => {
      setPassword("");
      onDone(answer);
    },
    onError: (error) => setErrors(error instanceof ApiError ? fieldErrors(error.problem) : {}),
  });
  function submit(event: FormEvent) {
    event.preventDefault();
    if (!password) {
      setErrors({ password: t("profile.passwordRequired") });
      return;
    }
    setErrors({});
    run.mutate();
  }
  return (
    <form className="space-y-3" onSubmit={submit} noValidate aria-labelledby={`${id}-heading`}>
      <h3 id={`${id}-heading`} className="font-semibold">
        {title}
      </h3>
      <p className="text-fg-muted">{intro}</p>
      <Field label={t("profile.currentPassword")} error={errors.password} required>
        {(p) => (
          <Input {...p} className="max-w-64" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} />
        )}
      </Field>
      {run.isError && !Object.keys(errors).length ? <Alert>{t("mfa.failed", { reason: describeError(run.error) })}</Alert> : null}
      <Button type="submit" variant={variant} busy={run.isPending}>
        {action}
      </Button>
    </form>
  );
}

/** My profile's "Two-step verification": its state, the enrolment, the recovery codes once,
 * and turning it off. */
export function TwoStepCard() {
  const client = useQueryClient();
  const state = useQuery({ queryKey: KEY, queryFn: ({ signal }) => ok(api.GET("/v1/me/mfa", { signal })) });
  const [enrolment, setEnrolment] = useState<Enrolment | null>(null);
  const [codes, setCodes] = useState<string[] | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [codeError, setCodeError] = useState<string | null>(null);
  // The codes on show are new ones for an enrolment that was on already, not a new enrolment's.
  const [renewed, setRenewed] = useState(false);
  const start = useMutation({
    mutationFn: () => ok(api.POST("/v1/me/mfa/totp")),
    onSuccess: (next) => {
      setNotice(null);
      setEnrolment(next);
    },
  });
  const confirm = useMutation({
    mutationFn: (code: string) => ok(api.POST("/v1/me/mfa/totp/confirm", { body: { code } })),
    onSuccess: (answer) => {
      setEnrolment(null);
      setCodeError(null);
      setCodes(answer.recovery_codes);
      void client.invalidateQueries({ queryKey: KEY });
    },
    onError: (error) => setCodeError(error instanceof ApiError && error.status === 422 ? t("mfa.wrongCode") : describeError(error)),
  });
  const data = state.data;
  return (
    <Card aria-labelledby="profile-mfa-heading">
      <h2 id="profile-mfa-heading" className="mb-1 flex items-center gap-2 font-semibold">
        {t("mfa.title")}
        {data ? <Badge tone={data.enabled ? "success" : "neutral"}>{data.enabled ? t("mfa.on") : t("mfa.off")}</Badge> : null}
      </h2>
      <p className="mb-3 text-fg-muted">{t("mfa.intro")}</p>
      {state.isPending ? <Spinner label={t("mfa.loading")} /> : null}
      {state.isError ? <Alert>{describeError(state.error)}</Alert> : null}
      {data?.required && !data.enabled ? (
        <div className="mb-3">
          <Alert tone="warning">{t("mfa.required")}</Alert>
        </div>
      ) : null}
      <div aria-live="polite">{notice ? <Alert tone="success">{notice}</Alert> : null}</div>
      {codes ? (
        <RecoveryCodes
          codes={codes}
          onDone={() => {
            setCodes(null);
            setNotice(renewed ? t("mfa.renewed") : t("mfa.turnedOn"));
            setRenewed(false);
          }}
        />
      ) : enrolment ? (
        <EnrolmentForm enrolment={enrolment} busy={confirm.isPending} error={codeError} onConfirm={(code) => confirm.mutate(code)} />
      ) : data?.enabled ? (
        <div className="space-y-4">
          <p>{t("mfa.onSince", { when: formatDateTime(data.confirmed_at ?? ""), left: data.recovery_codes_left })}</p>
          <PasswordAgainForm
            id="mfa-renew"
            title={t("mfa.renewTitle")}
            intro={t("mfa.renewIntro")}
            action={t("mfa.renew")}
            variant="secondary"
            send={(password) => ok(api.POST("/v1/me/mfa/recovery-codes", { body: { password } }))}
            onDone={(answer) => {
              setNotice(null);
              setRenewed(true);
              setCodes(answer.recovery_codes);
              void client.invalidateQueries({ queryKey: KEY });
            }}
          />
          <PasswordAgainForm
            id="mfa-disable"
            title={t("mfa.disableTitle")}
            intro={t("mfa.disableIntro")}
            action={t("mfa.disable")}
            variant="danger"
            send={(password) => ok(api.DELETE("/v1/me/mfa", { body: { password } }))}
            onDone={() => {
              setNotice(t("mfa.turnedOff"));
              void client.invalidateQueries({ queryKey: KEY });
            }}
          />
        </div>
      ) : data ? (
        <>
          {start.isError ? <Alert>{t("mfa.failed", { reason: describeError(start.error) })}</Alert> : null}
          <Button variant="primary" busy={start.isPending} onClick={() => start.mutate()}>
            {t("mfa.start")}
          </Button>
        </>
      ) : null}
    </Card>
  );
}
