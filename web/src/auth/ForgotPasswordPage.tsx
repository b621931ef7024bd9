import { useState, type FormEvent } from "react";
import { Link } from "react-router";
import { api, ok } from "../api/client";
import { ApiError, describeError } from "../api/problem";
import { Alert, Button, Field, Input } from "../components/ui";
import { AuthLayout } from "./AuthLayout";

/** Ask for a password-reset link. The answer is the same for any address (the API never
 * says whether it has an account), so the page says "if". Also the way a requester who
 * follows their tickets by e-mail link sets a first password. */
export default function ForgotPasswordPage() {
  const [email, setEmail] = useState("");
  const [sentTo, setSentTo] = useState<string | null>(null);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setErrors({});
    setFailure(null);
    try {
      await ok(api.POST("/v1/auth/password/forgot", { body: { email } }));
      setSentTo(email);
    } catch (error) {
      if (error instanceof ApiError) setErrors(error.fieldErrors);
      setFailure(
        error instanceof ApiError && error.status === 429
          ? "Several links were asked for this address already. Use the newest e-mail, or try again in an hour."
          : describeError(error),
      );
    } finally {
      setBusy(false);
    }
  }

  const footer = (
    <p>
      Remembered it? <Link className="font-medium text-accent-text underline" to="/login">Sign in</Link>
    </p>
  );
  if (sentTo) {
    return (
      <AuthLayout title="Check your inbox" footer={footer}>
        <p className="text-fg-muted">
          If <strong className="text-fg">{sentTo}</strong> belongs to an account, we sent it a link to choose a new
          password. The link works once, for one hour.
        </p>
      </AuthLayout>
    );
  }
  return (
    <AuthLayout title="Reset your password" footer={footer}>
      <p className="mb-4 text-fg-muted">Give the e-mail address you sign in with. We send it a link to choose a new password.</p>
      <form className="space-y-4" onSubmit={submit} noValidate>
        {failure ? <Alert tone="danger">{failure}</Alert> : null}
        <Field label="E-mail" error={errors.email} required>
          {(p) => <Input {...p} type="email" autoComplete="username" value={email} onChange={(e) => setEmail(e.target.value)} />}
        </Field>
        <Button type="submit" variant="primary" className="w-full" busy={busy}>
          Send the link
        </Button>
      </form>
    </AuthLayout>
  );
}
