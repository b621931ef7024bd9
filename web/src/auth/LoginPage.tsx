import { useState, type FormEvent } from "react";
import { Link, Navigate, useLocation, useNavigate, useSearchParams } from "react-router";
import { api, ok } from "../api/client";
import { ApiError, describeError } from "../api/problem";
import { homeFor } from "../app/home";
import { knownOrg, usePublicBranding } from "../branding/publicBranding";
import type { TokenResponse } from "../api/types";
import { Alert, Button, Field, Input, Select } from "../components/ui";
import { t } from "../i18n";
import { AuthLayout } from "./AuthLayout";
import { useAuth } from "./AuthProvider";
import { OrgBanner, usePublicColours } from "./BrandedAuth";
import { SsoOffers, useDirectoryUserNames } from "./SsoOffers";
import { isChallenge, SecondStep, type MfaChallenge } from "./SecondStep";

export default function LoginPage() {
  const { state, signIn } = useAuth();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const [org] = useState(() => knownOrg(params));
  const branding = usePublicBranding(org).data;
  usePublicColours(branding);
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  // ?org=<slug> names the organisation to sign in to (a link from its own page).
  const [tenant, setTenant] = useState(() => (org !== null && params.get("org") === org ? org : ""));
  const [tenants, setTenants] = useState<{ slug: string; name: string }[]>([]);
  // An organisation with a directory (LDAP) signs in with a user name too (sent with it).
  const userNames = useDirectoryUserNames(org);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  // After a right password: the code (or the enrolment) still to come. Another sign-in page
  // (an invitation, a confirmed sign-up) hands its challenge over in the location's state.
  const location = useLocation();
  const handed = (location.state as { challenge?: MfaChallenge } | null)?.challenge ?? null;
  const [challenge, setChallenge] = useState<MfaChallenge | null>(handed);

  const next = params.get("next");
  if (state.status === "signedIn") return <Navigate to={next ?? homeFor(state.me.role)} replace />;

  async function finish(tokens: TokenResponse) {
    const me = await signIn(tokens);
    navigate(next?.startsWith("/") ? next : homeFor(me.role), { replace: true });
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setFailure(null);
    setErrors({});
    try {
      const answer = await ok(
        api.POST("/v1/auth/login", { body: { email, password, tenant: tenant || (userNames ? org : null) } }),
      );
      if (isChallenge(answer)) {
        setPassword("");
        setChallenge(answer);
        return;
      }
      await finish(answer);
    } catch (error) {
      if (error instanceof ApiError && Array.isArray(error.problem?.tenants)) {
        // By name (the answer's "organisations"); an older API gave slugs only.
        const named = error.problem.organisations;
        setTenants(Array.isArray(named) ? (named as { slug: string; name: string }[]) : (error.problem.tenants as string[]).map((slug) => ({ slug, name: slug })));
        setFailure(t("login.severalOrganisations"));
      } else if (error instanceof ApiError && error.status === 401) {
        setFailure(t("login.wrongCredentials"));
      } else {
        if (error instanceof ApiError) setErrors(error.fieldErrors);
        setFailure(describeError(error));
      }
    } finally {
      setBusy(false);
    }
  }

  const name = branding?.display_name ?? null;
  return (
    <AuthLayout
      title={name ? t("login.titleAt", { name }) : t("login.title")}
      footer={
        <div className="space-y-2">
          {org && branding?.self_registration && name ? (
            <p>
              {t("login.createAccountHelp", { name })}{" "}
              <Link className="font-medium text-accent-text underline" to={`/register?org=${encodeURIComponent(org)}`}>
                {t("login.createAccount")}
              </Link>
            </p>
          ) : null}
          <p>
            {t("login.newHere")}{" "}
            <Link className="font-medium text-accent-text underline" to="/signup">
              {t("login.createOrganisation")}
            </Link>
          </p>
        </div>
      }
    >
      <OrgBanner branding={branding} />
      {state.status === "signedOut" && state.reason === "expired" ? (
        <div className="mb-4">
          <Alert tone="info" title={t("login.sessionEnded")}>
            {t("login.signInAgain")}
          </Alert>
        </div>
      ) : null}
      {challenge ? (
        <SecondStep
          challenge={challenge}
          onSignedIn={finish}
          onRestart={() => {
            setChallenge(null);
            navigate(location.pathname + location.search, { replace: true, state: null });
          }}
        />
      ) : (
      <>
      <SsoOffers email={email} org={org} next={next} />
      <form className="space-y-4" onSubmit={submit} noValidate>
        {failure ? <Alert tone="danger">{failure}</Alert> : null}
        <Field label={userNames ? t("login.emailOrUserName") : t("login.email")} error={errors.email} required>
          {(p) => (
            <Input {...p} type={userNames ? "text" : "email"} autoComplete="username" autoCapitalize="none" spellCheck={false} value={email} onChange={(e) => setEmail(e.target.value)} />
          )}
        </Field>
        <Field label={t("login.password")} error={errors.password} required>
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
          <Field label={t("login.organisation")} error={errors.tenant} required>
            {(p) => (
              <Select {...p} value={tenant} onChange={(e) => setTenant(e.target.value)}>
                <option value="">{t("login.choose")}</option>
                {tenants.map((o) => (
                  <option key={o.slug} value={o.slug}>
                    {o.name}
                  </option>
                ))}
              </Select>
            )}
          </Field>
        ) : null}
        <Button type="submit" variant="primary" className="w-full" busy={busy}>
          {t("login.submit")}
        </Button>
        <p className="text-center">
          <Link className="text-accent-text underline" to="/forgot-password">
            {t("login.forgot")}
          </Link>
        </p>
      </form>
      </>
      )}
    </AuthLayout>
  );
}
