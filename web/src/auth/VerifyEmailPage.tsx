import { useState, type FormEvent } from "react";
import { Link, useLocation } from "react-router";
import { api, ok } from "../api/client";
import { ApiError, describeError } from "../api/problem";
import { Alert, Button, Field, Input } from "../components/ui";
import { AuthLayout } from "./AuthLayout";
import { tokenFrom } from "./linkToken";

/** The verification e-mail's link: /verify-email#token=…. Verifying is a click, so a mail
 * scanner opening the link verifies nothing. A dead link offers a new one (the same answer
 * whatever the address). */
export default function VerifyEmailPage() {
  const location = useLocation();
  const [token] = useState(() => tokenFrom(location.hash, location.search));
  const [state, setState] = useState<"ready" | "verified" | "dead" | "resent">(token ? "ready" : "dead");
  const [email, setEmail] = useState("");
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function run(action: () => Promise<void>) {
    setBusy(true);
    setFailure(null);
    setErrors({});
    try {
      await action();
    } catch (e) {
      if (e instanceof ApiError && e.fieldErrors.token) setState("dead");
      else {
        if (e instanceof ApiError) setErrors(e.fieldErrors);
        setFailure(describeError(e));
      }
    } finally {
      setBusy(false);
    }
  }

  const verify = () =>
    run(async () => {
      await ok(api.POST("/v1/auth/verify-email", { body: { token } }));
      setState("verified");
    });
  const resend = (event: FormEvent) => {
    event.preventDefault();
    void run(async () => {
      await ok(api.POST("/v1/auth/verify-email/request", { body: { email } }));
      setState("resent");
    });
  };

  return (
    <AuthLayout
      title="Verify your e-mail address"
      footer={
        <p>
          <Link className="font-medium text-accent-text underline" to="/login">Sign in</Link>
        </p>
      }
    >
      {failure ? <Alert tone="danger">{failure}</Alert> : null}
      {state === "ready" ? (
        <>
          <p className="mb-4 text-fg-muted">Confirm that this address is yours.</p>
          <Button variant="primary" className="w-full" busy={busy} onClick={() => void verify()}>
            Verify my address
          </Button>
        </>
      ) : null}
      {state === "verified" ? <Alert tone="success" title="Address verified">Thank you. Nothing else to do.</Alert> : null}
      {state === "resent" ? (
        <Alert tone="info" title="Check your inbox">
          If this address belongs to an account that is not verified yet, a new link is on its way.
        </Alert>
      ) : null}
      {state === "dead" ? (
        <form className="space-y-4" onSubmit={resend} noValidate>
          <Alert tone="warning" title="This link does not work">
            It may be incomplete, used already, or expired. Ask for a new one.
          </Alert>
          <Field label="E-mail" error={errors.email} required>
            {(p) => <Input {...p} type="email" autoComplete="email" value={email} onChange={(e) => setEmail(e.target.value)} />}
          </Field>
          <Button type="submit" variant="primary" className="w-full" busy={busy}>
            Send a new link
          </Button>
        </form>
      ) : null}
    </AuthLayout>
  );
}
