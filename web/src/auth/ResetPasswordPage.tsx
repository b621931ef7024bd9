import { useState, type FormEvent } from "react";
import { Link, useLocation } from "react-router";
import { api, ok } from "../api/client";
import { ApiError, describeError } from "../api/problem";
import { Alert, Button } from "../components/ui";
import { AuthLayout } from "./AuthLayout";
import { tokenFrom } from "./linkToken";
import { NewPasswordFields, useNewPassword } from "./NewPasswordFields";

/** The reset e-mail's link: /reset-password#token=…. Choosing the password ends every session
 * of the account; the person then signs in with it. */
export default function ResetPasswordPage() {
  const location = useLocation();
  const [token] = useState(() => tokenFrom(location.hash, location.search));
  const fields = useNewPassword();
  const [failure, setFailure] = useState<string | null>(null);
  const [linkDead, setLinkDead] = useState(false);
  const [done, setDone] = useState(false);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setFailure(null);
    if (!fields.check()) return;
    setBusy(true);
    try {
      await ok(api.POST("/v1/auth/password/reset", { body: { token, password: fields.password } }));
      setDone(true);
    } catch (e) {
      if (e instanceof ApiError && e.fieldErrors.token) setLinkDead(true);
      else if (e instanceof ApiError && e.fieldErrors.password) fields.refused(e.fieldErrors.password);
      else setFailure(describeError(e));
    } finally {
      setBusy(false);
    }
  }

  const again = (
    <Link className="font-medium text-accent-text underline" to="/forgot-password">
      Ask for a new link
    </Link>
  );
  if (done) {
    return (
      <AuthLayout title="Password changed">
        <Alert tone="success" title="Your new password is set">
          Every session of your account ended, on every device.
        </Alert>
        <p className="mt-4">
          <Link className="font-medium text-accent-text underline" to="/login">Sign in</Link> with your new password.
        </p>
      </AuthLayout>
    );
  }
  if (!token || linkDead) {
    return (
      <AuthLayout title="Reset your password">
        <Alert tone="warning" title="This link does not work">
          It may be incomplete, used already, or older than an hour.
        </Alert>
        <p className="mt-4">{again}</p>
      </AuthLayout>
    );
  }
  return (
    <AuthLayout title="Choose a new password" footer={<p>Link not working? {again}</p>}>
      <form className="space-y-4" onSubmit={submit} noValidate>
        {failure ? <Alert tone="danger">{failure}</Alert> : null}
        <NewPasswordFields state={fields} />
        <Button type="submit" variant="primary" className="w-full" busy={busy}>
          Set the new password
        </Button>
      </form>
    </AuthLayout>
  );
}
