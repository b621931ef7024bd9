import { api } from "../api/client";
import type { components } from "../api/schema";
import { useAuth } from "../auth/AuthProvider";
import { Card, Field, Spinner, Textarea } from "../components/ui";
import { t } from "../i18n";
import { okTagged, type Tagged } from "./api";
import { Checkbox } from "./fields";
import { EditorStatus, type Errors, FailureAlert, FormActions } from "./forms";
import { useSettings, useSettingsForm, type SettingsSection } from "./settings";

type Portal = components["schemas"]["PortalSettings"];

export const portalSettings: SettingsSection<Portal> = {
  key: ["admin", "settings", "portal"],
  get: (signal) => okTagged(api.GET("/v1/settings/portal", { signal })),
  put: (body, ifMatch) => okTagged(api.PUT("/v1/settings/portal", { params: { header: { "If-Match": ifMatch } }, body })),
};

interface PortalForm {
  self_registration: boolean;
  allowed_domains: string;
}

const DOMAIN = /^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;

export function splitDomains(text: string): string[] {
  return text
    .split(/[\s,;]+/)
    .map((d) => d.trim().toLowerCase())
    .filter(Boolean);
}

function PortalSettingsForm({ settings, slug }: { settings: Tagged<Portal>; slug: string }) {
  const editor = useSettingsForm(portalSettings, settings, {
    toForm: (tagged): PortalForm => ({
      self_registration: tagged?.data.self_registration ?? false,
      allowed_domains: (tagged?.data.allowed_domains ?? []).join("\n"),
    }),
    toBody: (form, base) => ({ ...base, self_registration: form.self_registration, allowed_domains: splitDomains(form.allowed_domains) }),
    validate: (form) => {
      const errors: Errors = {};
      const bad = splitDomains(form.allowed_domains).find((d) => !DOMAIN.test(d));
      if (bad) errors.allowed_domains = t("portal.domainInvalid", { domain: bad });
      return errors;
    },
  });
  const { form, set, errors } = editor;
  const domainsError = errors.allowed_domains ?? Object.entries(errors).find(([k]) => k.startsWith("allowed_domains."))?.[1];
  const url = `${window.location.origin}/login?org=${slug}`;
  return (
    <Card aria-labelledby="portal-settings-heading">
      <h2 id="portal-settings-heading" className="mb-1 font-semibold">
        {t("portal.heading")}
      </h2>
      <p className="mb-3 text-fg-muted">{t("portal.intro")}</p>
      <form className="space-y-4" onSubmit={editor.submit} noValidate>
        <Checkbox label={t("portal.enabled")} checked={form.self_registration} onChange={(v) => set("self_registration", v)} error={errors.self_registration} />
        <Field label={t("portal.domains")} description={t("portal.domainsHelp")} error={domainsError}>
          {(p) => <Textarea {...p} rows={3} value={form.allowed_domains} onChange={(e) => set("allowed_domains", e.target.value)} />}
        </Field>
        {settings.data.self_registration ? <p className="text-fg-muted">{t("portal.link", { url })}</p> : null}
        <EditorStatus editor={editor} placed={["self_registration", "allowed_domains"]} />
        <FormActions editor={editor} saveLabel={t("portal.save")} />
      </form>
    </Card>
  );
}

/** Self-registration's section of the tenant settings page (GET/PUT /v1/settings/portal). */
export function PortalSettings() {
  const portal = useSettings(portalSettings);
  const { state } = useAuth();
  const slug = state.status === "signedIn" ? state.me.tenant.slug : "";
  return (
    <>
      {portal.isPending ? <Spinner label={t("portal.loading")} /> : null}
      {portal.isError ? <FailureAlert error={portal.error} /> : null}
      {portal.data ? <PortalSettingsForm settings={portal.data} slug={slug} /> : null}
    </>
  );
}
