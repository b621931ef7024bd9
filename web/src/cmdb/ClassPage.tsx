import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { api, etag, ok } from "../api/client";
import { ApiError, describeError, type Problem } from "../api/problem";
import { ConfirmDialog } from "../components/ConfirmDialog";
import { Alert, Button, Card, Field, Input, PageHeader, Spinner, Textarea } from "../components/ui";
import { FieldBuilder, schemaOf, useBuilderMode, type BuilderMode } from "../admin/FieldBuilder";
import { EditorStatus, FailureAlert, FormActions, useEditor, type Errors } from "../admin/forms";
import { fromSchema, toSchema, type Builder } from "../admin/schemaBuilder";
import { fieldsFromSchema } from "../lib/customFields";
import { t } from "../i18n/cmdb";
import { cmdbKeys, type CIClass } from "./api";

interface ClassForm {
  key: string;
  name: string;
  description: string;
  builder: Builder;
  mode: BuilderMode;
  json: string;
}

const KEY_RE = /^[a-z][a-z0-9_]{0,39}$/;

function toForm(c: CIClass | null): ClassForm {
  const builder = fromSchema(c?.attributes_schema ?? {});
  return { key: c?.key ?? "", name: c?.name ?? "", description: c?.description ?? "", builder, mode: "form", json: JSON.stringify(toSchema(builder).schema, null, 2) };
}

/** The server names the schema `attributes_schema`; the field builder (shared with
 * categories) shows errors under `fields_schema`: the same place, another name. */
export function builderErrors(error: unknown): unknown {
  if (!(error instanceof ApiError) || !error.problem?.errors) return error;
  const problem: Problem = {
    ...error.problem,
    errors: error.problem.errors.map((e) => ({ ...e, ...(e.field ? { field: e.field.replace(/^attributes_schema(?=\.|$)/, "fields_schema") } : {}) })),
  };
  return new ApiError(error.status, problem);
}

async function renamed<T>(pending: Promise<T>): Promise<T> {
  try {
    return await pending;
  } catch (error) {
    throw builderErrors(error);
  }
}

function ClassEditor({ ciClass }: { ciClass: CIClass | null }) {
  const client = useQueryClient();
  const navigate = useNavigate();
  const body = (form: ClassForm) => ({ name: form.name.trim(), description: form.description, attributes_schema: schemaOf(form).schema as Record<string, unknown> });
  const editor = useEditor<CIClass, ClassForm>({
    entity: ciClass,
    toForm,
    tag: (c) => etag(c.version),
    compare: (f) => ({ ...body(f), key: f.key }),
    validate: (form) => {
      const errors: Errors = { ...schemaOf(form).errors };
      if (!form.name.trim()) errors.name = t("cmdb.form.required");
      if (!ciClass && !KEY_RE.test(form.key)) errors.key = t("cmdb.classes.keyHelp");
      return errors;
    },
    create: (form, key) => renamed(ok(api.POST("/v1/ci-classes", { params: { header: { "Idempotency-Key": key } }, body: { ...body(form), key: form.key } }))),
    update: (form, base, ifMatch) =>
      renamed(ok(api.PATCH("/v1/ci-classes/{class_id}", { params: { path: { class_id: base.id }, header: { "If-Match": ifMatch } }, body: body(form) }))),
    reload: ciClass ? () => ok(api.GET("/v1/ci-classes/{class_id}", { params: { path: { class_id: ciClass.id } } })) : undefined,
    onSaved: (saved, created) => {
      void client.invalidateQueries({ queryKey: cmdbKeys.classes });
      client.setQueryData(["cmdb", "class", saved.id], saved);
      if (created) navigate(`/admin/ci-classes/${saved.id}`, { replace: true });
    },
  });
  const { form, set, errors } = editor;
  const { switchMode, jsonProblem, clearJsonProblem, preview } = useBuilderMode(form, editor.setForm);
  const placed =
    form.mode === "form"
      ? ["key", "name", "description", "fields_schema.properties", ...form.builder.fields.map((f) => `fields_schema.properties.${f.name.trim()}`)]
      : ["key", "name", "description", "fields_schema"];
  return (
    <form className="space-y-6" onSubmit={editor.submit} noValidate aria-label={ciClass ? t("cmdb.classes.edit", { name: ciClass.name }) : t("cmdb.classes.new")}>
      <Card className="space-y-3">
        <Field label={t("cmdb.classes.key")} required error={errors.key} description={t("cmdb.classes.keyHelp")}>
          {(p) => <Input {...p} maxLength={40} spellCheck={false} autoCapitalize="off" readOnly={ciClass !== null} value={form.key} onChange={(e) => set("key", e.target.value)} />}
        </Field>
        <Field label={t("cmdb.classes.name")} required error={errors.name}>
          {(p) => <Input {...p} maxLength={100} value={form.name} onChange={(e) => set("name", e.target.value)} />}
        </Field>
        <Field label={t("cmdb.classes.description")} error={errors.description}>
          {(p) => <Textarea {...p} rows={2} maxLength={2000} value={form.description} onChange={(e) => set("description", e.target.value)} />}
        </Field>
      </Card>
      <Card>
        <FieldBuilder
          title={t("cmdb.classes.attributes")}
          builder={form.builder}
          onChange={(builder) => set("builder", builder)}
          mode={form.mode}
          onMode={switchMode}
          json={form.json}
          onJson={(json) => {
            clearJsonProblem();
            set("json", json);
          }}
          jsonError={form.mode === "json" ? (jsonProblem ?? errors.fields_schema ?? null) : null}
          errors={errors}
          schema={preview}
        />
      </Card>
      <div className="space-y-3">
        <EditorStatus editor={editor} placed={placed} savedText={t("cmdb.classes.saved")} />
        <FormActions editor={editor} creating={ciClass === null} saveLabel={ciClass ? t("cmdb.classes.save") : t("cmdb.classes.create")}>
          {ciClass ? <DeleteClass ciClass={ciClass} /> : null}
        </FormActions>
      </div>
    </form>
  );
}

