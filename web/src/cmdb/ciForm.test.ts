import { describe, expect, test } from "vitest";
import type { CI, CIClass } from "./api";
import { statesFor } from "./api";
import { ciBody, specsOf, switchClass, toCiForm } from "./ciForm";

const klass = (id: string, schema: Record<string, unknown>): CIClass => ({
  id,
  key: id,
  name: id,
  description: "",
  attributes_schema: schema,
  position: 1,
  builtin: false,
  version: 1,
  created_at: "2026-01-01T00:00:00Z",
  updated_at: "2026-01-01T00:00:00Z",
});

const laptop = klass("laptop", {
  type: "object",
  required: ["cpu"],
  properties: {
    cpu: { type: "integer", minimum: 1, title: "Cores" },
    ram: { type: "number" },
    managed: { type: "boolean" },
    os: { type: "string", enum: ["linux", "windows"] },
    bought: { type: "string", format: "date" },
    tags: { type: "array", items: { type: "string" } },
  },
});
const phone = klass("phone", { type: "object", properties: { os: { type: "string" }, imei: { type: "string" } } });
const classes = [laptop, phone];

const ci = (patch: Partial<CI> = {}): CI => ({
  id: "c1",
  class_id: "laptop",
  name: "Ada's laptop",
  state: "deployed",
  owner_id: "u1",
  location: "HQ",
  serial: "SN1",
  asset_tag: null,
  external_id: "L-1",
  attributes: { cpu: 8, managed: true, os: "linux", tags: ["a", "b"], legacy: "kept" },
  version: 3,
  created_at: "2026-01-01T00:00:00Z",
  updated_at: "2026-01-01T00:00:00Z",
  ...patch,
});

describe("the class schema as a form", () => {
  test("each kind of attribute becomes its input, required first, titles from the schema", () => {
    const specs = specsOf(classes, "laptop");
    expect(specs.map((s) => [s.name, s.kind, s.required])).toEqual([
      ["cpu", "integer", true],
      ["ram", "number", false],
      ["managed", "boolean", false],
      ["os", "string", false],
      ["bought", "string", false],
      ["tags", "array", false],
    ]);
    expect(specs[0]?.title).toBe("Cores");
    expect(specs.find((s) => s.name === "os")?.enum).toEqual(["linux", "windows"]);
    expect(specs.find((s) => s.name === "bought")?.format).toBe("date");
  });

  test("a stored CI fills the inputs; its body gives back the same typed values and keeps attributes the schema does not name", () => {
    const base = ci();
    const form = toCiForm(base, classes);
    expect(form.attributes).toEqual({ cpu: "8", ram: "", managed: true, os: "linux", bought: "", tags: ["a", "b"] });
    expect(form.owner).toEqual(["u1"]);
    const { body, errors } = ciBody({ ...form, attributes: { ...form.attributes, ram: "15.5", bought: "2026-03-01" } }, classes, base);
    expect(errors).toEqual({});
    expect(body.attributes).toEqual({ legacy: "kept", cpu: 8, ram: 15.5, managed: true, os: "linux", bought: "2026-03-01", tags: ["a", "b"] });
    expect(body.owner_id).toBe("u1");
    expect(body.asset_tag).toBeNull();
  });

  test("problems are keyed like the server's (attributes.<name>, name, class_id) before anything is sent", () => {
    const form = toCiForm(null, classes);
    expect(ciBody(form, classes, null).errors).toEqual({ class_id: "Required", name: "Required" });
    const chosen = switchClass({ ...form, name: "x" }, classes, "laptop");
    const { errors } = ciBody({ ...chosen, attributes: { ...chosen.attributes, bought: "soon", os: "beos" } }, classes, null);
    expect(Object.keys(errors).sort()).toEqual(["attributes.bought", "attributes.cpu", "attributes.os"]);
  });

  test("another class: its inputs, keeping what was typed into a field of the same name; the old class's extras are dropped", () => {
    const base = ci();
    const form = switchClass(toCiForm(base, classes), classes, "phone");
    expect(form.attributes).toEqual({ os: "linux", imei: "" });
    expect(ciBody(form, classes, base).body.attributes).toEqual({ os: "linux" });
  });

  test("the states offered: a new CI any but disposed; an existing one its own and its allowed moves", () => {
    expect(statesFor(null)).not.toContain("disposed");
    expect(statesFor("retired")).toEqual(["retired", "in_stock", "disposed"]);
    expect(statesFor("disposed")).toEqual(["disposed"]);
  });
});
