import { describe, expect, test } from "vitest";
import { ApiError, NetworkError, describeError, fieldErrors } from "./problem";

const problem = {
  type: "https://servicedesk.dev/problems/validation-error",
  title: "Request validation failed",
  status: 422,
  detail: "invalid fields: title",
  errors: [
    { field: "title", pointer: "/title", detail: "String should have at least 1 character" },
    { pointer: "/custom_fields/asset_tag", detail: "required" },
    { field: "title", detail: "a second message for the same field is not shown" },
  ],
};

describe("problem+json", () => {
  test("field errors are keyed by field, falling back to the JSON pointer", () => {
    expect(fieldErrors(problem)).toEqual({
      title: "String should have at least 1 character",
      "custom_fields.asset_tag": "required",
    });
  });

  test("a 412 reads as someone else's change; a 5xx never leaks its detail", () => {
    expect(describeError(new ApiError(412, { ...problem, status: 412 }))).toMatch(/changed by someone else/);
    expect(describeError(new ApiError(500, { ...problem, status: 500, detail: "psycopg.OperationalError" }))).not.toMatch(/psycopg/);
    expect(describeError(new NetworkError(new TypeError("fetch failed")))).toMatch(/could not be reached/);
    expect(new ApiError(422, problem).message).toBe("invalid fields: title");
  });
});
