import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, idempotencyKey, ok } from "../api/client";
import { ApiError, describeError } from "../api/problem";
import { Alert, Button, Field, Input, Textarea } from "../components/ui";
import { t } from "../i18n/changes";
import { changeKeys, useTemplates, type Template } from "./api";
import { Section, StaleNotice, onSubmit } from "./parts";

type Plans = Pick<Template, "name" | "description" | "implementation_plan" | "backout_plan" | "test_plan">;

/** Standard-change templates: the list (edit, deactivate or reactivate, delete each) and
 * a form adding one. */
export function Templates() {
  const client = useQueryClient();
  const templates = useTemplates();
  const [name, setName] = useState("");
  const [plan, setPlan] = useState("");
  const [editing, setEditing] = useState<string | null>(null);
  const refresh = () => void client.invalidateQueries({ queryKey: changeKeys.templates });
  const create = useMutation({
    mutationFn: () =>
      ok(
        api.POST("/v1/changes/templates", {
          params: { header: { "Idempotency-Key": idempotencyKey() } },
          body: { name: name.trim(), description: "", implementation_plan: plan, backout_plan: "", test_plan: "" },
        }),
      ),
    onSuccess: () => {
      setName("");
      setPlan("");
      refresh();
    },
  });
  const toggle = useMutation({
    mutationFn: (tpl: Template) =>
      ok(
        api.PATCH("/v1/changes/templates/{template_id}", {
          params: { path: { template_id: tpl.id }, header: { "If-Match": `"${tpl.version}"` } },
          body: { active: !tpl.active },
        }),
      ),
    onSettled: refresh,
  });
  const remove = useMutation({
    mutationFn: (id: string) => ok(api.DELETE("/v1/changes/templates/{template_id}", { params: { path: { template_id: id } } })),
    onSettled: refresh,
  });
  const busy = toggle.isPending || remove.isPending;
  const submit = onSubmit(() => create.mutate());
  return (
    <Section id="settings-templates" title={t("changes.settings.templates")}>
      <ul className="space-y-2" data-testid="template-rows">
        {templates.data?.map((tpl) => (
          <li key={tpl.id} className="space-y-2">
            <div className="flex flex-wrap items-center gap-2">
              <span className="grow">
                {tpl.name}
                {tpl.active ? "" : ` (${t("changes.settings.inactive")})`}
              </span>
              <Button size="sm" aria-expanded={editing === tpl.id} onClick={() => setEditing(editing === tpl.id ? null : tpl.id)}>
                {t("changes.tpl.edit", { name: tpl.name })}
              </Button>
              <Button size="sm" disabled={busy} onClick={() => toggle.mutate(tpl)}>
                {t(tpl.active ? "changes.tpl.deactivate" : "changes.tpl.activate", { name: tpl.name })}
              </Button>
              <Button size="sm" variant="danger" disabled={busy} onClick={() => remove.mutate(tpl.id)}>
                {t("changes.tpl.delete", { name: tpl.name })}
              </Button>
            </div>
            {editing === tpl.id ? <TemplateForm template={tpl} onDone={() => setEditing(null)} /> : null}
          </li>
        ))}
      </ul>
      {toggle.isError ? <Alert>{describeError(toggle.error)}</Alert> : null}
      {remove.isError ? <Alert>{describeError(remove.error)}</Alert> : null}
      <form className="grid gap-3" onSubmit={submit}>
        <Field label={t("changes.settings.templateName")}>
          {(p) => <Input {...p} value={name} maxLength={120} onChange={(e) => setName(e.target.value)} />}
        </Field>
        <Field label={t("changes.implementationPlan")}>
          {(p) => <Textarea {...p} rows={3} value={plan} onChange={(e) => setPlan(e.target.value)} />}
        </Field>
        {create.isError ? <Alert>{describeError(create.error)}</Alert> : null}
        <div>
          <Button type="submit" busy={create.isPending}>
            {t("changes.settings.addTemplate")}
          </Button>
        </div>
      </form>
    </Section>
  );
}

const plans = (tpl: Template): Plans => ({
  name: tpl.name,
  description: tpl.description,
  implementation_plan: tpl.implementation_plan,
  backout_plan: tpl.backout_plan,
  test_plan: tpl.test_plan,
});

/** One template's name, description and plans, saved with the version it was read at (a
 * 412 keeps what was typed and offers the latest). */
function TemplateForm({ template, onDone }: { template: Template; onDone: () => void }) {
  const client = useQueryClient();
  const [base, setBase] = useState(template);
  const [form, setForm] = useState<Plans>(() => plans(template));
  const save = useMutation({
    mutationFn: () =>
      ok(
        api.PATCH("/v1/changes/templates/{template_id}", {
          params: { path: { template_id: base.id }, header: { "If-Match": `"${base.version}"` } },
          body: { ...form, name: form.name.trim() },
        }),
      ),
    onSuccess: () => {
      void client.invalidateQueries({ queryKey: changeKeys.templates });
      onDone();
    },
  });
  const reload = async () => {
    const fresh = await ok(api.GET("/v1/changes/templates/{template_id}", { params: { path: { template_id: base.id } } }));
    setBase(fresh);
    setForm(plans(fresh));
    save.reset();
  };
  const errors = save.error instanceof ApiError ? save.error.fieldErrors : {};
  const stale = save.error instanceof ApiError && save.error.isConflict;
  const set = (field: keyof Plans) => (e: { target: { value: string } }) => setForm({ ...form, [field]: e.target.value });
  return (
    <form
      className="grid gap-3 rounded-md border border-border p-3"
      aria-label={t("changes.tpl.editing", { name: template.name })}
      onSubmit={onSubmit(() => save.mutate())}
    >
      <Field label={t("changes.settings.templateName")} error={errors.name}>
        {(p) => <Input {...p} value={form.name} maxLength={120} required onChange={set("name")} />}
      </Field>
      <Field label={t("changes.tpl.description")} error={errors.description}>
        {(p) => <Textarea {...p} rows={2} value={form.description} maxLength={4000} onChange={set("description")} />}
      </Field>
      <Field label={t("changes.implementationPlan")} error={errors.implementation_plan}>
        {(p) => <Textarea {...p} rows={3} value={form.implementation_plan} onChange={set("implementation_plan")} />}
      </Field>
      <Field label={t("changes.backoutPlan")} error={errors.backout_plan}>
        {(p) => <Textarea {...p} rows={3} value={form.backout_plan} onChange={set("backout_plan")} />}
      </Field>
      <Field label={t("changes.testPlan")} error={errors.test_plan}>
        {(p) => <Textarea {...p} rows={3} value={form.test_plan} onChange={set("test_plan")} />}
      </Field>
      {stale ? (
        <StaleNotice title={t("changes.tpl.stale")} reload={reload} />
      ) : save.isError && (!Object.keys(errors).length || Object.keys(errors).some((f) => !(f in form))) ? (
        <Alert>{describeError(save.error)}</Alert>
      ) : null}
      <div className="flex gap-2">
        <Button type="submit" variant="primary" busy={save.isPending}>
          {t("changes.tpl.save")}
        </Button>
        <Button onClick={onDone}>{t("changes.tpl.cancel")}</Button>
      </div>
    </form>
  );
}
