import { api } from "../api/client";
import type { components } from "../api/schema";
import { Card, Spinner } from "../components/ui";
import { t } from "../i18n";
import { okTagged, type Tagged } from "./api";
import { Checkbox } from "./fields";
import { EditorStatus, FailureAlert, FormActions } from "./forms";
import { useSettings, useSettingsForm, type SettingsSection } from "./settings";

type Security = components["schemas"]["SecuritySettings"];

export const securitySettings: SettingsSection<Security> = {
  key: ["admin", "settings", "security"],
  get: (signal) => okTagged(api.GET("/v1/settings/security", { signal })),
  put: (body, ifMatch) => okTagged(api.PUT("/v1/settings/security", { params: { header: { "If-Match": ifMatch } }, body })),
};

function SecurityForm({ settings }: { settings: Tagged<Security> }) {
  const editor = useSettingsForm(securitySettings, settings, {
    toForm: (tagged) => ({
      require_mfa_for_staff: tagged?.data.require_mfa_for_staff ?? false,
      sso_only: tagged?.data.sso_only ?? false,
    }),
    toBody: (form, base) => ({ ...base, require_mfa_for_staff: form.require_mfa_for_staff, sso_only: form.sso_only }),
    validate: () => ({}),
  });
  const { form, set, errors } = editor;
  return (
    <Card aria-labelledby="security-settings-heading">
      <h2 id="security-settings-heading" className="mb-3 font-semibold">
        {t("security.title")}
      </h2>
      <form className="space-y-4" onSubmit={editor.submit} noValidate>
        <Checkbox
          label={t("security.requireMfa")}
          description={t("security.requireMfaHelp")}
          checked={form.require_mfa_for_staff}
          onChange={(v) => set("require_mfa_for_staff", v)}
          error={errors.require_mfa_for_staff}
        />
        <Checkbox
          label={t("security.ssoOnly")}
          description={t("security.ssoOnlyHelp")}
          checked={form.sso_only}
          onChange={(v) => set("sso_only", v)}
          error={errors.sso_only}
        />
        <EditorStatus editor={editor} placed={["require_mfa_for_staff", "sso_only"]} />
        <FormActions editor={editor} saveLabel={t("security.save")} />
      </form>
    </Card>
  );
}

/** The security section of the tenant settings page: two-step verification for staff,
 * sign-in only through the organisation's providers. */
export function SecuritySettings() {
  const security = useSettings(securitySettings);
  return (
    <>
      {security.isPending ? <Spinner label={t("security.loading")} /> : null}
      {security.isError ? <FailureAlert error={security.error} /> : null}
      {security.data ? <SecurityForm settings={security.data} /> : null}
    </>
  );
}
