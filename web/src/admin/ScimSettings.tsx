import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, ok } from "../api/client";
import type { components } from "../api/schema";
import type { Role } from "../api/types";
import { Alert, Button, Card, Field, Input, Select, Spinner } from "../components/ui";
import { t, type MessageKey } from "../i18n";
import { ROLES } from "../lib/domain";
import { formatDateTime } from "../lib/format";
import { okTagged, useAdminTeams, type Tagged } from "./api";
import { Checkbox } from "./fields";
import { EditorStatus, FailureAlert, FormActions } from "./forms";
import { useSettings, useSettingsForm, type SettingsSection } from "./settings";

type Scim = components["schemas"]["ScimSettingsOut"];
type ScimGroup = components["schemas"]["ScimGroupOut"];

const ROLE_KEYS: Record<Role, MessageKey> = {
  requester: "scim.role.requester",
  agent: "scim.role.agent",
  manager: "scim.role.manager",
  admin: "scim.role.admin",
};

export const scimSettings: SettingsSection<Scim> = {
  key: ["admin", "settings", "scim"],
  get: (signal) => okTagged(api.GET("/v1/scim/settings", { signal })),
  put: (body, ifMatch) =>
    okTagged(
      api.PUT("/v1/scim/settings", {
        params: { header: { "If-Match": ifMatch } },
        body: { enabled: body.enabled, default_role: body.default_role },
      }),
    ),
};

const GROUPS_KEY = ["admin", "scim", "groups"];

function CopyField({ label, value, testId }: { label: string; value: string; testId: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <Field label={label}>
      {(p) => (
        <div className="flex flex-wrap items-center gap-2">
          <Input {...p} readOnly value={value} data-testid={testId} className="min-w-0 flex-1 font-mono" />
          <Button
            size="sm"
            onClick={() => {
              void navigator.clipboard?.writeText(value).then(() => setCopied(true));
            }}
          >
            {copied ? t("scim.copied") : t("scim.copy")}
          </Button>
        </div>
      )}
    </Field>
  );
}

function TokenPanel({ settings }: { settings: Scim }) {
  const client = useQueryClient();
  const [shown, setShown] = useState<string | null>(null);
  const rotate = useMutation({
    mutationFn: () => ok(api.POST("/v1/scim/token")),
    onSuccess: (made) => {
      setShown(made.token);
      void client.invalidateQueries({ queryKey: scimSettings.key });
    },
  });
  const revoke = useMutation({
    mutationFn: () => ok(api.DELETE("/v1/scim/token")),
    onSuccess: () => {
      setShown(null);
      void client.invalidateQueries({ queryKey: scimSettings.key });
    },
  });
  const token = settings.token;
  return (
    <div className="space-y-3">
      <h3 className="font-semibold">{t("scim.tokenTitle")}</h3>
      <p className="text-fg-muted" data-testid="scim-token-state">
        {token ? t("scim.tokenActive", { prefix: token.prefix, date: formatDateTime(token.created_at) }) : t("scim.tokenNone")}
      </p>
      {shown ? (
        <Alert tone="warning" title={t("scim.tokenOnce")} action={<Button size="sm" onClick={() => setShown(null)}>{t("scim.tokenStored")}</Button>}>
          <CopyField label={t("scim.token")} value={shown} testId="scim-token" />
        </Alert>
      ) : null}
      <div className="flex flex-wrap gap-2">
        <Button variant="primary" onClick={() => rotate.mutate()} disabled={rotate.isPending}>
          {token ? t("scim.rotate") : t("scim.generate")}
        </Button>
        {token ? (
          <Button variant="danger" onClick={() => revoke.mutate()} disabled={revoke.isPending}>
            {t("scim.revoke")}
          </Button>
        ) : null}
      </div>
      {rotate.isError ? <FailureAlert error={rotate.error} /> : null}
      {revoke.isError ? <FailureAlert error={revoke.error} /> : null}
    </div>
  );
}

