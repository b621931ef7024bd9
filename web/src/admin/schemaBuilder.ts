/**
 * The form-based editor of a category's custom fields: rows a person fills in, turned into
 * the JSON Schema subset the server accepts (servicedesk/catalog/jsonschema.py) and back.
 *
 * Errors use the server's field names (`fields_schema.properties.<name>.<keyword>`), so
 * the server's answer lands next to the same inputs as the checks made here. Keywords the
 * rows do not edit (say `items.pattern`) are carried along untouched.
 */
import { labelled, t } from "../i18n/admin";

export type BuilderKind = "string" | "integer" | "number" | "boolean" | "array";

export interface BuilderField {
  /** Stable identity for React while the name is being typed. */
  key: string;
  name: string;
  kind: BuilderKind;
  title: string;
  description: string;
  required: boolean;
  /** Allowed values, one a line (for a list field: the allowed items). */
  options: string;
  minLength: string;
  maxLength: string;
  pattern: string;
  format: "" | "date" | "email";
  minimum: string;
  maximum: string;
  /** The default as typed ("true"/"false" for a yes/no field; commas for a list). */
  default: string;
  /** Keywords of the property (or of its items) this form does not edit. */
  extra: Record<string, unknown>;
  extraItems: Record<string, unknown>;
}

export interface Builder {
  fields: BuilderField[];
  /** Accept values for fields the schema does not name. */
  additionalProperties: boolean;
}

export type JsonSchema = {
  type: "object";
  properties: Record<string, Record<string, unknown>>;
  required?: string[];
  additionalProperties?: boolean;
};

export const KIND_LABELS: Record<BuilderKind, string> = labelled({
  string: "admin.schemaBuilder.text",
  integer: "admin.schemaBuilder.wholeNumber",
  number: "admin.schemaBuilder.number",
  boolean: "admin.schemaBuilder.yesNo",
  array: "admin.schemaBuilder.listOfTexts",
});

export const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
export const MAX_PROPERTIES = 50;
const PREFIX = "fields_schema.properties";
const EDITED = new Set(["type", "title", "description", "enum", "minLength", "maxLength", "pattern", "format", "minimum", "maximum", "default", "items"]);
const EDITED_ITEMS = new Set(["type", "enum"]);

let counter = 0;
function newKey(): string {
  counter += 1;
  return `f${counter}-${Math.random().toString(36).slice(2, 7)}`;
}

