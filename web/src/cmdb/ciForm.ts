/**
 * A configuration item's form: the fixed fields and the class's attributes, generated from
 * the class's JSON schema (lib/customFields: the same mapping as a category's custom fields),
 * and the body the API takes. Errors are keyed like the server's (`name`, `attributes.<n>`).
 */
import { collect, fieldsFromSchema, rawValues, type FieldSpec, type RawValues } from "../lib/customFields";
import { t } from "../i18n/cmdb";
import type { CI, CIClass, CIState } from "./api";

export interface CiForm {
  class_id: string;
  name: string;
  state: CIState;
  owner: string[];
  location: string;
  serial: string;
  asset_tag: string;
  external_id: string;
  attributes: RawValues;
}

export function specsOf(classes: CIClass[] | undefined, classId: string): FieldSpec[] {
  return fieldsFromSchema(classes?.find((c) => c.id === classId)?.attributes_schema ?? {});
}

export function toCiForm(ci: CI | null, classes: CIClass[] | undefined): CiForm {
  const classId = ci?.class_id ?? "";
  return {
    class_id: classId,
    name: ci?.name ?? "",
    state: ci?.state ?? "ordered",
    owner: ci?.owner_id ? [ci.owner_id] : [],
    location: ci?.location ?? "",
    serial: ci?.serial ?? "",
    asset_tag: ci?.asset_tag ?? "",
    external_id: ci?.external_id ?? "",
    attributes: rawValues(specsOf(classes, classId), ci?.attributes ?? {}),
  };
}

/** The form's attributes when another class is chosen: the new class's inputs, keeping
 * what was typed into a field of the same name. */
export function switchClass(form: CiForm, classes: CIClass[] | undefined, classId: string): CiForm {
  const fresh = rawValues(specsOf(classes, classId), {});
  for (const name of Object.keys(fresh)) {
    const typed = form.attributes[name];
    if (typed !== undefined && typeof typed === typeof fresh[name]) fresh[name] = typed;
  }
  return { ...form, class_id: classId, attributes: fresh };
}

/** The request body and the problems found before sending (nothing to send if any).
 * Stored attributes the schema does not name are kept while the class stays the same. */
export function ciBody(form: CiForm, classes: CIClass[] | undefined, base: CI | null) {
  const specs = specsOf(classes, form.class_id);
  const { values, errors } = collect(specs, form.attributes, "attributes");
  if (!form.class_id) errors.class_id = t("cmdb.form.required");
  if (!form.name.trim()) errors.name = t("cmdb.form.required");
  const kept: Record<string, unknown> = {};
  if (base && base.class_id === form.class_id) {
    for (const [name, value] of Object.entries(base.attributes)) if (!specs.some((s) => s.name === name)) kept[name] = value;
  }
  const optional = (text: string) => (text.trim() ? text.trim() : null);
  const body = {
    class_id: form.class_id,
    name: form.name.trim(),
    state: form.state,
    owner_id: form.owner[0] ?? null,
    location: form.location.trim(),
    serial: optional(form.serial),
    asset_tag: optional(form.asset_tag),
    external_id: optional(form.external_id),
    attributes: { ...kept, ...values },
  };
  return { body, errors };
}
