import { describe, expect, test } from "vitest";
import { ApiError, NetworkError, describeError, fieldErrors, fieldLabel } from "./problem";

const problem = {
  type: "https://servicedesk.dev/problems/validation-error",
  title: "Request validation failed",
  status: 422,
  detail: "title must not be empty; custom_fields.asset_tag is required",
  errors: [
    { field: "title", pointer: "/title", detail: "must not be empty", code: "string_too_short" },
    { pointer: "/custom_fields/asset_tag", detail: "is required", code: "missing" },
    { field: "title", detail: "a second message for the same field is not shown" },
  ],
};

describe("problem+json", () => {
  test("field errors are keyed by field, falling back to the JSON pointer", () => {
    expect(fieldErrors(problem)).toEqual({
      title: "must not be empty",
      "custom_fields.asset_tag": "is required",
    });
  });

  test("a 412 reads as someone else's change; a 5xx never leaks its detail", () => {
    expect(describeError(new ApiError(412, { ...problem, status: 412 }))).toMatch(/changed by someone else/);
    expect(describeError(new ApiError(500, { ...problem, status: 500, detail: "psycopg.OperationalError" }))).not.toMatch(/psycopg/);
    const down = { ...problem, status: 503, detail: "the organisation's directory cannot be reached; try again later" };
    expect(describeError(new ApiError(503, down))).toBe("The organisation's directory cannot be reached; try again later");
    expect(describeError(new ApiError(503, null))).toMatch(/on our side/);
    expect(describeError(new NetworkError(new TypeError("fetch failed")))).toMatch(/could not be reached/);
    expect(new ApiError(422, problem).message).toBe("title must not be empty; custom_fields.asset_tag is required");
  });

  test("a 422 reads as sentences about the fields a person filled in", () => {
    expect(describeError(new ApiError(422, problem))).toBe("Title must not be empty. (1 more field needs attention.)");
    const one = { ...problem, errors: [{ field: "custom_fields.asset_tag", detail: "must be at most 20 characters" }] };
    expect(describeError(new ApiError(422, one))).toBe("Asset tag must be at most 20 characters.");
    expect(fieldLabel("If-Match")).toBe("If-Match");
    expect(fieldLabel("items.0.event_type")).toBe("Event type");
  });
});
