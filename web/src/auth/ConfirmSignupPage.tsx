import { useState, type FormEvent } from "react";
import { Link, useLocation, useNavigate } from "react-router";
import { api, ok } from "../api/client";
import { ApiError, describeError } from "../api/problem";
import { homeFor } from "../app/home";
import { Alert, Button, Field, Input } from "../components/ui";
import { AuthLayout } from "./AuthLayout";
import { useAuth } from "./AuthProvider";
import { isChallenge } from "./SecondStep";
import { tokenFrom } from "./linkToken";

/** The sign-up e-mail links to /signup/confirm#token=… (see linkToken.ts). Confirming is a
 * deliberate click (a mail scanner that opens the link must not create the organisation). */

export default function ConfirmSignupPage() {
  const { signIn } = useAuth();
  const location = useLocation();
  const navigate = useNavigate();
  const [token] = useState(() => tokenFrom(location.hash, location.search));
  const [slug, setSlug] = useState("");
  const [slugTaken, setSlugTaken] = useState(false);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setErrors({});
    setFailure(null);
    try {
      const body = slugTaken && slug.trim() ? { token, slug: slug.trim() } : { token };
      const tokens = await ok(api.POST("/v1/signup/confirm", { body }));
      if (isChallenge(tokens)) {
        // Two-step verification: the sign-in page asks for the code.
        navigate("/login", { replace: true, state: { challenge: tokens } });
        return;
      }
      const me = await signIn(tokens);
      navigate(homeFor(me.role), { replace: true });
    } catch (error) {
      if (error instanceof ApiError) {
        setErrors(error.fieldErrors);
        if (error.status === 409) {
          setSlugTaken(true);
          setFailure("Someone took your organisation's short name meanwhile. Choose another one.");
          return;
        }
        if (error.fieldErrors.token) {
          setFailure("This link is not valid any more (it works once, for 24 hours). Sign up again.");
          return;
        }
      }
      setFailure(describeError(error));
    } finally {
      setBusy(false);
    }
  }

  if (!token) {
    return (
      <AuthLayout title="Confirm your organisation">
        <Alert tone="warning" title="The link is incomplete">
          Open the link from your sign-up e-mail again, or sign up again.
        </Alert>
        <p className="mt-4">
          <Link className="font-medium text-accent-text underline" to="/signup">Sign up</Link>
        </p>
      </AuthLayout>
    );
  }

  return (
    <AuthLayout
      title="Confirm your organisation"
      footer={
        <p>
          Not you? <Link className="font-medium text-accent-text underline" to="/signup">Sign up</Link> with another address.
        </p>
      }
    >
      <p className="mb-4 text-fg-muted">
        Your e-mail address is confirmed. Create the organisation and sign in as its administrator.
      </p>
      <form className="space-y-4" onSubmit={submit} noValidate>
        {failure ? <Alert tone="danger">{failure}</Alert> : null}
        {slugTaken ? (
          <Field label="Short name" description="Lower-case letters, digits and dashes." error={errors.slug} required>
            {(p) => <Input {...p} value={slug} onChange={(e) => setSlug(e.target.value)} />}
          </Field>
        ) : null}
        <Button type="submit" variant="primary" className="w-full" busy={busy}>
          Create organisation
        </Button>
      </form>
    </AuthLayout>
  );
}
