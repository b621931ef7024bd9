import { describe, expect, test } from "vitest";
import { collect, displayValues, fieldsFromSchema, initialValues, parseValue, validateValue } from "./customFields";

const schema = {
  type: "object",
  properties: {
    asset_tag: { type: "string", title: "Asset tag", pattern: "^AT-[0-9]{4}$" },
    seats: { type: "integer", minimum: 1, maximum: 10 },
    ratio: { type: "number" },
    loaner: { type: "boolean", default: true },
    apps: { type: "array", items: { type: "string", enum: ["mail", "chat"] } },
    location: { type: "string", enum: ["Office", "Home"] },
    start: { type: "string", format: "date" },
    contact: { type: "string", format: "email", maxLength: 40 },
    ignored: { type: "object" },
  },
  required: ["asset_tag", "seats"],
};

describe("fieldsFromSchema", () => {
  test("reads every supported property, titles and requiredness, and skips the rest", () => {
    const specs = fieldsFromSchema(schema);
    expect(specs.map((s) => s.name)).toEqual(["asset_tag", "seats", "ratio", "loaner", "apps", "location", "start", "contact"]);
    expect(specs[0]).toMatchObject({ title: "Asset tag", required: true, kind: "string" });
    expect(specs[1]).toMatchObject({ title: "Seats", minimum: 1, maximum: 10, required: true });
    expect(specs.find((s) => s.name === "apps")?.itemEnum).toEqual(["mail", "chat"]);
  });

  test("anything that is not a schema gives no fields", () => {
    expect(fieldsFromSchema(null)).toEqual([]);
    expect(fieldsFromSchema({ type: "object" })).toEqual([]);
    expect(fieldsFromSchema("nope")).toEqual([]);
  });
});

describe("validation mirrors the server's rules and words", () => {
  const specs = fieldsFromSchema(schema);
  const spec = (name: string) => specs.find((s) => s.name === name)!;

  test("required, pattern, bounds, enum, formats", () => {
    expect(validateValue(spec("asset_tag"), undefined)).toBe("required");
    expect(validateValue(spec("asset_tag"), "1234")).toBe("does not match the required pattern");
    expect(validateValue(spec("asset_tag"), "AT-1234")).toBeNull();
    expect(validateValue(spec("seats"), 0)).toBe("must be at least 1");
    expect(validateValue(spec("seats"), 11)).toBe("must be at most 10");
    expect(validateValue(spec("seats"), 2.5)).toBe("must be a whole number");
    expect(validateValue(spec("location"), "Moon")).toBe("must be one of the listed values");
    expect(validateValue(spec("start"), "2024-02-30x")).toBe("not a valid date (YYYY-MM-DD)");
    expect(validateValue(spec("contact"), "not-an-address")).toBe("not a valid e-mail address");
    expect(validateValue(spec("apps"), ["mail", "fax"])).toBe("every item must be one of the listed values");
    expect(validateValue(spec("ratio"), undefined)).toBeNull();
  });

  test("empty inputs are absent, not empty strings or zeros", () => {
    expect(parseValue(spec("seats"), "")).toBeUndefined();
    expect(parseValue(spec("seats"), "3")).toBe(3);
    expect(parseValue(spec("contact"), "   ")).toBeUndefined();
    expect(parseValue(spec("apps"), ["mail", " ", "chat "])).toEqual(["mail", "chat"]);
    expect(parseValue(spec("loaner"), false)).toBe(false);
  });

  test("collect returns the payload and errors keyed like the API's field errors", () => {
    const raw = { ...initialValues(specs), asset_tag: "AT-0001", seats: "", contact: "x@y.example" };
    const { values, errors } = collect(specs, raw);
    expect(errors).toEqual({ "custom_fields.seats": "required" });
    expect(values).toEqual({ asset_tag: "AT-0001", loaner: true, contact: "x@y.example" });
  });
});

describe("order and display", () => {
  test("required fields come first in the order listed (JSONB forgets key order)", () => {
    const specs = fieldsFromSchema({ type: "object", properties: { b: { type: "string" }, zz: { type: "string" }, a: { type: "string" } }, required: ["zz", "a"] });
    expect(specs.map((s) => s.name)).toEqual(["zz", "a", "b"]);
  });

  test("stored values read with the schema's titles; unknown ones keep a readable name", () => {
    expect(displayValues(schema, { asset_tag: "AT-1", loaner: false, apps: ["mail"], legacy_code: 7 })).toEqual([
      { label: "Asset tag", value: "AT-1" },
      { label: "Loaner", value: "No" },
      { label: "Apps", value: "mail" },
      { label: "Legacy code", value: "7" },
    ]);
  });
});
