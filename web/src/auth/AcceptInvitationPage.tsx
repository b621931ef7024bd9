import { useState, type FormEvent } from "react";
import { Link, useLocation, useNavigate } from "react-router";
import { api, ok } from "../api/client";
import { ApiError, describeError } from "../api/problem";
import { homeFor } from "../app/home";
import { Alert, Button, Field, Input } from "../components/ui";
import { AuthLayout } from "./AuthLayout";
import { useAuth } from "./AuthProvider";
import { isChallenge } from "./SecondStep";

/** The invitation e-mail links to /accept-invitation#token=…: the token stays out of
 * server logs and Referer headers because a fragment is never sent. */
function tokenFrom(hash: string, search: string): string {
  const fromHash = new URLSearchParams(hash.replace(/^#/, "")).get("token");
  return fromHash ?? new URLSearchParams(search).get("token") ?? "";
}

export default function AcceptInvitationPage() {
  const { signIn } = useAuth();
  const location = useLocation();
  const navigate = useNavigate();
  const [token] = useState(() => tokenFrom(location.hash, location.search));
  const [name, setName] = useState("");
  const [password, setPassword] = useState("");
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setErrors({});
    setFailure(null);
    try {
      const tokens = await ok(
        api.POST("/v1/auth/accept-invitation", { body: { token, name: name.trim() || null, password } }),
      );
      if (isChallenge(tokens)) {
        // Two-step verification: the sign-in page asks for the code.
        navigate("/login", { replace: true, state: { challenge: tokens } });
        return;
      }
      const me = await signIn(tokens);
      navigate(homeFor(me.role), { replace: true });
    } catch (error) {
      if (error instanceof ApiError) setErrors(error.fieldErrors);
      setFailure(
        error instanceof ApiError && error.fieldErrors.token
          ? "This invitation link is not valid any more. Ask your administrator for a new one."
          : describeError(error),
      );
    } finally {
      setBusy(false);
    }
  }

  if (!token) {
    return (
      <AuthLayout title="Accept invitation">
        <Alert tone="warning" title="The link is incomplete">
          Open the link from your invitation e-mail again, or ask your administrator to send a new one.
        </Alert>
        <p className="mt-4">
          <Link className="font-medium text-accent-text underline" to="/login">Go to sign in</Link>
        </p>
      </AuthLayout>
    );
  }

  return (
    <AuthLayout title="Accept invitation">
      <p className="mb-4 text-fg-muted">
        Choose a password to join. If you already have an account, leave the name empty and enter your current password.
      </p>
      <form className="space-y-4" onSubmit={submit} noValidate>
        {failure ? <Alert tone="danger">{failure}</Alert> : null}
        <Field label="Your name" error={errors.name}>
          {(p) => <Input {...p} autoComplete="name" value={name} onChange={(e) => setName(e.target.value)} />}
        </Field>
        <Field label="Password" description="At least 12 characters." error={errors.password} required>
          {(p) => (
            <Input {...p} type="password" autoComplete="new-password" value={password} onChange={(e) => setPassword(e.target.value)} />
          )}
        </Field>
        <Button type="submit" variant="primary" className="w-full" busy={busy}>
          Join
        </Button>
      </form>
    </AuthLayout>
  );
}