function DeleteClass({ ciClass }: { ciClass: CIClass }) {
  const client = useQueryClient();
  const navigate = useNavigate();
  const [open, setOpen] = useState(false);
  const remove = useMutation({
    mutationFn: () => ok(api.DELETE("/v1/ci-classes/{class_id}", { params: { path: { class_id: ciClass.id } } })),
    onSuccess: () => {
      void client.invalidateQueries({ queryKey: cmdbKeys.classes });
      navigate("/admin/ci-classes", { replace: true });
    },
  });
  return (
    <>
      <Button variant="danger" onClick={() => setOpen(true)}>
        {t("cmdb.classes.delete", { name: ciClass.name })}
      </Button>
      <ConfirmDialog
        open={open}
        title={t("cmdb.classes.deleteTitle", { name: ciClass.name })}
        confirmLabel={t("cmdb.form.delete")}
        busy={remove.isPending}
        onConfirm={() => remove.mutate()}
        onClose={() => setOpen(false)}
      >
        <p>{t("cmdb.classes.deleteBody")}</p>
        {remove.isError ? <Alert>{describeError(remove.error)}</Alert> : null}
      </ConfirmDialog>
    </>
  );
}

/** A built-in class: what it is and the attributes its schema names, read-only. */
function BuiltinClass({ ciClass }: { ciClass: CIClass }) {
  const specs = fieldsFromSchema(ciClass.attributes_schema);
  return (
    <Card className="space-y-2">
      <p className="text-fg-muted">{t("cmdb.classes.readOnly")}</p>
      <p>{ciClass.description}</p>
      <h2 className="font-semibold">{t("cmdb.classes.attributes")}</h2>
      {specs.length ? (
        <ul className="list-disc pl-5">
          {specs.map((s) => (
            <li key={s.name}>
              <span className="font-mono">{s.name}</span> — {s.title} ({s.kind})
            </li>
          ))}
        </ul>
      ) : (
        <p className="text-fg-muted">{t("cmdb.detail.noAttributes")}</p>
      )}
    </Card>
  );
}

/** /admin/ci-classes/:classId (or `new`). */
export default function ClassPage() {
  const { classId = "" } = useParams();
  const creating = classId === "new";
  const ciClass = useQuery({
    queryKey: ["cmdb", "class", classId],
    enabled: !creating,
    queryFn: ({ signal }) => ok(api.GET("/v1/ci-classes/{class_id}", { params: { path: { class_id: classId } }, signal })),
  });
  return (
    <>
      <p className="mb-2">
        <Link to="/admin/ci-classes" className="text-accent-text underline">
          {t("cmdb.classes.back")}
        </Link>
      </p>
      {creating ? (
        <>
          <PageHeader title={t("cmdb.classes.new")}>{t("cmdb.classes.intro")}</PageHeader>
          <ClassEditor ciClass={null} />
        </>
      ) : ciClass.isPending ? (
        <Spinner />
      ) : ciClass.isError ? (
        <FailureAlert error={ciClass.error} />
      ) : (
        <>
          <PageHeader title={ciClass.data.name}>{ciClass.data.builtin ? t("cmdb.classes.builtin") : ciClass.data.key}</PageHeader>
          {ciClass.data.builtin ? <BuiltinClass ciClass={ciClass.data} /> : <ClassEditor key={ciClass.data.id} ciClass={ciClass.data} />}
        </>
      )}
    </>
  );
}
