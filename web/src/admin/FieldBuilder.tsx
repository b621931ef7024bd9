import { useMemo, useState } from "react";
import { Button, Field, Input, Select, Textarea, cx } from "../components/ui";
import { fieldsFromSchema, initialValues, type RawValues } from "../lib/customFields";
import { CustomFieldsForm } from "../portal/CustomFieldsForm";
import { Checkbox } from "./fields";
import { KIND_LABELS, emptyField, fromSchema, rowErrors, toSchema, type Builder, type BuilderField, type BuilderKind, type JsonSchema } from "./schemaBuilder";
import { t } from "../i18n/admin";

const KINDS = Object.keys(KIND_LABELS) as BuilderKind[];

function FieldRow({
  field,
  index,
  count,
  errors,
  onChange,
  onMove,
  onRemove,
}: {
  field: BuilderField;
  index: number;
  count: number;
  errors: Record<string, string>;
  onChange: (field: BuilderField) => void;
  onMove: (delta: -1 | 1) => void;
  onRemove: () => void;
}) {
  const e = rowErrors(field, errors);
  const set = <K extends keyof BuilderField>(key: K, value: BuilderField[K]) => onChange({ ...field, [key]: value });
  const legend = t("admin.fieldBuilder.fieldValueValue2", { value: index + 1, value2: field.name ? `: ${field.name}` : "" });
  const hasOptions = field.kind !== "boolean";
  return (
    <fieldset className="min-w-0 rounded-md border border-border p-3" data-testid="builder-field">
      <legend className="px-1 font-semibold">{legend}</legend>
      <div className="grid *:min-w-0 gap-3 sm:grid-cols-2">
        <Field label={t("admin.fieldBuilder.fieldName")} required error={e.name} description={t("admin.fieldBuilder.usedByTheApi")}>
          {(p) => <Input {...p} maxLength={64} spellCheck={false} autoCapitalize="off" value={field.name} onChange={(ev) => set("name", ev.target.value)} />}
        </Field>
        <Field label={t("admin.fieldBuilder.label")} error={e.title} description={t("admin.fieldBuilder.whatPeopleSeeOn")}>
          {(p) => <Input {...p} maxLength={1000} value={field.title} onChange={(ev) => set("title", ev.target.value)} />}
        </Field>
        <Field label={t("admin.fieldBuilder.kind")} error={e.type}>
          {(p) => (
            <Select {...p} value={field.kind} onChange={(ev) => set("kind", ev.target.value as BuilderKind)}>
              {KINDS.map((k) => (
                <option key={k} value={k}>
                  {KIND_LABELS[k]}
                </option>
              ))}
            </Select>
          )}
        </Field>
        <div className="flex items-end pb-2">
          <Checkbox label={t("admin.fieldBuilder.required")} checked={field.required} onChange={(v) => set("required", v)} />
        </div>
        <Field label={t("admin.fieldBuilder.helpText")} error={e.description} className="sm:col-span-2">
          {(p) => <Input {...p} maxLength={1000} value={field.description} onChange={(ev) => set("description", ev.target.value)} />}
        </Field>
        {hasOptions ? (
          <Field
            label={field.kind === "array" ? t("admin.fieldBuilder.allowedItems") : t("admin.fieldBuilder.allowedValues")}
            error={e.options ?? e.enum}
            description={t("admin.fieldBuilder.oneALineLeave")}
            className="sm:col-span-2"
          >
            {(p) => <Textarea {...p} className="min-h-16 font-mono" rows={3} value={field.options} onChange={(ev) => set("options", ev.target.value)} />}
          </Field>
        ) : null}
        {field.kind === "string" ? (
          <>
            <Field label={t("admin.fieldBuilder.minimumLength")} error={e.minLength}>
              {(p) => <Input {...p} inputMode="numeric" value={field.minLength} onChange={(ev) => set("minLength", ev.target.value)} />}
            </Field>
            <Field label={t("admin.fieldBuilder.maximumLength")} error={e.maxLength}>
              {(p) => <Input {...p} inputMode="numeric" value={field.maxLength} onChange={(ev) => set("maxLength", ev.target.value)} />}
            </Field>
            <Field label={t("admin.fieldBuilder.pattern")} error={e.pattern} description={t("admin.fieldBuilder.aRegularExpressionThe")}>
              {(p) => <Input {...p} className="font-mono" spellCheck={false} maxLength={500} value={field.pattern} onChange={(ev) => set("pattern", ev.target.value)} />}
            </Field>
            <Field label={t("admin.fieldBuilder.format")} error={e.format}>
              {(p) => (
                <Select {...p} value={field.format} onChange={(ev) => set("format", ev.target.value as BuilderField["format"])}>
                  <option value="">{t("admin.fieldBuilder.anyText")}</option>
                  <option value="date">{t("admin.fieldBuilder.dateYyyyMmDd")}</option>
                  <option value="email">{t("admin.fieldBuilder.eMailAddress")}</option>
                </Select>
              )}
            </Field>
          </>
        ) : null}
        {field.kind === "integer" || field.kind === "number" ? (
          <>
            <Field label={t("admin.fieldBuilder.minimum")} error={e.minimum}>
              {(p) => <Input {...p} inputMode="decimal" value={field.minimum} onChange={(ev) => set("minimum", ev.target.value)} />}
            </Field>
            <Field label={t("admin.fieldBuilder.maximum")} error={e.maximum}>
              {(p) => <Input {...p} inputMode="decimal" value={field.maximum} onChange={(ev) => set("maximum", ev.target.value)} />}
            </Field>
          </>
        ) : null}
        {field.kind === "boolean" ? (
          <Field label={t("admin.fieldBuilder.default")} error={e.default}>
            {(p) => (
              <Select {...p} value={field.default} onChange={(ev) => set("default", ev.target.value)}>
                <option value="">{t("admin.fieldBuilder.none")}</option>
                <option value="true">{t("admin.fieldBuilder.yes")}</option>
                <option value="false">{t("admin.fieldBuilder.no")}</option>
              </Select>
            )}
          </Field>
        ) : (
          <Field label={t("admin.fieldBuilder.default")} error={e.default} description={field.kind === "array" ? t("admin.fieldBuilder.separateItemsWithCommas") : undefined}>
            {(p) => <Input {...p} value={field.default} onChange={(ev) => set("default", ev.target.value)} />}
          </Field>
        )}
      </div>
      <div className="mt-3 flex flex-wrap gap-2">
        <Button size="sm" variant="ghost" disabled={index === 0} onClick={() => onMove(-1)}>
          {t("admin.fieldBuilder.moveUp")}<span className="sr-only"> {legend}</span>
        </Button>
        <Button size="sm" variant="ghost" disabled={index === count - 1} onClick={() => onMove(1)}>
          {t("admin.fieldBuilder.moveDown")}<span className="sr-only"> {legend}</span>
        </Button>
        <Button size="sm" variant="ghost" onClick={onRemove}>
          {t("admin.fieldBuilder.remove")}<span className="sr-only"> {legend}</span>
        </Button>
      </div>
    </fieldset>
  );
}