export function emptyField(kind: BuilderKind = "string"): BuilderField {
  return {
    key: newKey(),
    name: "",
    kind,
    title: "",
    description: "",
    required: false,
    options: "",
    minLength: "",
    maxLength: "",
    pattern: "",
    format: "",
    minimum: "",
    maximum: "",
    default: "",
    extra: {},
    extraItems: {},
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function text(value: unknown): string {
  return value === undefined || value === null ? "" : String(value);
}

/** The rows of a stored schema: required fields first (JSONB keeps no key order). */
export function fromSchema(schema: unknown): Builder {
  const builder: Builder = { fields: [], additionalProperties: true };
  if (!isRecord(schema)) return builder;
  if (typeof schema.additionalProperties === "boolean") builder.additionalProperties = schema.additionalProperties;
  const properties = isRecord(schema.properties) ? schema.properties : {};
  const required = Array.isArray(schema.required) ? schema.required.filter((r): r is string => typeof r === "string") : [];
  const names = [...required.filter((n) => n in properties), ...Object.keys(properties).filter((n) => !required.includes(n))];
  for (const name of names) {
    const prop = properties[name];
    if (!isRecord(prop)) continue;
    const kind = (["string", "integer", "number", "boolean", "array"] as const).find((k) => k === prop.type) ?? "string";
    const items = isRecord(prop.items) ? prop.items : {};
    const field = emptyField(kind);
    field.name = name;
    field.required = required.includes(name);
    field.title = text(prop.title);
    field.description = text(prop.description);
    const options = kind === "array" ? items.enum : prop.enum;
    field.options = Array.isArray(options) ? options.map(String).join("\n") : "";
    field.minLength = text(prop.minLength);
    field.maxLength = text(prop.maxLength);
    field.pattern = text(prop.pattern);
    field.format = prop.format === "date" || prop.format === "email" ? prop.format : "";
    field.minimum = text(prop.minimum);
    field.maximum = text(prop.maximum);
    if ("default" in prop) field.default = Array.isArray(prop.default) ? prop.default.map(String).join(", ") : text(prop.default);
    field.extra = Object.fromEntries(Object.entries(prop).filter(([k]) => !EDITED.has(k)));
    // A keyword that belongs to another kind (say pattern on a number) is kept as it was.
    if (prop.format !== undefined && field.format === "") field.extra.format = prop.format;
    field.extraItems = Object.fromEntries(Object.entries(items).filter(([k]) => !EDITED_ITEMS.has(k)));
    builder.fields.push(field);
  }
  return builder;
}

function isInteger(value: number): boolean {
  return Number.isInteger(value);
}

interface Parsed {
  schema: JsonSchema;
  errors: Record<string, string>;
}

/** A number typed into a keyword input (a length: a non-negative integer); errors keyed
 * and worded like the server's. */
function numberOf(raw: string, where: string, errors: Record<string, string>, length: boolean): number | undefined {
  const trimmed = raw.trim();
  if (!trimmed) return undefined;
  const n = Number(trimmed);
  const bad = !Number.isFinite(n) || (length && (!isInteger(n) || n < 0));
  if (bad) {
    errors[where] = length ? t("admin.schemaBuilder.mustBeANon") : t("admin.schemaBuilder.mustBeANumber");
    return undefined;
  }
  return n;
}

/** The JSON Schema of the rows, and what is wrong with them (nothing to send if any). */
export function toSchema(builder: Builder): Parsed {
  const errors: Record<string, string> = {};
  const properties: Record<string, Record<string, unknown>> = {};
  const required: string[] = [];
  const seen = new Map<string, number>();
  for (const field of builder.fields) seen.set(field.name.trim(), (seen.get(field.name.trim()) ?? 0) + 1);
  if (builder.fields.length > MAX_PROPERTIES) errors[PREFIX] = t("admin.schemaBuilder.atMostMaxProperties", { MAX_PROPERTIES });

  for (const field of builder.fields) {
    const name = field.name.trim();
    const where = `${PREFIX}.${name}`;
    if (!NAME_RE.test(name)) {
      errors[where] = name ? t("admin.schemaBuilder.namesAre164") : t("admin.schemaBuilder.aFieldNeedsA");
      continue;
    }
    if ((seen.get(name) ?? 0) > 1) {
      errors[where] = t("admin.schemaBuilder.twoFieldsHaveThis");
      continue;
    }
    const prop: Record<string, unknown> = { ...field.extra, type: field.kind };
    if (field.title.trim()) prop.title = field.title.trim();
    if (field.description.trim()) prop.description = field.description.trim();
    const options = field.options
      .split("\n")
      .map((s) => s.trim())
      .filter(Boolean);

    if (field.kind === "string") {
      const min = numberOf(field.minLength, `${where}.minLength`, errors, true);
      const max = numberOf(field.maxLength, `${where}.maxLength`, errors, true);
      if (min !== undefined) prop.minLength = min;
      if (max !== undefined) prop.maxLength = max;
      if (min !== undefined && max !== undefined && min > max) errors[`${where}.minLength`] = t("admin.schemaBuilder.mustNotExceedMaxlength");
      if (field.pattern) prop.pattern = field.pattern;
      if (field.format) prop.format = field.format;
      if (options.length) prop.enum = options;
    }
    if (field.kind === "integer" || field.kind === "number") {
      const integer = field.kind === "integer";
      const min = numberOf(field.minimum, `${where}.minimum`, errors, false);
      const max = numberOf(field.maximum, `${where}.maximum`, errors, false);
      if (min !== undefined) prop.minimum = min;
      if (max !== undefined) prop.maximum = max;
      if (min !== undefined && max !== undefined && min > max) errors[`${where}.minimum`] = t("admin.schemaBuilder.mustNotExceedMaximum");
      if (options.length) {
        const values = options.map(Number);
        if (values.some((v) => !Number.isFinite(v) || (integer && !isInteger(v)))) errors[`${where}.enum`] = t("admin.schemaBuilder.everyValueMustBe", { kind: field.kind });
        else prop.enum = values;
      }
    }
    if (field.kind === "array") {
      const items: Record<string, unknown> = { ...field.extraItems, type: "string" };
      if (options.length) items.enum = options;
      prop.items = items;
    }
    if (options.length && new Set(options).size !== options.length) {
      errors[field.kind === "array" ? `${where}.items.enum` : `${where}.enum`] = t("admin.schemaBuilder.valuesMustBeUnique");
    }

    const raw = field.default.trim();
    if (raw) {
      if (field.kind === "boolean") prop.default = raw === "true";
      else if (field.kind === "array") prop.default = raw.split(",").map((s) => s.trim()).filter(Boolean);
      else if (field.kind === "integer" || field.kind === "number") {
        const n = Number(raw);
        if (!Number.isFinite(n) || (field.kind === "integer" && !isInteger(n))) errors[`${where}.default`] = t("admin.schemaBuilder.doesNotSatisfyThe");
        else prop.default = n;
      } else prop.default = field.default;
    }
    properties[name] = prop;
    if (field.required) required.push(name);
  }
  const schema: JsonSchema = { type: "object", properties };
  if (required.length) schema.required = required;
  if (!builder.additionalProperties) schema.additionalProperties = false;
  return { schema, errors };
}

/** Where in a row a server error belongs: the row (its name) or one of its keywords. */
export function rowErrors(field: BuilderField, errors: Record<string, string>): Record<string, string> {
  const where = `${PREFIX}.${field.name.trim()}`;
  const out: Record<string, string> = {};
  for (const [key, message] of Object.entries(errors)) {
    if (key === where) out.name = message;
    else if (key.startsWith(`${where}.`)) {
      const keyword = key.slice(where.length + 1);
      const slot = keyword === "items.enum" || keyword === "enum" ? "options" : keyword.startsWith("items") ? "options" : keyword;
      out[slot] ??= message;
    }
  }
  return out;
}
