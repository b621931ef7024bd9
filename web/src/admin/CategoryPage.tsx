import { useQueryClient } from "@tanstack/react-query";
import { Link, useLocation, useNavigate, useParams } from "react-router";
import { api, etag, ok } from "../api/client";
import { Alert, Card, Field, Input, PageHeader, Select, Spinner, Textarea } from "../components/ui";
import { adminKeys, invalidateShared, useAdminTeams, useApprovalFlows, useCategory, useCategoryTree } from "./api";
import { treeLabel, useTicketTypes } from "../tickets/queries";
import { FieldBuilder, schemaOf, useBuilderMode, type BuilderMode } from "./FieldBuilder";
import { Checkbox } from "./fields";
import { EditorStatus, FormActions, FailureAlert, useEditor, type Errors } from "./forms";
import { fromSchema, toSchema, type Builder } from "./schemaBuilder";
import type { CategoryRow } from "./types";
import { t } from "../i18n/admin";

interface CategoryForm {
  name: string;
  description: string;
  default_team_id: string;
  parent_id: string;
  default_type: string;
  approval_flow_id: string;
  active: boolean;
  builder: Builder;
  mode: BuilderMode;
  json: string;
}

function toForm(category: CategoryRow | null): CategoryForm {
  const builder = fromSchema(category?.fields_schema ?? {});
  return {
    name: category?.name ?? "",
    description: category?.description ?? "",
    default_team_id: category?.default_team_id ?? "",
    parent_id: category?.parent_id ?? "",
    default_type: category?.default_type ?? "",
    approval_flow_id: category?.approval_flow_id ?? "",
    active: category?.active ?? true,
    builder,
    mode: "form",
    json: JSON.stringify(toSchema(builder).schema, null, 2),
  };
}

function validate(form: CategoryForm): Errors {
  const errors: Errors = { ...schemaOf(form).errors };
  if (!form.name.trim()) errors.name = t("fields.required");
  return errors;
}

function body(form: CategoryForm) {
  return {
    name: form.name.trim(),
    description: form.description,
    default_team_id: form.default_team_id || null,
    parent_id: form.parent_id || null,
    default_type: form.default_type || null,
    approval_flow_id: form.approval_flow_id || null,
    fields_schema: schemaOf(form).schema as Record<string, unknown>,
  };
}