/** What the employee's form will look like, from the schema being built. */
function Preview({ schema }: { schema: JsonSchema }) {
  const specs = useMemo(() => fieldsFromSchema(schema), [schema]);
  const [values, setValues] = useState<RawValues>({});
  const merged = { ...initialValues(specs), ...values };
  if (!specs.length) return <p className="text-fg-muted">{t("admin.fieldBuilder.noCustomFieldsThe")}</p>;
  return (
    <div className="space-y-3">
      <CustomFieldsForm specs={specs} values={merged} errors={{}} onChange={(name, v) => setValues((all) => ({ ...all, [name]: v }))} />
    </div>
  );
}

export type BuilderMode = "form" | "json";

/**
 * The custom fields of a category: rows of a form (the usual way), or the JSON itself for
 * those who prefer it. Switching from JSON back to the form parses it; what does not parse
 * stays in the text box with the reason.
 */
export function FieldBuilder({
  builder,
  onChange,
  mode,
  onMode,
  json,
  onJson,
  jsonError,
  errors,
  schema,
  title = t("admin.fieldBuilder.customFields"),
}: {
  title?: string;
  builder: Builder;
  onChange: (builder: Builder) => void;
  mode: BuilderMode;
  onMode: (mode: BuilderMode) => void;
  json: string;
  onJson: (text: string) => void;
  jsonError: string | null;
  errors: Record<string, string>;
  schema: JsonSchema | null;
}) {
  const fields = builder.fields;
  const update = (index: number, field: BuilderField) => onChange({ ...builder, fields: fields.map((f, i) => (i === index ? field : f)) });
  const move = (index: number, delta: -1 | 1) => {
    const next = [...fields];
    const [item] = next.splice(index, 1);
    if (item) next.splice(index + delta, 0, item);
    onChange({ ...builder, fields: next });
  };
  const schemaErrors = Object.entries(errors).filter(([k]) => k.startsWith("fields_schema."));
  const tabClass = (active: boolean) =>
    cx("-mb-px border-b-2 px-3 py-2 font-medium", active ? "border-accent text-accent-text" : "border-transparent text-fg-muted hover:text-fg");
  return (
    <section aria-labelledby="fields-heading" className="space-y-3">
      <div className="flex flex-wrap items-end justify-between gap-2 border-b border-border">
        <h2 id="fields-heading" className="pb-2 font-semibold">
          {title}
        </h2>
        <div role="group" aria-label={t("admin.fieldBuilder.editTheFieldsAs")} className="flex gap-1">
          <button type="button" aria-pressed={mode === "form"} className={tabClass(mode === "form")} onClick={() => onMode("form")}>
            {t("admin.fieldBuilder.form")}
          </button>
          <button type="button" aria-pressed={mode === "json"} className={tabClass(mode === "json")} onClick={() => onMode("json")}>
            {t("admin.fieldBuilder.json")}
          </button>
        </div>
      </div>
      {mode === "form" ? (
        <>
          {errors["fields_schema.properties"] ? <p className="font-medium text-danger-text">{errors["fields_schema.properties"]}</p> : null}
          {fields.length ? null : <p className="text-fg-muted">{t("admin.fieldBuilder.noCustomFieldsYet")}</p>}
          {fields.map((field, index) => (
            <FieldRow
              key={field.key}
              field={field}
              index={index}
              count={fields.length}
              errors={errors}
              onChange={(f) => update(index, f)}
              onMove={(delta) => move(index, delta)}
              onRemove={() => onChange({ ...builder, fields: fields.filter((_, i) => i !== index) })}
            />
          ))}
          <div className="flex flex-wrap items-center gap-4">
            <Button onClick={() => onChange({ ...builder, fields: [...fields, emptyField()] })}>{t("admin.fieldBuilder.addAField")}</Button>
            <Checkbox
              label={t("admin.fieldBuilder.acceptValuesForFields")}
              checked={builder.additionalProperties}
              onChange={(v) => onChange({ ...builder, additionalProperties: v })}
            />
          </div>
        </>
      ) : (
        <Field
          label={t("admin.fieldBuilder.fieldsSchemaJson")}
          error={jsonError ?? undefined}
          description={t("admin.fieldBuilder.aJsonSchemaSubset")}
        >
          {(p) => <Textarea {...p} className="min-h-64 font-mono" spellCheck={false} value={json} onChange={(e) => onJson(e.target.value)} />}
        </Field>
      )}
      {mode === "json" && schemaErrors.length ? (
        <ul className="list-disc pl-5 font-medium text-danger-text" aria-label={t("admin.fieldBuilder.problemsInTheSchema")}>
          {schemaErrors.map(([k, v]) => (
            <li key={k}>
              <span className="font-mono">{k.replace(/^fields_schema\.?/, "") || t("admin.fieldBuilder.schema")}</span>: {v}
            </li>
          ))}
        </ul>
      ) : null}
      {schema ? (
        <details className="rounded-md border border-border p-3">
          <summary className="cursor-pointer font-medium">{t("admin.fieldBuilder.previewOfTheRequest")}</summary>
          <div className="mt-3">
            <Preview schema={schema} />
          </div>
        </details>
      ) : null}
    </section>
  );
}

