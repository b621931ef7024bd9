import { describe, expect, test } from "vitest";
import { emptyField, fromSchema, rowErrors, toSchema, type Builder } from "./schemaBuilder";

const stored = {
  type: "object",
  properties: {
    seats: { type: "integer", title: "Seats", minimum: 1, maximum: 10, default: 2 },
    asset_tag: { type: "string", title: "Asset tag", pattern: "^AT-[0-9]{4}$", maxLength: 7 },
    apps: { type: "array", items: { type: "string", enum: ["mail", "chat"], maxLength: 20 } },
    loaner: { type: "boolean", default: true },
    start: { type: "string", format: "date", description: "When" },
    level: { type: "number", enum: [1.5, 2.5] },
  },
  required: ["asset_tag", "seats"],
  additionalProperties: false,
};

describe("fromSchema / toSchema", () => {
  test("a stored schema survives the round trip through the rows, keyword for keyword", () => {
    const builder = fromSchema(stored);
    expect(builder.fields.map((f) => f.name)).toEqual(["asset_tag", "seats", "apps", "loaner", "start", "level"]);
    expect(builder.additionalProperties).toBe(false);
    const { schema, errors } = toSchema(builder);
    expect(errors).toEqual({});
    expect(schema).toEqual(stored);
  });

  test("rows become properties; empty inputs add no keywords", () => {
    const field = { ...emptyField("string"), name: "asset_tag", title: "Asset tag", required: true, options: "A\nB\n" };
    const flag = { ...emptyField("boolean"), name: "urgent", default: "false" };
    const { schema, errors } = toSchema({ fields: [field, flag], additionalProperties: true });
    expect(errors).toEqual({});
    expect(schema).toEqual({
      type: "object",
      properties: { asset_tag: { type: "string", title: "Asset tag", enum: ["A", "B"] }, urgent: { type: "boolean", default: false } },
      required: ["asset_tag"],
    });
  });

  test("mistakes are named like the server names them", () => {
    const builder: Builder = {
      additionalProperties: true,
      fields: [
        { ...emptyField("string"), name: "9lives" },
        { ...emptyField("string"), name: "dup" },
        { ...emptyField("string"), name: "dup" },
        { ...emptyField("string"), name: "code", minLength: "5", maxLength: "2" },
        { ...emptyField("integer"), name: "n", minimum: "x", options: "1\n2.5" },
        { ...emptyField("array"), name: "tags", options: "a\na" },
        { ...emptyField("integer"), name: "d", default: "1.5" },
      ],
    };
    const { errors } = toSchema(builder);
    expect(errors).toEqual({
      "fields_schema.properties.9lives": "names are 1-64 letters, digits or _, not starting with a digit",
      "fields_schema.properties.dup": "two fields have this name",
      "fields_schema.properties.code.minLength": "must not exceed maxLength",
      "fields_schema.properties.n.minimum": "must be a number",
      "fields_schema.properties.n.enum": "every value must be of type integer",
      "fields_schema.properties.tags.items.enum": "values must be unique",
      "fields_schema.properties.d.default": "does not satisfy the property's own rules",
    });
  });

  test("the server's errors land on the row and the input they name", () => {
    const field = { ...emptyField("string"), name: "asset_tag" };
    const errors = {
      "fields_schema.properties.asset_tag.pattern": "not a valid regular expression: unknown extension",
      "fields_schema.properties.asset_tag.items": "must be {\"type\": \"string\"}",
      "fields_schema.properties.other.title": "elsewhere",
      name: "taken",
    };
    expect(rowErrors(field, errors)).toEqual({
      pattern: "not a valid regular expression: unknown extension",
      options: "must be {\"type\": \"string\"}",
    });
  });

  test("anything that is not a schema gives no rows", () => {
    expect(fromSchema(null).fields).toEqual([]);
    expect(fromSchema({ properties: [] }).fields).toEqual([]);
  });
});
