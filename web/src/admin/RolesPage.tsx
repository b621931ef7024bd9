import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, etag, ok } from "../api/client";
import { Badge, Button, Card, Field, Input, PageHeader, Select, Spinner, Textarea } from "../components/ui";
import { t } from "../i18n/admin";
import { invalidateShared, useAdminTeams } from "./api";
import { CheckboxGroup, ConfirmButton, ScrollArea } from "./fields";
import { EditorStatus, FailureAlert, FormActions, useEditor } from "./forms";
import type { PermissionRow, RoleRow } from "./types";

export const roleKeys = { roles: ["admin", "roles"] as const, catalogue: ["admin", "roles", "permissions"] as const };

/** The roles (built-in first, then custom): the Roles screen and the user role picker. */
export function useRoles(enabled = true) {
  return useQuery({ queryKey: roleKeys.roles, queryFn: ({ signal }) => ok(api.GET("/v1/roles", { signal })), enabled });
}

function useCatalogue() {
  return useQuery({ queryKey: roleKeys.catalogue, queryFn: ({ signal }) => ok(api.GET("/v1/roles/permissions", { signal })), staleTime: Infinity });
}

interface RoleForm {
  name: string;
  description: string;
  permissions: string[];
  /** A team scope ("" for none): the role's ticket permissions on that team's tickets only. */
  team_id: string;
}

function roleForm(role: RoleRow | null): RoleForm {
  return { name: role?.name ?? "", description: role?.description ?? "", permissions: role?.permissions ?? [], team_id: role?.team_id ?? "" };
}

function validateRole(form: RoleForm): Record<string, string> {
  const errors: Record<string, string> = {};
  if (!form.name.trim()) errors.name = t("fields.required");
  if (!form.permissions.length) errors.permissions = t("admin.roles.chooseAtLeastOne");
  return errors;
}

/** The catalogue grouped by area, in its own order. */
function byArea(catalogue: PermissionRow[]): [string, PermissionRow[]][] {
  const groups = new Map<string, PermissionRow[]>();
  for (const permission of catalogue) groups.set(permission.area, [...(groups.get(permission.area) ?? []), permission]);
  return [...groups.entries()];
}

function PermissionPicker({ catalogue, value, onChange, error, readOnly = false }: { catalogue: PermissionRow[]; value: string[]; onChange: (value: string[]) => void; error?: string | undefined; readOnly?: boolean }) {
  return (
    <div className="space-y-4" data-testid="permission-picker">
      {byArea(catalogue).map(([area, permissions]) => {
        const options = permissions.map((p) => ({
          value: p.name,
          label: (
            <span>
              <code className="font-medium">{p.name}</code> <span className="text-fg-muted">— {p.description}</span>
            </span>
          ),
        }));
        return readOnly ? (
          <div key={area}>
            <h4 className="mb-1 font-medium">{area}</h4>
            <ul className="list-disc pl-5">
              {options.filter((o) => value.includes(o.value)).map((o) => (
                <li key={o.value}>{o.label}</li>
              ))}
            </ul>
          </div>
        ) : (
          <CheckboxGroup key={area} legend={area} options={options} value={value.filter((v) => permissions.some((p) => p.name === v))} columns={false} onChange={(chosen) => onChange([...value.filter((v) => !permissions.some((p) => p.name === v)), ...chosen])} />
        );
      })}
      {error ? <p className="font-medium text-danger-text">{error}</p> : null}
    </div>
  );
}

