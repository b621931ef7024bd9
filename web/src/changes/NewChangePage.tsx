import { useMutation } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useNavigate } from "react-router";
import { api, idempotencyKey, ok } from "../api/client";
import { describeError } from "../api/problem";
import { Alert, Button, Card, Field, Input, PageHeader, Textarea } from "../components/ui";
import { t } from "../i18n/changes";
import { TYPE_LABELS, toInstant, useTemplates, type ChangeType } from "./api";
import { Choice, entries, onSubmit } from "./parts";

/** Raise a change: its type (a standard change names its pre-approved template), the
 * planned window and the plans. Risk, CIs and the approval follow on its page. */
export default function NewChangePage() {
  const navigate = useNavigate();
  const templates = useTemplates();
  const [type, setType] = useState<ChangeType>("normal");
  const [templateId, setTemplateId] = useState("");
  const [title, setTitle] = useState("");
  const [description, setDescription] = useState("");
  const [start, setStart] = useState("");
  const [end, setEnd] = useState("");
  const [plans, setPlans] = useState({ implementation_plan: "", backout_plan: "", test_plan: "" });
  const [missing, setMissing] = useState(false);
  const create = useMutation({
    mutationFn: () =>
      ok(
        api.POST("/v1/changes", {
          params: { header: { "Idempotency-Key": idempotencyKey() } },
          body: {
            title: title.trim(),
            description,
            type,
            template_id: type === "standard" ? templateId || null : null,
            planned_start: toInstant(start),
            planned_end: toInstant(end),
            ...plans,
          },
        }),
      ),
    onSuccess: (made) => void navigate(`/changes/${made.id}`),
  });
  const submit = onSubmit(() => {
    if (!title.trim() || (type === "standard" && !templateId)) {
      setMissing(true);
      return;
    }
    setMissing(false);
    create.mutate();
  });
  const active = templates.data?.filter((tpl) => tpl.active) ?? [];
  return (
    <>
      <p className="mb-2">
        <Link to="/changes" className="text-accent-text underline">
          {t("changes.back")}
        </Link>
      </p>
      <PageHeader title={t("changes.new")}>{t("changes.newIntro")}</PageHeader>
      <Card className="p-4">
        <form className="grid gap-3" onSubmit={submit} noValidate>
          <Field label={t("changes.titleLabel")} required error={missing && !title.trim() ? t("changes.required") : undefined}>
            {(p) => <Input {...p} value={title} maxLength={300} onChange={(e) => setTitle(e.target.value)} />}
          </Field>
          <Choice label={t("changes.typeLabel")} value={type} options={entries(TYPE_LABELS)} onChange={(next) => setType(next || "normal")} />
          {type === "standard" ? (
            <Choice
              label={t("changes.template")}
              required
              error={missing && !templateId ? t("changes.required") : undefined}
              value={templateId}
              empty={t("changes.chooseTemplate")}
              options={active.map((tpl) => [tpl.id, tpl.name] as const)}
              onChange={setTemplateId}
            />
          ) : null}
          <Field label={t("changes.description")}>
            {(p) => <Textarea {...p} rows={3} value={description} onChange={(e) => setDescription(e.target.value)} />}
          </Field>
          <div className="grid gap-3 sm:grid-cols-2">
            <Field label={t("changes.plannedStart")}>
              {(p) => <Input {...p} type="datetime-local" value={start} onChange={(e) => setStart(e.target.value)} />}
            </Field>
            <Field label={t("changes.plannedEnd")}>
              {(p) => <Input {...p} type="datetime-local" value={end} onChange={(e) => setEnd(e.target.value)} />}
            </Field>
          </div>
          <Field label={t("changes.implementationPlan")}>
            {(p) => <Textarea {...p} rows={3} value={plans.implementation_plan} onChange={(e) => setPlans({ ...plans, implementation_plan: e.target.value })} />}
          </Field>
          <Field label={t("changes.backoutPlan")}>
            {(p) => <Textarea {...p} rows={3} value={plans.backout_plan} onChange={(e) => setPlans({ ...plans, backout_plan: e.target.value })} />}
          </Field>
          <Field label={t("changes.testPlan")}>
            {(p) => <Textarea {...p} rows={3} value={plans.test_plan} onChange={(e) => setPlans({ ...plans, test_plan: e.target.value })} />}
          </Field>
          {create.isError ? <Alert>{describeError(create.error)}</Alert> : null}
          <div>
            <Button type="submit" variant="primary" busy={create.isPending}>
              {t("changes.create")}
            </Button>
          </div>
        </form>
      </Card>
    </>
  );
}
