import { useState } from "react";
import { api, ok } from "../api/client";
import type { components } from "../api/schema";
import { Button, Card, Field, Input, Select, Spinner, Textarea } from "../components/ui";
import { t, type MessageKey } from "../i18n";
import { okTagged, type Tagged } from "./api";
import { Checkbox, toInt } from "./fields";
import { EditorStatus, type Errors, FailureAlert, FormActions } from "./forms";
import { splitDomains } from "./PortalSettings";
import { useSettings, useSettingsForm, type SettingsSection } from "./settings";

type Directory = components["schemas"]["LdapSettingsPublic"];
type DirectoryBody = Directory & { password?: string | null };
type TestResult = components["schemas"]["DirectoryTestResult"];
type Role = Directory["default_role"];

const ROLES: Role[] = ["requester", "agent", "manager", "admin"];
const ROLE_LABEL: Record<Role, MessageKey> = {
  requester: "directory.role.requester",
  agent: "directory.role.agent",
  manager: "directory.role.manager",
  admin: "directory.role.admin",
};

export const directorySettings: SettingsSection<DirectoryBody> = {
  key: ["admin", "settings", "ldap"],
  get: (signal) => okTagged(api.GET("/v1/settings/ldap", { signal })),
  put: ({ has_password: _has, ...body }, ifMatch) =>
    okTagged(api.PUT("/v1/settings/ldap", { params: { header: { "If-Match": ifMatch } }, body })),
};

interface GroupRow {
  group_dn: string;
  role: Role;
}

interface DirectoryForm {
  enabled: boolean;
  host: string;
  port: string;
  mode: "ldaps" | "starttls";
  ca_certificate: string;
  bind_dn: string;
  password: string;
  user_search_base: string;
  user_filter: string;
  group_lookup: "member_of" | "search";
  group_search_base: string;
  group_roles: GroupRow[];
  default_role: Role;
  domains: string;
}

function toForm(tagged: Tagged<DirectoryBody> | null): DirectoryForm {
  const d = tagged?.data;
  return {
    enabled: d?.enabled ?? false,
    host: d?.host ?? "",
    port: String(d?.port ?? 636),
    mode: d?.mode ?? "ldaps",
    ca_certificate: d?.ca_certificate ?? "",
    bind_dn: d?.bind_dn ?? "",
    password: "",
    user_search_base: d?.user_search_base ?? "",
    user_filter: d?.user_filter ?? "(uid={username})",
    group_lookup: d?.group_lookup ?? "member_of",
    group_search_base: d?.group_search_base ?? "",
    group_roles: (d?.group_roles ?? []).map((g) => ({ group_dn: g.group_dn, role: g.role })),
    default_role: d?.default_role ?? "requester",
    domains: (d?.domains ?? []).join("\n"),
  };
}

