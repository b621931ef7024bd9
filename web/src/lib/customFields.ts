/**
 * A category's custom fields, from the JSON Schema subset the API accepts
 * (servicedesk/catalog/jsonschema.py): a flat object of string, integer, number, boolean
 * and array-of-string properties. The checks mirror the server's so a person hears about
 * a mistake before submitting; the server still decides, and its field errors
 * (custom_fields.<name>) are shown next to the same inputs.
 */
import { t } from "../i18n";

export type FieldKind = "string" | "integer" | "number" | "boolean" | "array";

export interface FieldSpec {
  name: string;
  kind: FieldKind;
  title: string;
  description?: string;
  required: boolean;
  enum?: (string | number)[];
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: "date" | "email";
  minimum?: number;
  maximum?: number;
  itemEnum?: string[];
  default?: unknown;
}

/** Form state: text inputs keep what was typed; checkboxes a boolean; lists an array. */
export type RawValue = string | boolean | string[];
export type RawValues = Record<string, RawValue>;

const KINDS: readonly FieldKind[] = ["string", "integer", "number", "boolean", "array"];
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function num(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

function humanize(name: string): string {
  const spaced = name.replaceAll("_", " ").trim();
  return spaced.charAt(0).toUpperCase() + spaced.slice(1);
}

export function fieldsFromSchema(schema: unknown): FieldSpec[] {
  if (!isRecord(schema) || !isRecord(schema.properties)) return [];
  const requiredList: string[] = Array.isArray(schema.required) ? schema.required.filter((r): r is string => typeof r === "string") : [];
  const required = new Set(requiredList);
  // The API keeps the schema as JSONB, which does not keep the order of keys: show the
  // required fields first, in the order `required` lists them, then the rest.
  const names = [...requiredList, ...Object.keys(schema.properties).filter((n) => !required.has(n))];
  const specs: FieldSpec[] = [];
  for (const name of names) {
    const prop = schema.properties[name];
    if (!isRecord(prop) || !KINDS.includes(prop.type as FieldKind)) continue;
    const items = isRecord(prop.items) ? prop.items : {};
    const spec: FieldSpec = {
      name,
      kind: prop.type as FieldKind,
      title: typeof prop.title === "string" && prop.title ? prop.title : humanize(name),
      required: required.has(name),
    };
    if (typeof prop.description === "string") spec.description = prop.description;
    if (Array.isArray(prop.enum)) spec.enum = prop.enum as (string | number)[];
    if (Array.isArray(items.enum)) spec.itemEnum = items.enum as string[];
    const minLength = num(prop.minLength);
    const maxLength = num(prop.maxLength);
    const minimum = num(prop.minimum);
    const maximum = num(prop.maximum);
    if (minLength !== undefined) spec.minLength = minLength;
    if (maxLength !== undefined) spec.maxLength = maxLength;
    if (minimum !== undefined) spec.minimum = minimum;
    if (maximum !== undefined) spec.maximum = maximum;
    if (typeof prop.pattern === "string") spec.pattern = prop.pattern;
    if (prop.format === "date" || prop.format === "email") spec.format = prop.format;
    if ("default" in prop) spec.default = prop.default;
    specs.push(spec);
  }
  return specs;
}

/** Form state for stored values (a CI's attributes): what the inputs show for them. */
export function rawValues(specs: FieldSpec[], stored: Record<string, unknown>): RawValues {
  const values = initialValues(specs);
  for (const spec of specs) {
    if (!(spec.name in stored)) {
      values[spec.name] = spec.kind === "boolean" ? false : spec.kind === "array" ? [] : "";
      continue;
    }
    const v = stored[spec.name];
    if (spec.kind === "boolean") values[spec.name] = v === true;
    else if (spec.kind === "array") values[spec.name] = Array.isArray(v) ? v.map(String) : [];
    else values[spec.name] = v === undefined || v === null ? "" : String(v);
  }
  return values;
}

export function initialValues(specs: FieldSpec[]): RawValues {
  const values: RawValues = {};
  for (const spec of specs) {
    const d = spec.default;
    if (spec.kind === "boolean") values[spec.name] = d === true;
    else if (spec.kind === "array") values[spec.name] = Array.isArray(d) ? d.map(String) : [];
    else values[spec.name] = d === undefined || d === null ? "" : String(d);
  }
  return values;
}

/** The typed value of one input, or undefined when it is empty (absent). */
export function parseValue(spec: FieldSpec, raw: RawValue | undefined): unknown {
  if (raw === undefined) return undefined;
  switch (spec.kind) {
    case "boolean":
      return raw === true;
    case "array": {
      const list = Array.isArray(raw) ? raw : String(raw).split(",");
      const items = list.map((s) => s.trim()).filter(Boolean);
      return items.length ? items : undefined;
    }
    case "integer":
    case "number": {
      const text = String(raw).trim();
      return text === "" ? undefined : Number(text);
    }
    default: {
      const text = String(raw);
      return text.trim() === "" ? undefined : text;
    }
  }
}

function stringProblem(spec: FieldSpec, value: string): string | null {
  if (spec.minLength !== undefined && value.length < spec.minLength)
    return t("fields.minLength", { n: spec.minLength });
  if (spec.maxLength !== undefined && value.length > spec.maxLength)
    return t("fields.maxLength", { n: spec.maxLength });
  if (spec.pattern !== undefined) {
    try {
      if (!new RegExp(spec.pattern, "u").test(value)) return t("fields.pattern");
    } catch {
      // A Python pattern JavaScript cannot compile: leave the check to the server.
    }
  }
  if (spec.format === "email" && !EMAIL.test(value)) return t("fields.email");
  if (spec.format === "date" && (!DATE.test(value) || Number.isNaN(Date.parse(value))))
    return t("fields.date");
  return null;
}

/** The first rule the value breaks, in the server's words, or null. */
export function validateValue(spec: FieldSpec, value: unknown): string | null {
  if (value === undefined || value === null) return spec.required ? t("fields.required") : null;
  if (spec.kind === "integer" && !(typeof value === "number" && Number.isInteger(value)))
    return t("fields.integer");
  if (spec.kind === "number" && !(typeof value === "number" && Number.isFinite(value)))
    return t("fields.number");
  if (spec.enum && !spec.enum.includes(value as string | number))
    return t("fields.enum");
  if (typeof value === "string") return stringProblem(spec, value);
  if (typeof value === "number") {
    if (spec.minimum !== undefined && value < spec.minimum) return t("fields.minimum", { n: spec.minimum });
    if (spec.maximum !== undefined && value > spec.maximum) return t("fields.maximum", { n: spec.maximum });
  }
  if (Array.isArray(value) && spec.itemEnum) {
    if (value.some((item) => !spec.itemEnum?.includes(item as string)))
      return t("fields.itemEnum");
  }
  return null;
}

export interface Parsed {
  values: Record<string, unknown>;
  errors: Record<string, string>;
}

/** The payload for `custom_fields` (or another object: a CI's `attributes`), and errors
 * keyed `<prefix>.<name>` like the API's. */
export function collect(specs: FieldSpec[], raw: RawValues, prefix = "custom_fields"): Parsed {
  const values: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  for (const spec of specs) {
    const value = parseValue(spec, raw[spec.name]);
    const problem = validateValue(spec, value);
    if (problem) errors[`${prefix}.${spec.name}`] = problem;
    else if (value !== undefined) values[spec.name] = value;
  }
  return { values, errors };
}

/** Stored values for display: titles from the schema where known, in its order. */
export function displayValues(schema: unknown, values: Record<string, unknown>): { label: string; value: string }[] {
  const specs = fieldsFromSchema(schema);
  const known = specs.filter((s) => s.name in values).map((s) => ({ name: s.name, label: s.title }));
  const rest = Object.keys(values)
    .filter((name) => !specs.some((s) => s.name === name))
    .map((name) => ({ name, label: humanize(name) }));
  return [...known, ...rest].map(({ name, label }) => {
    const value = values[name];
    const text = Array.isArray(value) ? value.join(", ") : typeof value === "boolean" ? (value ? t("fields.yes") : t("fields.no")) : String(value);
    return { label, value: text };
  });
}