function RoleEditor({ role, roles, catalogue, onClose }: { role: RoleRow | null; roles: RoleRow[]; catalogue: PermissionRow[]; onClose: (role: RoleRow | null) => void }) {
  const client = useQueryClient();
  const [source, setSource] = useState("");
  const builtins = roles.filter((r) => r.builtin);
  const refresh = () => {
    void client.invalidateQueries({ queryKey: roleKeys.roles });
    invalidateShared(client, "users");
  };
  const teams = useAdminTeams();
  const body = (form: RoleForm) => ({ name: form.name.trim(), description: form.description, permissions: form.permissions, team_id: form.team_id || null });
  const editor = useEditor<RoleRow, RoleForm>({
    entity: role,
    toForm: roleForm,
    tag: (item) => String(item.version),
    validate: validateRole,
    create: (form, key) => ok(api.POST("/v1/roles", { params: { header: { "Idempotency-Key": key } }, body: body(form) })),
    update: (form, base) =>
      ok(api.PATCH("/v1/roles/{role_id}", { params: { path: { role_id: base.id ?? "" }, header: { "If-Match": etag(base.version) } }, body: body(form) })),
    reload: () => (role?.id ? ok(api.GET("/v1/roles/{role_id}", { params: { path: { role_id: role.id } } })) : Promise.resolve(null)),
    onSaved: (saved) => {
      refresh();
      onClose(saved);
    },
  });
  const [deleteFailure, setDeleteFailure] = useState<unknown>(null);
  async function remove() {
    if (!role?.id) return;
    setDeleteFailure(null);
    try {
      await ok(api.DELETE("/v1/roles/{role_id}", { params: { path: { role_id: role.id } } }));
      refresh();
      onClose(null);
    } catch (error) {
      setDeleteFailure(error);
    }
  }
  function copy() {
    const from = builtins.find((r) => r.builtin === source);
    if (from) editor.set("permissions", [...from.permissions]);
  }
  const heading = role ? t("admin.roles.editName", { name: role.name }) : t("admin.roles.newRole");
  return (
    <Card aria-labelledby="role-editor-heading">
      <h2 id="role-editor-heading" className="mb-3 font-semibold">
        {heading}
      </h2>
      <form className="space-y-3" onSubmit={editor.submit} noValidate>
        <Field label={t("admin.roles.name")} required error={editor.errors.name}>
          {(p) => <Input {...p} maxLength={100} value={editor.form.name} onChange={(e) => editor.set("name", e.target.value)} />}
        </Field>
        <Field label={t("admin.roles.description")} error={editor.errors.description}>
          {(p) => <Textarea {...p} rows={2} maxLength={1000} value={editor.form.description} onChange={(e) => editor.set("description", e.target.value)} />}
        </Field>
        <Field label={t("admin.roles.teamScope")} description={t("admin.roles.teamScopeHelp")} error={editor.errors.team_id}>
          {(p) => (
            <Select {...p} value={editor.form.team_id} onChange={(e) => editor.set("team_id", e.target.value)}>
              <option value="">{t("admin.roles.everyTeam")}</option>
              {(teams.data ?? []).filter((team) => team.active || team.id === editor.form.team_id).map((team) => (
                <option key={team.id} value={team.id}>
                  {team.name}
                </option>
              ))}
            </Select>
          )}
        </Field>
        <div className="flex flex-wrap items-end gap-2">
          <Field label={t("admin.roles.copyFromBuiltIn")} description={t("admin.roles.copyReplaces")}>
            {(p) => (
              <Select {...p} value={source} onChange={(e) => setSource(e.target.value)}>
                <option value="">{t("admin.roles.chooseABuiltInRole")}</option>
                {builtins.map((r) => (
                  <option key={r.name} value={r.builtin ?? ""}>
                    {r.name}
                  </option>
                ))}
              </Select>
            )}
          </Field>
          <Button onClick={copy} disabled={!source}>
            {t("admin.roles.copy")}
          </Button>
        </div>
        <fieldset className="min-w-0">
          <legend className="mb-2 font-semibold">{t("admin.roles.permissions")}</legend>
          <PermissionPicker catalogue={catalogue} value={editor.form.permissions} onChange={(value) => editor.set("permissions", value)} error={editor.errors.permissions} />
        </fieldset>
        <EditorStatus editor={editor} placed={["name", "description", "permissions", "team_id"]} />
        <FormActions editor={editor} saveLabel={role ? t("admin.roles.saveRole") : t("admin.roles.createRole")} creating={!role}>
          <Button variant="ghost" onClick={() => onClose(role)}>
            {t("admin.roles.close")}
          </Button>
          {role?.id ? (
            <ConfirmButton confirmLabel={t("admin.roles.deleteName", { name: role.name })} onConfirm={() => void remove()}>
              {t("admin.roles.delete")}
            </ConfirmButton>
          ) : null}
        </FormActions>
        {deleteFailure ? <FailureAlert error={deleteFailure} /> : null}
      </form>
    </Card>
  );
}

