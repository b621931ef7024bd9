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
import { useTeams } from "../tickets/queries";

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

/** One row of a group map: the group's DN and what it maps to (a role, a team's id). */
interface GroupRow {
  group_dn: string;
  value: string;
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
  group_teams: GroupRow[];
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
    group_roles: (d?.group_roles ?? []).map((g) => ({ group_dn: g.group_dn, value: g.role })),
    group_teams: (d?.group_teams ?? []).map((g) => ({ group_dn: g.group_dn, value: g.team_id })),
    default_role: d?.default_role ?? "requester",
    domains: (d?.domains ?? []).join("\n"),
  };
}

/** The rows whose DN is filled in, trimmed. */
function filled(rows: GroupRow[]): GroupRow[] {
  return rows.filter((g) => g.group_dn.trim()).map((g) => ({ group_dn: g.group_dn.trim(), value: g.value }));
}

/** A table of directory groups and what each maps to (group → role, group → team): one
 * row per group, its DN typed in and its target chosen, rows added and removed. */
function GroupMap({
  legend,
  help,
  column,
  labels,
  options,
  rows,
  onChange,
  error,
  fresh,
  empty = null,
}: {
  legend: string;
  help: string;
  column: string;
  labels: { dn: (n: number) => string; value: (n: number) => string; remove: (n: number) => string; add: string };
  options: { value: string; label: string }[];
  rows: GroupRow[];
  onChange: (rows: GroupRow[]) => void;
  error: string | undefined;
  fresh: string;
  empty?: string | null;
}) {
  const setRow = (index: number, row: Partial<GroupRow>) => onChange(rows.map((g, i) => (i === index ? { ...g, ...row } : g)));
  return (
    <fieldset className="space-y-2">
      <legend className="font-medium">{legend}</legend>
      <p className="text-fg-muted">{help}</p>
      {rows.length ? (
        <table className="w-full text-left">
          <thead>
            <tr>
              <th scope="col" className="py-1 pr-2 font-medium">
                {t("directory.groupDn")}
              </th>
              <th scope="col" className="py-1 pr-2 font-medium">
                {column}
              </th>
              <th scope="col" className="py-1">
                <span className="sr-only">{t("directory.actions")}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row, index) => (
              <tr key={index}>
                <td className="py-1 pr-2">
                  <Input aria-label={labels.dn(index + 1)} value={row.group_dn} onChange={(e) => setRow(index, { group_dn: e.target.value })} />
                </td>
                <td className="py-1 pr-2">
                  <Select aria-label={labels.value(index + 1)} value={row.value} onChange={(e) => setRow(index, { value: e.target.value })}>
                    {options.some((o) => o.value === row.value) ? null : <option value={row.value}>{row.value}</option>}
                    {options.map((o) => (
                      <option key={o.value} value={o.value}>
                        {o.label}
                      </option>
                    ))}
                  </Select>
                </td>
                <td className="py-1">
                  <Button type="button" variant="secondary" onClick={() => onChange(rows.filter((_, i) => i !== index))}>
                    {labels.remove(index + 1)}
                  </Button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {error ? <p className="text-danger-text">{error}</p> : null}
      {empty ? (
        <p className="text-fg-muted">{empty}</p>
      ) : (
        <Button type="button" variant="secondary" onClick={() => onChange([...rows, { group_dn: "", value: fresh }])}>
          {labels.add}
        </Button>
      )}
    </fieldset>
  );
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
      group_roles: filled(form.group_roles).map((g) => ({ group_dn: g.group_dn, role: g.value as Role })),
      group_teams: filled(form.group_teams).map((g) => ({ group_dn: g.group_dn, team_id: g.value })),
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
  const teams = useTeams();
  const teamOptions = (teams.data ?? []).map((team) => ({ value: team.id, label: team.name }));
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

  const placed = ["enabled", "host", "port", "mode", "ca_certificate", "bind_dn", "password", "user_search_base", "user_filter", "group_lookup", "group_search_base", "group_roles", "group_teams", "default_role", "domains"];

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
        <GroupMap
          legend={t("directory.groupRoles")}
          help={t("directory.groupRolesHelp")}
          column={t("directory.role")}
          labels={{ dn: (n) => t("directory.groupDnRow", { n }), value: (n) => t("directory.roleRow", { n }), remove: (n) => t("directory.removeRow", { n }), add: t("directory.addRow") }}
          options={ROLES.map((r) => ({ value: r, label: t(ROLE_LABEL[r]) }))}
          rows={form.group_roles}
          onChange={(rows) => set("group_roles", rows)}
          error={errors.group_roles}
          fresh="agent"
        />
        <GroupMap
          legend={t("directory.groupTeams")}
          help={t("directory.groupTeamsHelp")}
          column={t("directory.team")}
          labels={{ dn: (n) => t("directory.teamGroupDnRow", { n }), value: (n) => t("directory.teamRow", { n }), remove: (n) => t("directory.removeTeamRow", { n }), add: t("directory.addTeamRow") }}
          options={teamOptions}
          rows={form.group_teams}
          onChange={(rows) => set("group_teams", rows)}
          error={errors.group_teams}
          fresh={teamOptions[0]?.value ?? ""}
          empty={teams.isSuccess && !teamOptions.length ? t("directory.noTeams") : null}
        />
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
