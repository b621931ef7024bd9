import { describe, expect, test } from "vitest";
import { errorAt, errorsByPath, nodeToApi, opsFor, ruleFromApi, ruleToApi, type RuleJson, type TestForm } from "./ruleForm";

const RULE: RuleJson = {
  name: "Everything",
  description: "every test and action the API takes",
  kind: "event",
  active: true,
  loop_limit: 3,
  triggers: [{ event: "updated", fields: ["priority", "custom_fields.site"] }, { event: "commented", visibility: "public", by: "requester" }, { event: "sla_warning" }],
  conditions: {
    all: [
      { field: "status", op: "in", value: ["new", "open"] },
      { field: "team_id", op: "is", value: null },
      { field: "title", op: "matches", value: "^VPN" },
      { field: "tags", op: "excludes", value: ["vip", "noisy"] },
      { field: "custom_fields.seats", op: "gte", value: 5 },
      { field: "custom_fields.remote", op: "is", value: true },
      { field: "custom_fields.site", op: "in", value: ["paris", "oslo"] },
      { field: "priority", op: "changed_to", value: "high" },
      { field: "description", op: "changed" },
      {
        any: [
          { field: "hours_since_status_change", op: "gte", value: 40, business: true },
          { field: "business_hours_now", op: "is", value: false },
          { all: [{ field: "channel", op: "is_not", value: "email" }] },
        ],
      },
    ],
  },
  actions: [
    { type: "set_field", field: "custom_fields.seats", value: 7 },
    { type: "set_field", field: "custom_fields.site", value: null },
    { type: "set_field", field: "impact", value: "high" },
    { type: "add_tags", tags: ["a", "b"] },
    { type: "remove_tags", tags: ["c"] },
    { type: "set_status", status: "pending" },
    { type: "assign", team_id: "0b6a1d9e-6f5e-4a8c-9f0e-1a2b3c4d5e6f", assignee_rule: "least_open" },
    { type: "assign", assignee_id: null },
    { type: "reply", body: "Hi {{requester.first_name}}" },
    { type: "note", body: "Seen {{ticket.number}}" },
    { type: "notify", to: ["requester", "team", "7d4c3b2a-1f0e-4d8c-b7a6-958473625140"], subject: "S {{ticket.number}}", body: "B" },
    { type: "webhook", webhook_id: "1b6a1d9e-6f5e-4a8c-9f0e-1a2b3c4d5e6f" },
    { type: "apply_macro", macro_id: "2b6a1d9e-6f5e-4a8c-9f0e-1a2b3c4d5e6f" },
  ],
};

describe("the rule editor's model", () => {
  test("every test and action of the grammar survives the form both ways", () => {
    expect(ruleToApi(ruleFromApi(RULE))).toEqual(RULE);
  });

  test("a time rule is offered no change tests", () => {
    expect(opsFor("priority", "time")).toEqual(["is", "is_not", "in", "not_in"]);
    expect(opsFor("priority", "event")).toContain("changed_from");
    expect(opsFor("business_hours_now", "time")).toEqual(["is"]);
  });

  test("a custom value keeps its JSON type", () => {
    const test: TestForm = { node: "test", field: "custom", customKey: "n", op: "is", value: "1", values: [], valueType: "number", business: false };
    expect(nodeToApi(test)).toEqual({ field: "custom_fields.n", op: "is", value: 1 });
    expect(nodeToApi({ ...test, valueType: "text" })).toEqual({ field: "custom_fields.n", op: "is", value: "1" });
    expect(nodeToApi({ ...test, valueType: "boolean", value: "true" })).toEqual({ field: "custom_fields.n", op: "is", value: true });
  });

  test("the API's error paths land on the form's inputs", () => {
    const errors = errorsByPath({ "actions.1.set_field.field": "bad", "actions.2.webhook_id": "gone", "conditions.all.0.any.1.value": "nope" });
    expect(errors).toEqual({ "actions.1.field": "bad", "actions.2.webhook_id": "gone", "conditions.all.0.any.1.value": "nope" });
    expect(errorAt(errors, "actions.2", true)).toBe("gone");
    expect(errorAt(errors, "actions.2")).toBeUndefined();
  });
});