function CategoryEditor({ category }: { category: CategoryRow | null }) {
  const client = useQueryClient();
  const navigate = useNavigate();
  const teams = useAdminTeams();
  const tree = useCategoryTree();
  const types = useTicketTypes();
  const flows = useApprovalFlows();
  // Not itself or below it (the server refuses a cycle too).
  const below = new Set<string>();
  if (category) {
    below.add(category.id);
    for (const c of tree.data ?? []) if (c.parent_id && below.has(c.parent_id)) below.add(c.id);
  }
  const editor = useEditor<CategoryRow, CategoryForm>({
    entity: category,
    toForm,
    tag: (c) => etag(c.version),
    validate,
    compare: (f) => ({ ...body(f), active: f.active }),
    create: (form, key) => ok(api.POST("/v1/categories", { params: { header: { "Idempotency-Key": key } }, body: body(form) })),
    update: (form, base, ifMatch) =>
      ok(
        api.PATCH("/v1/categories/{category_id}", {
          params: { path: { category_id: base.id }, header: { "If-Match": ifMatch } },
          body: { ...body(form), active: form.active },
        }),
      ),
    reload: category
      ? () => client.fetchQuery({ queryKey: adminKeys.category(category.id), staleTime: 0, queryFn: () => ok(api.GET("/v1/categories/{category_id}", { params: { path: { category_id: category.id } } })) })
      : undefined,
    onSaved: (saved, created) => {
      client.setQueryData(adminKeys.category(saved.id), saved);
      void client.invalidateQueries({ queryKey: adminKeys.categories });
      invalidateShared(client, "categories");
      if (created) navigate(`/admin/categories/${saved.id}`, { replace: true, state: { created: true } });
    },
  });
  const { form, set, errors } = editor;
  const { switchMode, jsonProblem, clearJsonProblem, preview } = useBuilderMode(form, editor.setForm);
  const jsonError = form.mode === "json" ? (jsonProblem ?? errors.fields_schema ?? null) : null;

  const placed =
    form.mode === "form"
      ? ["name", "description", "default_team_id", "parent_id", "default_type", "approval_flow_id", "active", "fields_schema.properties", ...form.builder.fields.map((f) => `fields_schema.properties.${f.name.trim()}`)]
      : ["name", "description", "default_team_id", "parent_id", "default_type", "approval_flow_id", "active", "fields_schema"];

  return (
    <form className="space-y-6" onSubmit={editor.submit} noValidate>
      <Card className="space-y-3">
        <Field label={t("admin.category.name")} required error={errors.name}>
          {(p) => <Input {...p} maxLength={100} value={form.name} onChange={(e) => set("name", e.target.value)} />}
        </Field>
        <Field label={t("admin.category.description")} error={errors.description} description={t("admin.category.shownToEmployeesWhen")}>
          {(p) => <Textarea {...p} rows={2} maxLength={2000} value={form.description} onChange={(e) => set("description", e.target.value)} />}
        </Field>
        <Field label={t("admin.category.defaultTeam")} error={errors.default_team_id} description={t("admin.category.newRequestsInThis")}>
          {(p) => (
            <Select {...p} value={form.default_team_id} onChange={(e) => set("default_team_id", e.target.value)}>
              <option value="">{t("admin.category.noDefaultTeam")}</option>
              {(teams.data ?? [])
                .filter((item) => item.active || item.id === form.default_team_id)
                .map((item) => (
                  <option key={item.id} value={item.id}>
                    {item.name}
                  </option>
                ))}
            </Select>
          )}
        </Field>
        <Field label={t("admin.category.parentCategory")} error={errors.parent_id} description={t("admin.category.subCategoriesShowUnder")}>
          {(p) => (
            <Select {...p} value={form.parent_id} onChange={(e) => set("parent_id", e.target.value)}>
              <option value="">{t("admin.category.noneTopLevel")}</option>
              {(tree.data ?? [])
                .filter((c) => !below.has(c.id) && (c.active || c.id === form.parent_id))
                .map((c) => (
                  <option key={c.id} value={c.id}>
                    {treeLabel(c)}
                  </option>
                ))}
            </Select>
          )}
        </Field>
        <Field label={t("admin.category.approvalFlow")} error={errors.approval_flow_id} description={t("admin.category.approvalFlowHelp")}>
          {(p) => (
            <Select {...p} value={form.approval_flow_id} onChange={(e) => set("approval_flow_id", e.target.value)}>
              <option value="">{t("admin.category.noApproval")}</option>
              {(flows.data ?? [])
                .filter((f) => f.active || f.id === form.approval_flow_id)
                .map((f) => (
                  <option key={f.id} value={f.id}>
                    {f.name}
                  </option>
                ))}
            </Select>
          )}
        </Field>
        <Field label={t("admin.category.defaultType")} error={errors.default_type} description={t("admin.category.theTypeOfNew")}>
          {(p) => (
            <Select {...p} value={form.default_type} onChange={(e) => set("default_type", e.target.value)}>
              <option value="">{t("admin.category.noDefaultIncident")}</option>
              {(types.data ?? [])
                .filter((item) => !item.archived || item.key === form.default_type)
                .map((item) => (
                  <option key={item.key} value={item.key}>
                    {item.name}
                  </option>
                ))}
            </Select>
          )}
        </Field>
        {category ? (
          <Checkbox
            label={t("admin.category.active")}
            checked={form.active}
            onChange={(v) => set("active", v)}
            error={errors.active}
            description={t("admin.category.inactiveCategoriesAreNot")}
          />
        ) : null}
      </Card>
      <Card>
        <FieldBuilder
          builder={form.builder}
          onChange={(builder) => set("builder", builder)}
          mode={form.mode}
          onMode={switchMode}
          json={form.json}
          onJson={(json) => {
            clearJsonProblem();
            set("json", json);
          }}
          jsonError={jsonError}
          errors={errors}
          schema={preview}
        />
      </Card>
      <div className="space-y-3">
        <EditorStatus editor={editor} placed={placed} savedText={category ? t("admin.category.saved") : t("admin.category.categoryCreated")} />
        <FormActions editor={editor} creating={category === null} saveLabel={category ? t("admin.category.saveCategory") : t("admin.category.createCategory")} />
      </div>
    </form>
  );
}

export default function CategoryPage() {
  const { categoryId = "" } = useParams();
  const location = useLocation();
  const creating = categoryId === "new";
  const category = useCategory(creating ? "" : categoryId);
  const created = (location.state as { created?: boolean } | null)?.created;
  return (
    <>
      <p className="mb-2">
        <Link to="/admin/categories" className="text-accent-text underline">
          {t("admin.category.categories")}
        </Link>
      </p>
      {creating ? (
        <>
          <PageHeader title={t("admin.category.newCategory")}>{t("admin.category.aKindOfRequest")}</PageHeader>
          <CategoryEditor category={null} />
        </>
      ) : category.isPending ? (
        <Spinner label={t("admin.category.loadingTheCategory")} />
      ) : category.isError ? (
        <FailureAlert error={category.error} />
      ) : (
        <>
          <PageHeader title={category.data.name}>{category.data.active ? t("admin.category.offeredToEmployees") : t("admin.category.inactive")}</PageHeader>
          {created ? (
            <div className="mb-4">
              <Alert tone="success">{t("admin.category.categoryCreatedEmployeesCan")}</Alert>
            </div>
          ) : null}
          <CategoryEditor key={category.data.id} category={category.data} />
        </>
      )}
    </>
  );
}