function GroupRow({ group }: { group: ScimGroup }) {
  const client = useQueryClient();
  const teams = useAdminTeams();
  const [team, setTeam] = useState(group.team_id ?? "");
  const [role, setRole] = useState<Role | "">(group.role ?? "");
  const [saved, setSaved] = useState(false);
  const save = useMutation({
    mutationFn: () =>
      ok(
        api.PUT("/v1/scim/groups/{group_id}/mapping", {
          params: { path: { group_id: group.id } },
          body: { team_id: team || null, role: role || null },
        }),
      ),
    onSuccess: () => {
      setSaved(true);
      void client.invalidateQueries({ queryKey: GROUPS_KEY });
    },
  });
  return (
    <li className="space-y-2 rounded-md border border-border p-3" data-testid="scim-group">
      <p className="font-medium">
        {group.display_name} <span className="text-fg-muted">{t("scim.members", { count: group.members })}</span>
      </p>
      <div className="grid gap-3 sm:grid-cols-2">
        <Field label={t("scim.mapTeam", { group: group.display_name })}>
          {(p) => (
            <Select {...p} value={team} onChange={(e) => { setTeam(e.target.value); setSaved(false); }}>
              <option value="">{t("scim.noTeam")}</option>
              {(teams.data ?? []).map((item) => (
                <option key={item.id} value={item.id}>
                  {item.name}
                </option>
              ))}
            </Select>
          )}
        </Field>
        <Field label={t("scim.mapRole", { group: group.display_name })}>
          {(p) => (
            <Select {...p} value={role} onChange={(e) => { setRole(e.target.value as Role | ""); setSaved(false); }}>
              <option value="">{t("scim.noRole")}</option>
              {ROLES.map((value) => (
                <option key={value} value={value}>
                  {t(ROLE_KEYS[value])}
                </option>
              ))}
            </Select>
          )}
        </Field>
      </div>
      <div className="flex items-center gap-3">
        <Button size="sm" onClick={() => save.mutate()} disabled={save.isPending}>
          {t("scim.saveMapping")}
        </Button>
        {saved ? <span role="status">{t("scim.mappingSaved")}</span> : null}
      </div>
      {save.isError ? <FailureAlert error={save.error} /> : null}
    </li>
  );
}

function Groups() {
  const groups = useQuery({ queryKey: GROUPS_KEY, queryFn: ({ signal }) => ok(api.GET("/v1/scim/groups", { signal })) });
  return (
    <div className="space-y-3">
      <h3 className="font-semibold">{t("scim.groupsTitle")}</h3>
      <p className="text-fg-muted">{t("scim.groupsIntro")}</p>
      {groups.isPending ? <Spinner label={t("scim.groupsLoading")} /> : null}
      {groups.isError ? <FailureAlert error={groups.error} /> : null}
      {groups.data && !groups.data.items.length ? <p>{t("scim.groupsNone")}</p> : null}
      {groups.data?.items.length ? (
        <ul className="space-y-3">
          {groups.data.items.map((group) => (
            <GroupRow key={group.id} group={group} />
          ))}
        </ul>
      ) : null}
    </div>
  );
}

function ScimForm({ settings }: { settings: Tagged<Scim> }) {
  const editor = useSettingsForm(scimSettings, settings, {
    toForm: (tagged) => ({ enabled: tagged?.data.enabled ?? false, default_role: (tagged?.data.default_role ?? "requester") as Role }),
    toBody: (form, base) => ({ ...base, enabled: form.enabled, default_role: form.default_role }),
    validate: () => ({}),
  });
  const { form, set, errors } = editor;
  return (
    <Card aria-labelledby="scim-settings-heading">
      <h2 id="scim-settings-heading" className="mb-1 font-semibold">
        {t("scim.title")}
      </h2>
      <p className="mb-3 text-fg-muted">{t("scim.intro")}</p>
      <form className="space-y-4" onSubmit={editor.submit} noValidate>
        <Checkbox label={t("scim.enable")} description={t("scim.enableHelp")} checked={form.enabled} onChange={(v) => set("enabled", v)} error={errors.enabled} />
        <Field label={t("scim.defaultRole")} description={t("scim.defaultRoleHelp")} error={errors.default_role}>
          {(p) => (
            <Select {...p} value={form.default_role} onChange={(e) => set("default_role", e.target.value as Role)}>
              {ROLES.map((value) => (
                <option key={value} value={value}>
                  {t(ROLE_KEYS[value])}
                </option>
              ))}
            </Select>
          )}
        </Field>
        <EditorStatus editor={editor} placed={["enabled", "default_role"]} />
        <FormActions editor={editor} saveLabel={t("scim.save")} />
      </form>
      <div className="mt-6 space-y-6">
        <CopyField label={t("scim.baseUrl")} value={settings.data.base_url} testId="scim-base-url" />
        <TokenPanel settings={settings.data} />
        <Groups />
      </div>
    </Card>
  );
}

/** SCIM provisioning (issue 21 point 3): enable, the token, the base URL, group mappings. */
export function ScimSettings() {
  const scim = useSettings(scimSettings);
  return (
    <>
      {scim.isPending ? <Spinner label={t("scim.loading")} /> : null}
      {scim.isError ? <FailureAlert error={scim.error} /> : null}
      {scim.data ? <ScimForm settings={scim.data} /> : null}
    </>
  );
}
