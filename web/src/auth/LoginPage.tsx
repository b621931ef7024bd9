import { useState, type FormEvent } from "react";
import { Link, Navigate, useNavigate, useSearchParams } from "react-router";
import { api, ok } from "../api/client";
import { ApiError, describeError } from "../api/problem";
import { homeFor } from "../app/home";
import { Alert, Button, Field, Input, Select } from "../components/ui";
import { AuthLayout } from "./AuthLayout";
import { useAuth } from "./AuthProvider";

export default function LoginPage() {
  const { state, signIn } = useAuth();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [tenant, setTenant] = useState("");
  const [tenants, setTenants] = useState<{ slug: string; name: string }[]>([]);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const next = params.get("next");
  if (state.status === "signedIn") return <Navigate to={next ?? homeFor(state.me.role)} replace />;

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setFailure(null);
    setErrors({});
    try {
      const tokens = await ok(
        api.POST("/v1/auth/login", { body: { email, password, tenant: tenant || null } }),
      );
      const me = await signIn(tokens);
      navigate(next?.startsWith("/") ? next : homeFor(me.role), { replace: true });
    } catch (error) {
      if (error instanceof ApiError && Array.isArray(error.problem?.tenants)) {
        // By name (the answer's "organisations"); an older API gave slugs only.
        const named = error.problem.organisations;
        setTenants(Array.isArray(named) ? (named as { slug: string; name: string }[]) : (error.problem.tenants as string[]).map((slug) => ({ slug, name: slug })));
        setFailure("Your account belongs to several organisations. Choose one.");
      } else if (error instanceof ApiError && error.status === 401) {
        setFailure("The e-mail address or password is not right.");
      } else {
        if (error instanceof ApiError) setErrors(error.fieldErrors);
        setFailure(describeError(error));
      }
    } finally {
      setBusy(false);
    }
  }

  return (
    <AuthLayout
      title="Sign in"
      footer={
        <p>
          New here? <Link className="font-medium text-accent-text underline" to="/signup">Create an organisation</Link>
        </p>
      }
    >
      {state.status === "signedOut" && state.reason === "expired" ? (
        <div className="mb-4">
          <Alert tone="info" title="Your session ended">Please sign in again.</Alert>
        </div>
      ) : null}
      <form className="space-y-4" onSubmit={submit} noValidate>
        {failure ? <Alert tone="danger">{failure}</Alert> : null}
        <Field label="E-mail" error={errors.email} required>
          {(p) => (
            <Input {...p} type="email" autoComplete="username" value={email} onChange={(e) => setEmail(e.target.value)} />
          )}
        </Field>
        <Field label="Password" error={errors.password} required>
          {(p) => (
            <Input
              {...p}
              type="password"
              autoComplete="current-password"
              value={password}
              onChange={(e) => setPassword(e.target.value)}
            />
          )}
        </Field>
        {tenants.length ? (
          <Field label="Organisation" error={errors.tenant} required>
            {(p) => (
              <Select {...p} value={tenant} onChange={(e) => setTenant(e.target.value)}>
                <option value="">Choose…</option>
                {tenants.map((org) => (
                  <option key={org.slug} value={org.slug}>
                    {org.name}
                  </option>
                ))}
              </Select>
            )}
          </Field>
        ) : null}
        <Button type="submit" variant="primary" className="w-full" busy={busy}>
          Sign in
        </Button>
        <p className="text-center">
          <Link className="text-accent-text underline" to="/forgot-password">
            Forgot password?
          </Link>
        </p>
      </form>
    </AuthLayout>
  );
}
