import { describe, expect, test } from "vitest";
import { ApiError } from "../api/problem";
import { builderErrors } from "./ClassPage";

describe("a class's schema errors", () => {
  test("the server's attributes_schema.… errors land where the field builder shows fields_schema.…; others stay", () => {
    const error = new ApiError(422, {
      type: "about:blank",
      title: "Unprocessable",
      status: 422,
      errors: [
        { field: "attributes_schema.properties.ports.minimum", detail: "must be a number" },
        { field: "attributes_schema", detail: "must be an object" },
        { field: "name", detail: "required" },
      ],
    });
    const mapped = builderErrors(error);
    expect(mapped).toBeInstanceOf(ApiError);
    expect((mapped as ApiError).status).toBe(422);
    expect((mapped as ApiError).fieldErrors).toEqual({
      "fields_schema.properties.ports.minimum": "must be a number",
      fields_schema: "must be an object",
      name: "required",
    });
    const other = new Error("offline");
    expect(builderErrors(other)).toBe(other);
  });
});
