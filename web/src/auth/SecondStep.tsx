import { useState, type FormEvent } from "react";
import { api, ok } from "../api/client";
import { ApiError, describeError } from "../api/problem";
import type { components } from "../api/schema";
import type { TokenResponse } from "../api/types";
import { Alert, Button, Field, Input } from "../components/ui";
import { t } from "../i18n";
import { EnrolmentForm, RecoveryCodes, type Enrolment } from "../profile/TwoStep";

export type MfaChallenge = components["schemas"]["MfaChallenge"];

/** A sign-in's answer that is not a session yet: a code is asked, or an enrolment. */
export function isChallenge(answer: TokenResponse | MfaChallenge): answer is MfaChallenge {
  return "mfa_token" in answer;
}

/** The code (or a recovery code) after the password. */
function CodeStep({ token, onSignedIn, onRestart }: { token: string; onSignedIn: (tokens: TokenResponse) => Promise<void>; onRestart: () => void }) {
  const [recovery, setRecovery] = useState(false);
  const [value, setValue] = useState("");
  const [invalid, setInvalid] = useState<string | undefined>();
  const [failure, setFailure] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    const entered = value.trim();
    if (!recovery && !/^[0-9]{6}$/.test(entered.replace(/\s/g, ""))) {
      setInvalid(t("login.mfaCodeFormat"));
      return;
    }
    if (recovery && !entered) {
      setInvalid(t("profile.passwordRequired"));
      return;
    }
    setInvalid(undefined);
    setFailure(null);
    setBusy(true);
    try {
      const body = recovery ? { mfa_token: token, recovery_code: entered } : { mfa_token: token, code: entered.replace(/\s/g, "") };
      await onSignedIn(await ok(api.POST("/v1/auth/mfa", { body })));
    } catch (error) {
      setFailure(error instanceof ApiError && error.status === 401 ? t("login.mfaFailed") : describeError(error));
      setValue("");
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="space-y-4" onSubmit={submit} noValidate aria-labelledby="mfa-step-heading">
      <h2 id="mfa-step-heading" className="font-semibold">
        {t("login.mfaTitle")}
      </h2>
      <p>{recovery ? t("login.mfaRecoveryIntro") : t("login.mfaIntro")}</p>
      {failure ? <Alert tone="danger">{failure}</Alert> : null}
      <Field label={recovery ? t("login.mfaRecoveryCode") : t("login.mfaCode")} error={invalid} required>
        {(p) =>
          recovery ? (
            <Input {...p} autoComplete="off" spellCheck={false} value={value} onChange={(e) => setValue(e.target.value)} />
          ) : (
            <Input {...p} inputMode="numeric" autoComplete="one-time-code" maxLength={6} value={value} onChange={(e) => setValue(e.target.value)} />
          )
        }
      </Field>
      <Button type="submit" variant="primary" className="w-full" busy={busy}>
        {t("login.mfaVerify")}
      </Button>
      <div className="flex flex-wrap justify-between gap-2">
        <Button
          variant="ghost"
          size="sm"
          onClick={() => {
            setRecovery(!recovery);
            setValue("");
            setInvalid(undefined);
          }}
        >
          {recovery ? t("login.mfaUseApp") : t("login.mfaUseRecovery")}
        </Button>
        <Button variant="ghost" size="sm" onClick={onRestart}>
          {t("login.mfaStartOver")}
        </Button>
      </div>
    </form>
  );
}

/** The enrolment an organisation requires before a staff member's first session. */
function EnrolStep({ token, onSignedIn, onRestart }: { token: string; onSignedIn: (tokens: TokenResponse) => Promise<void>; onRestart: () => void }) {
  const [enrolment, setEnrolment] = useState<Enrolment | null>(null);
  const [done, setDone] = useState<{ tokens: TokenResponse; codes: string[] } | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const [codeError, setCodeError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function start() {
    setBusy(true);
    setFailure(null);
    try {
      setEnrolment(await ok(api.POST("/v1/auth/mfa/totp", { body: { mfa_token: token } })));
    } catch (error) {
      setFailure(error instanceof ApiError && error.status === 401 ? t("login.mfaFailed") : describeError(error));
    } finally {
      setBusy(false);
    }
  }

  async function confirm(code: string) {
    setBusy(true);
    setCodeError(null);
    try {
      const answer = await ok(api.POST("/v1/auth/mfa/totp/confirm", { body: { mfa_token: token, code } }));
      setDone({ tokens: answer, codes: answer.recovery_codes });
    } catch (error) {
      if (error instanceof ApiError && error.status === 422) setCodeError(t("mfa.wrongCode"));
      else setFailure(error instanceof ApiError && error.status === 401 ? t("login.mfaFailed") : describeError(error));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="space-y-4" aria-labelledby="mfa-enrol-heading">
      <h2 id="mfa-enrol-heading" className="font-semibold">
        {t("login.enrolTitle")}
      </h2>
      {failure ? <Alert tone="danger">{failure}</Alert> : null}
      {done ? (
        <RecoveryCodes codes={done.codes} onDone={() => void onSignedIn(done.tokens)} />
      ) : enrolment ? (
        <EnrolmentForm enrolment={enrolment} busy={busy} error={codeError} onConfirm={(code) => void confirm(code)} />
      ) : (
        <>
          <p>{t("login.enrolIntro")}</p>
          <Button variant="primary" className="w-full" busy={busy} onClick={() => void start()}>
            {t("login.enrolStart")}
          </Button>
        </>
      )}
      <Button variant="ghost" size="sm" onClick={onRestart}>
        {t("login.mfaStartOver")}
      </Button>
    </div>
  );
}

/** The sign-in's step after a right password, whichever the answer asked for. */
export function SecondStep({
  challenge,
  onSignedIn,
  onRestart,
}: {
  challenge: MfaChallenge;
  onSignedIn: (tokens: TokenResponse) => Promise<void>;
  onRestart: () => void;
}) {
  return challenge.mfa_enrolment_required ? (
    <EnrolStep token={challenge.mfa_token} onSignedIn={onSignedIn} onRestart={onRestart} />
  ) : (
    <CodeStep token={challenge.mfa_token} onSignedIn={onSignedIn} onRestart={onRestart} />
  );
}