export default function RolesPage() {
  const roles = useRoles();
  const catalogue = useCatalogue();
  // null: nothing open; "new": a new role; a role's id or built-in name: that role.
  const [open, setOpen] = useState<string | null>(null);
  const [created, setCreated] = useState<string | null>(null);
  const list = roles.data ?? [];
  const key = (r: RoleRow) => r.id ?? r.builtin ?? r.name;
  const chosen = list.find((r) => key(r) === open) ?? null;
  return (
    <>
      <PageHeader title={t("admin.roles.roles")}>{t("admin.roles.intro")}</PageHeader>
      <div className="grid *:min-w-0 gap-6 xl:grid-cols-[1fr_1fr]">
        <Card aria-labelledby="roles-heading">
          <div className="mb-3 flex flex-wrap items-center justify-between gap-2">
            <h2 id="roles-heading" className="font-semibold">
              {t("admin.roles.allRoles")}
            </h2>
            <Button variant="primary" onClick={() => setOpen("new")}>
              {t("admin.roles.newRole")}
            </Button>
          </div>
          {roles.isPending || catalogue.isPending ? <Spinner label={t("admin.roles.loadingRoles")} /> : null}
          {roles.isError ? <FailureAlert error={roles.error} /> : null}
          {catalogue.isError ? <FailureAlert error={catalogue.error} /> : null}
          {created ? <p className="mb-2 text-success-text" role="status">{created}</p> : null}
          {list.length ? (
            <ScrollArea label={t("admin.roles.rolesTable")}>
              <table className="w-full text-left" data-testid="role-rows">
                <caption className="sr-only">{t("admin.roles.rolesTable")}</caption>
                <thead className="border-b border-border text-fg-muted">
                  <tr>
                    <th scope="col" className="px-2 py-2 font-medium">{t("admin.roles.name")}</th>
                    <th scope="col" className="px-2 py-2 font-medium">{t("admin.roles.permissions")}</th>
                    <th scope="col" className="px-2 py-2 font-medium">{t("admin.roles.members")}</th>
                    <th scope="col" className="px-2 py-2 font-medium"><span className="sr-only">{t("admin.roles.actions")}</span></th>
                  </tr>
                </thead>
                <tbody>
                  {list.map((r) => (
                    <tr key={key(r)} className="border-b border-border align-top last:border-0">
                      <td className="px-2 py-2">
                        <span className="font-medium">{r.name}</span> {r.builtin ? <Badge>{t("admin.roles.builtIn")}</Badge> : null}
                        {r.description ? <span className="block text-fg-muted">{r.description}</span> : null}
                      </td>
                      <td className="px-2 py-2">{r.permissions.length}</td>
                      <td className="px-2 py-2">{r.members}</td>
                      <td className="px-2 py-2 text-right">
                        <Button size="sm" onClick={() => setOpen(key(r))} aria-label={(r.builtin ? t("admin.roles.viewName", { name: r.name }) : t("admin.roles.editName", { name: r.name }))}>
                          {r.builtin ? t("admin.roles.view") : t("admin.roles.edit")}
                        </Button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </ScrollArea>
          ) : null}
        </Card>
        {open && catalogue.data && chosen?.builtin ? (
          <Card aria-labelledby="builtin-heading">
            <h2 id="builtin-heading" className="mb-1 font-semibold">
              {chosen.name}
            </h2>
            <p className="mb-3 text-fg-muted">{t("admin.roles.builtInReadOnly")}</p>
            <PermissionPicker catalogue={catalogue.data} value={chosen.permissions} onChange={() => undefined} readOnly />
            <Button className="mt-3" variant="ghost" onClick={() => setOpen(null)}>
              {t("admin.roles.close")}
            </Button>
          </Card>
        ) : open && catalogue.data && (open === "new" || chosen) ? (
          <RoleEditor
            key={open}
            role={open === "new" ? null : chosen}
            roles={list}
            catalogue={catalogue.data}
            onClose={(saved) => {
              setCreated(saved && open === "new" ? t("admin.roles.roleCreated", { name: saved.name }) : null);
              setOpen(null);
            }}
          />
        ) : null}
      </div>
    </>
  );
}
