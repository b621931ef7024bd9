import type { FieldSpec, RawValue, RawValues } from "../lib/customFields";
import { Field, Input, Select, Textarea } from "../components/ui";
import { t } from "../i18n";

interface Props {
  specs: FieldSpec[];
  values: RawValues;
  errors: Record<string, string>;
  onChange: (name: string, value: RawValue) => void;
  /** Where the server's errors for these fields live (`custom_fields`, a CI's `attributes`). */
  prefix?: string;
}

function Control({ spec, value, onChange, ...aria }: { spec: FieldSpec; value: RawValue | undefined; onChange: (v: RawValue) => void } & Record<string, unknown>) {
  const text = typeof value === "string" ? value : "";
  if (spec.enum && spec.kind !== "array") {
    return (
      <Select {...aria} value={text} onChange={(e) => onChange(e.target.value)}>
        <option value="">{spec.required ? t("portal.fields.choose") : "—"}</option>
        {spec.enum.map((option) => (
          <option key={String(option)} value={String(option)}>
            {String(option)}
          </option>
        ))}
      </Select>
    );
  }
  switch (spec.kind) {
    case "integer":
    case "number":
      return (
        <Input
          {...aria}
          type="number"
          inputMode={spec.kind === "integer" ? "numeric" : "decimal"}
          step={spec.kind === "integer" ? 1 : "any"}
          min={spec.minimum}
          max={spec.maximum}
          value={text}
          onChange={(e) => onChange(e.target.value)}
        />
      );
    case "array":
      return (
        <Input
          {...aria}
          value={Array.isArray(value) ? value.join(", ") : text}
          onChange={(e) => onChange(e.target.value.split(","))}
        />
      );
    default:
      if (spec.format === "date") return <Input {...aria} type="date" value={text} onChange={(e) => onChange(e.target.value)} />;
      if (spec.format === "email") return <Input {...aria} type="email" value={text} onChange={(e) => onChange(e.target.value)} />;
      if ((spec.maxLength ?? 0) > 200)
        return <Textarea {...aria} maxLength={spec.maxLength} value={text} onChange={(e) => onChange(e.target.value)} />;
      return <Input {...aria} maxLength={spec.maxLength} value={text} onChange={(e) => onChange(e.target.value)} />;
  }
}

function Checkbox({ spec, value, error, onChange }: { spec: FieldSpec; value: boolean; error?: string | undefined; onChange: (v: boolean) => void }) {
  const id = `cf-${spec.name}`;
  return (
    <div className="space-y-1">
      <div className="flex items-center gap-2">
        <input
          id={id}
          type="checkbox"
          className="h-4 w-4 accent-accent"
          checked={value}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? `${id}-error` : undefined}
          onChange={(e) => onChange(e.target.checked)}
        />
        <label htmlFor={id} className="font-medium">
          {spec.title}
        </label>
      </div>
      {spec.description ? <p className="text-fg-muted">{spec.description}</p> : null}
      {error ? (
        <p id={`${id}-error`} className="font-medium text-danger-text">
          {error}
        </p>
      ) : null}
    </div>
  );
}

/** Inputs for a category's custom fields, generated from its JSON schema. */
export function CustomFieldsForm({ specs, values, errors, onChange, prefix = "custom_fields" }: Props) {
  return (
    <>
      {specs.map((spec) => {
        const error = errors[`${prefix}.${spec.name}`];
        if (spec.kind === "boolean")
          return (
            <Checkbox key={spec.name} spec={spec} value={values[spec.name] === true} error={error} onChange={(v) => onChange(spec.name, v)} />
          );
        const description =
          spec.kind === "array" ? [spec.description, t("portal.fields.severalHelp")].filter(Boolean).join(" ") : spec.description;
        return (
          <Field key={spec.name} label={spec.title} required={spec.required} error={error} description={description}>
            {(aria) => <Control spec={spec} value={values[spec.name]} onChange={(v) => onChange(spec.name, v)} {...aria} />}
          </Field>
        );
      })}
    </>
  );
}
