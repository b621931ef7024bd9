import { useState, type FormEvent } from "react";
import { Link, useSearchParams } from "react-router";
import { api, ok } from "../api/client";
import { ApiError, describeError } from "../api/problem";
import { knownOrg, usePublicBranding } from "../branding/publicBranding";
import { Alert, Button, Field, Input, Spinner } from "../components/ui";
import { t } from "../i18n";
import { AuthLayout } from "./AuthLayout";
import { OrgBanner, usePublicColours } from "./BrandedAuth";

/** An employee registers as a requester of the organisation named by `?org=` (the sign-in
 * page links here when the organisation allows it: servicedesk/identity/registration.py). */
export default function RegisterPage() {
  const [params] = useSearchParams();
  const [org] = useState(() => knownOrg(params));
  const branding = usePublicBranding(org);
  usePublicColours(branding.data);
  const [form, setForm] = useState({ name: "", email: "", password: "" });
  const [sentTo, setSentTo] = useState<string | null>(null);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const name = branding.data?.display_name ?? null;
  const title = name ? t("register.titleAt", { name }) : t("register.title");
  const signIn = org ? `/login?org=${encodeURIComponent(org)}` : "/login";
  const footer = (
    <p>
      {t("register.haveAccount")}{" "}
      <Link className="font-medium text-accent-text underline" to={signIn}>
        {t("register.signIn")}
      </Link>
    </p>
  );

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!org) return;
    setBusy(true);
    setErrors({});
    setFailure(null);
    try {
      // Nothing is created yet: the account exists once the e-mailed link is followed.
      const accepted = await ok(api.POST("/v1/signup/requester", { body: { ...form, tenant: org } }));
      setSentTo(accepted.email);
    } catch (error) {
      if (error instanceof ApiError) {
        setErrors(error.fieldErrors);
        if (error.status === 403 && error.fieldErrors.tenant) {
          setFailure(t("register.closed"));
          return;
        }
      }
      setFailure(describeError(error));
    } finally {
      setBusy(false);
    }
  }

  if (!org) {
    return (
      <AuthLayout title={title} footer={footer}>
        <Alert tone="warning">{t("register.noOrg")}</Alert>
      </AuthLayout>
    );
  }
  if (branding.isPending) {
    return (
      <AuthLayout title={title}>
        <Spinner />
      </AuthLayout>
    );
  }
  if (!branding.data?.self_registration) {
    return (
      <AuthLayout title={title} footer={footer}>
        <Alert tone="warning">{t("register.closed")}</Alert>
      </AuthLayout>
    );
  }
  if (sentTo) {
    return (
      <AuthLayout title={t("register.sent")} footer={footer}>
        <Alert tone="info">{t("register.sentHelp", { email: sentTo })}</Alert>
      </AuthLayout>
    );
  }
  return (
    <AuthLayout title={title} footer={footer}>
      <OrgBanner branding={branding.data} />
      <p className="mb-4 text-fg-muted">{t("register.intro")}</p>
      <form className="space-y-4" onSubmit={submit} noValidate>
        {failure ? <Alert tone="danger">{failure}</Alert> : null}
        <Field label={t("register.name")} error={errors.name} required>
          {(p) => <Input {...p} autoComplete="name" value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} />}
        </Field>
        <Field label={t("register.email")} error={errors.email} required>
          {(p) => <Input {...p} type="email" autoComplete="email" value={form.email} onChange={(e) => setForm({ ...form, email: e.target.value })} />}
        </Field>
        <Field label={t("register.password")} description={t("register.passwordHelp")} error={errors.password} required>
          {(p) => (
            <Input {...p} type="password" autoComplete="new-password" value={form.password} onChange={(e) => setForm({ ...form, password: e.target.value })} />
          )}
        </Field>
        <Button type="submit" variant="primary" className="w-full" busy={busy}>
          {t("register.submit")}
        </Button>
      </form>
    </AuthLayout>
  );
}
