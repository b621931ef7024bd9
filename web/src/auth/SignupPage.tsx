import { useState, type FormEvent } from "react";
import { Link } from "react-router";
import { api, ok } from "../api/client";
import { ApiError, describeError } from "../api/problem";
import { Alert, Button, Field, Input } from "../components/ui";
import { AuthLayout } from "./AuthLayout";

function slugify(name: string): string {
  return name
    .toLowerCase()
    .normalize("NFKD")
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 40);
}

export default function SignupPage() {
  const [sentTo, setSentTo] = useState<string | null>(null);
  const [form, setForm] = useState({ organization_name: "", slug: "", name: "", email: "", password: "" });
  const [slugEdited, setSlugEdited] = useState(false);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  function set<K extends keyof typeof form>(key: K, value: string) {
    setForm((f) => {
      const next = { ...f, [key]: value };
      if (key === "organization_name" && !slugEdited) next.slug = slugify(value);
      return next;
    });
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setErrors({});
    setFailure(null);
    try {
      // Nothing is created yet: the organisation exists once the e-mailed link is followed.
      const accepted = await ok(api.POST("/v1/signup", { body: form }));
      setSentTo(accepted.email);
    } catch (error) {
      if (error instanceof ApiError) setErrors(error.fieldErrors);
      setFailure(describeError(error));
    } finally {
      setBusy(false);
    }
  }

  if (sentTo) {
    return (
      <AuthLayout title="Check your inbox">
        <Alert tone="info" title="Confirm your e-mail address">
          We sent a link to <strong>{sentTo}</strong>. Follow it to create your organisation and sign in. The link is valid for
          24 hours.
        </Alert>
        <p className="mt-4 text-fg-muted">
          No e-mail after a few minutes? Check your spam folder, or{" "}
          <button type="button" className="font-medium text-accent-text underline" onClick={() => setSentTo(null)}>
            sign up again
          </button>
          .
        </p>
      </AuthLayout>
    );
  }

  return (
    <AuthLayout
      title="Create your organisation"
      footer={
        <p>
          Already have an account? <Link className="font-medium text-accent-text underline" to="/login">Sign in</Link>
        </p>
      }
    >
      <form className="space-y-4" onSubmit={submit} noValidate>
        {failure ? <Alert tone="danger">{failure}</Alert> : null}
        <Field label="Organisation name" error={errors.organization_name} required>
          {(p) => <Input {...p} autoComplete="organization" value={form.organization_name} onChange={(e) => set("organization_name", e.target.value)} />}
        </Field>
        <Field
          label="Short name"
          description="Lower-case letters, digits and dashes; used to sign in when you belong to several organisations."
          error={errors.slug}
          required
        >
          {(p) => (
            <Input
              {...p}
              value={form.slug}
              onChange={(e) => {
                setSlugEdited(true);
                set("slug", e.target.value);
              }}
            />
          )}
        </Field>
        <Field label="Your name" error={errors.name} required>
          {(p) => <Input {...p} autoComplete="name" value={form.name} onChange={(e) => set("name", e.target.value)} />}
        </Field>
        <Field label="Work e-mail" error={errors.email} required>
          {(p) => <Input {...p} type="email" autoComplete="email" value={form.email} onChange={(e) => set("email", e.target.value)} />}
        </Field>
        <Field label="Password" description="At least 12 characters." error={errors.password} required>
          {(p) => (
            <Input {...p} type="password" autoComplete="new-password" value={form.password} onChange={(e) => set("password", e.target.value)} />
          )}
        </Field>
        <Button type="submit" variant="primary" className="w-full" busy={busy}>
          Create organisation
        </Button>
      </form>
    </AuthLayout>
  );
}