/** What a form with a field builder holds: the rows, or the JSON text, and which is shown. */
export interface SchemaForm {
  builder: Builder;
  mode: BuilderMode;
  json: string;
}

/** The schema the form holds (from the rows or from the JSON text), or why there is none;
 * errors keyed `fields_schema…` as the builder shows them. */
export function schemaOf(form: SchemaForm): { schema: unknown; errors: Record<string, string> } {
  if (form.mode === "form") return toSchema(form.builder);
  try {
    return { schema: JSON.parse(form.json) as unknown, errors: {} };
  } catch (error) {
    return { schema: null, errors: { fields_schema: t("admin.category.notValidJsonMessage", { message: (error as Error).message }) } };
  }
}

/** Switching between the rows and the JSON: the JSON from the rows, or the rows parsed
 * from the JSON (text that does not parse stays, with the reason in `jsonProblem`). */
export function useBuilderMode<F extends SchemaForm>(form: F, setForm: (update: (f: F) => F) => void) {
  const [jsonProblem, setJsonProblem] = useState<string | null>(null);
  function switchMode(mode: BuilderMode) {
    if (mode === form.mode) return;
    setJsonProblem(null);
    if (mode === "json") {
      setForm((f) => ({ ...f, mode, json: JSON.stringify(toSchema(f.builder).schema, null, 2) }));
      return;
    }
    try {
      const parsed = JSON.parse(form.json) as unknown;
      setForm((f) => ({ ...f, mode, builder: fromSchema(parsed) }));
    } catch (error) {
      setJsonProblem(t("admin.category.notValidJsonMessage", { message: (error as Error).message }));
    }
  }
  const preview = useMemo(() => {
    const { schema, errors } = schemaOf(form);
    return Object.keys(errors).length ? null : (schema as JsonSchema);
  }, [form]);
  return { switchMode, jsonProblem, clearJsonProblem: () => setJsonProblem(null), preview };
}