function DirectoryForm({ settings }: { settings: Tagged<DirectoryBody> }) {
  const editor = useSettingsForm(directorySettings, settings, {
    toForm,
    toBody: (form, base) => ({
      ...base,
      enabled: form.enabled,
      host: form.host.trim(),
      port: toInt(form.port) ?? 0,
      mode: form.mode,
      ca_certificate: form.ca_certificate.trim() || null,
      bind_dn: form.bind_dn.trim(),
      password: form.password ? form.password : null,
      user_search_base: form.user_search_base.trim(),
      user_filter: form.user_filter.trim(),
      group_lookup: form.group_lookup,
      group_search_base: form.group_search_base.trim(),
      group_roles: form.group_roles.filter((g) => g.group_dn.trim()).map((g) => ({ group_dn: g.group_dn.trim(), role: g.role })),
      default_role: form.default_role,
      domains: splitDomains(form.domains),
    }),
    validate: (form) => {
      const errors: Errors = {};
      const port = toInt(form.port);
      if (port === null || port < 1 || port > 65535) errors.port = t("directory.portInvalid");
      if (!form.user_filter.includes("{username}") && !form.user_filter.includes("{email}")) errors.user_filter = t("directory.filterInvalid");
      return errors;
    },
  });
  const { form, set, errors } = editor;
  const [username, setUsername] = useState("");
  const [result, setResult] = useState<TestResult | null>(null);
  const [testError, setTestError] = useState<unknown>(null);
  const [testing, setTesting] = useState(false);

  async function runTest() {
    setTesting(true);
    setTestError(null);
    setResult(null);
    try {
      setResult(await ok(api.POST("/v1/settings/ldap/test", { body: { username } })));
    } catch (error) {
      setTestError(error);
    } finally {
      setTesting(false);
    }
  }

  const setRow = (index: number, row: Partial<GroupRow>) =>
    set(
      "group_roles",
      form.group_roles.map((g, i) => (i === index ? { ...g, ...row } : g)),
    );
  const placed = ["enabled", "host", "port", "mode", "ca_certificate", "bind_dn", "password", "user_search_base", "user_filter", "group_lookup", "group_search_base", "group_roles", "default_role", "domains"];

  return (
    <Card aria-labelledby="directory-settings-heading">
      <h2 id="directory-settings-heading" className="mb-1 font-semibold">
        {t("directory.heading")}
      </h2>
      <p className="mb-3 text-fg-muted">{t("directory.intro")}</p>
      <form className="space-y-4" onSubmit={editor.submit} noValidate>
        <Checkbox label={t("directory.enabled")} checked={form.enabled} onChange={(v) => set("enabled", v)} error={errors.enabled} />
        <div className="grid gap-4 sm:grid-cols-3">
          <Field label={t("directory.host")} error={errors.host} className="sm:col-span-2">
            {(p) => <Input {...p} value={form.host} onChange={(e) => set("host", e.target.value)} autoComplete="off" />}
          </Field>
          <Field label={t("directory.port")} error={errors.port}>
            {(p) => <Input {...p} inputMode="numeric" value={form.port} onChange={(e) => set("port", e.target.value)} />}
          </Field>
        </div>
        <Field label={t("directory.mode")} description={t("directory.modeHelp")} error={errors.mode}>
          {(p) => (
            <Select {...p} value={form.mode} onChange={(e) => set("mode", e.target.value as DirectoryForm["mode"])}>
              <option value="ldaps">{t("directory.modeLdaps")}</option>
              <option value="starttls">{t("directory.modeStarttls")}</option>
            </Select>
          )}
        </Field>
        <Field label={t("directory.ca")} description={t("directory.caHelp")} error={errors.ca_certificate}>
          {(p) => <Textarea {...p} rows={3} className="font-mono" value={form.ca_certificate} onChange={(e) => set("ca_certificate", e.target.value)} />}
        </Field>
        <Field label={t("directory.bindDn")} error={errors.bind_dn}>
          {(p) => <Input {...p} value={form.bind_dn} onChange={(e) => set("bind_dn", e.target.value)} autoComplete="off" />}
        </Field>
        <Field label={t("directory.password")} description={settings.data.has_password ? t("directory.passwordKept") : t("directory.passwordNone")} error={errors.password}>
          {(p) => <Input {...p} type="password" autoComplete="new-password" value={form.password} onChange={(e) => set("password", e.target.value)} />}
        </Field>
        <Field label={t("directory.searchBase")} error={errors.user_search_base}>
          {(p) => <Input {...p} value={form.user_search_base} onChange={(e) => set("user_search_base", e.target.value)} />}
        </Field>
        <Field label={t("directory.filter")} description={t("directory.filterHelp")} error={errors.user_filter}>
          {(p) => <Input {...p} className="font-mono" value={form.user_filter} onChange={(e) => set("user_filter", e.target.value)} />}
        </Field>
        <Field label={t("directory.groupLookup")} error={errors.group_lookup}>
          {(p) => (
            <Select {...p} value={form.group_lookup} onChange={(e) => set("group_lookup", e.target.value as DirectoryForm["group_lookup"])}>
              <option value="member_of">{t("directory.groupLookupMemberOf")}</option>
              <option value="search">{t("directory.groupLookupSearch")}</option>
            </Select>
          )}
        </Field>
        {form.group_lookup === "search" ? (
          <Field label={t("directory.groupSearchBase")} error={errors.group_search_base}>
            {(p) => <Input {...p} value={form.group_search_base} onChange={(e) => set("group_search_base", e.target.value)} />}
          </Field>
        ) : null}
        <fieldset className="space-y-2">
          <legend className="font-medium">{t("directory.groupRoles")}</legend>
          <p className="text-fg-muted">{t("directory.groupRolesHelp")}</p>
          {form.group_roles.length ? (
            <table className="w-full text-left">
              <thead>
                <tr>
                  <th scope="col" className="py-1 pr-2 font-medium">
                    {t("directory.groupDn")}
                  </th>
                  <th scope="col" className="py-1 pr-2 font-medium">
                    {t("directory.role")}
                  </th>
                  <th scope="col" className="py-1">
                    <span className="sr-only">{t("directory.actions")}</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {form.group_roles.map((row, index) => (
                  <tr key={index}>
                    <td className="py-1 pr-2">
                      <Input aria-label={t("directory.groupDnRow", { n: index + 1 })} value={row.group_dn} onChange={(e) => setRow(index, { group_dn: e.target.value })} />
                    </td>
                    <td className="py-1 pr-2">
                      <Select aria-label={t("directory.roleRow", { n: index + 1 })} value={row.role} onChange={(e) => setRow(index, { role: e.target.value as Role })}>
                        {ROLES.map((r) => (
                          <option key={r} value={r}>
                            {t(ROLE_LABEL[r])}
                          </option>
                        ))}
                      </Select>
                    </td>
                    <td className="py-1">
                      <Button
                        type="button"
                        variant="secondary"
                        onClick={() =>
                          set(
                            "group_roles",
                            form.group_roles.filter((_, i) => i !== index),
                          )
                        }
                      >
                        {t("directory.removeRow", { n: index + 1 })}
                      </Button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : null}
          {errors.group_roles ? <p className="text-danger-text">{errors.group_roles}</p> : null}
          <Button type="button" variant="secondary" onClick={() => set("group_roles", [...form.group_roles, { group_dn: "", role: "agent" }])}>
            {t("directory.addRow")}
          </Button>
        </fieldset>
        <Field label={t("directory.defaultRole")} error={errors.default_role}>
          {(p) => (
            <Select {...p} value={form.default_role} onChange={(e) => set("default_role", e.target.value as Role)}>
              {ROLES.map((r) => (
                <option key={r} value={r}>
                  {t(ROLE_LABEL[r])}
                </option>
              ))}
            </Select>
          )}
        </Field>
        <Field label={t("directory.domains")} description={t("directory.domainsHelp")} error={errors.domains}>
          {(p) => <Textarea {...p} rows={2} value={form.domains} onChange={(e) => set("domains", e.target.value)} />}
        </Field>
        <EditorStatus editor={editor} placed={placed} />
        <FormActions editor={editor} saveLabel={t("directory.save")} />
      </form>
      <div className="mt-6 space-y-3 border-t border-border pt-4">
        <h3 className="font-medium">{t("directory.testHeading")}</h3>
        <p className="text-fg-muted">{t("directory.testHelp")}</p>
        <div className="flex flex-wrap items-end gap-2">
          <Field label={t("directory.testUser")} className="min-w-64">
            {(p) => <Input {...p} value={username} onChange={(e) => setUsername(e.target.value)} autoComplete="off" />}
          </Field>
          <Button type="button" onClick={runTest} disabled={!username.trim() || testing}>
            {t("directory.testButton")}
          </Button>
        </div>
        {testing ? <Spinner label={t("directory.testing")} /> : null}
        {testError ? <FailureAlert error={testError} /> : null}
        {result ? (
          <div role="status" data-testid="directory-test-result" className="space-y-1">
            {!result.ok ? (
              <p className="text-danger-text">{t("directory.testFailed", { error: result.error ?? "" })}</p>
            ) : !result.found ? (
              <p>{t("directory.testNotFound")}</p>
            ) : (
              <>
                <p>{t("directory.testFound", { dn: result.dn ?? "", email: result.email ?? "—" })}</p>
                <p>{t("directory.testRole", { role: result.role ? t(ROLE_LABEL[result.role]) : "—" })}</p>
                {result.groups?.length ? (
                  <ul className="list-disc pl-5">
                    {result.groups.map((g) => (
                      <li key={g} className="font-mono">
                        {g}
                      </li>
                    ))}
                  </ul>
                ) : null}
              </>
            )}
          </div>
        ) : null}
      </div>
    </Card>
  );
}

/** The directory (LDAP / Active Directory) section of the tenant settings page. */
export function DirectorySettings() {
  const directory = useSettings(directorySettings);
  return (
    <>
      {directory.isPending ? <Spinner label={t("directory.loading")} /> : null}
      {directory.isError ? <FailureAlert error={directory.error} /> : null}
      {directory.data ? <DirectoryForm settings={directory.data} /> : null}
    </>
  );
}
