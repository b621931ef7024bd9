import { describe, expect, test } from "vitest";
import { body, toForm, validate } from "./policyForm";

describe("the SLA policy form", () => {
  test("a new policy needs at least one target, and says which fields are wrong", () => {
    const form = { ...toForm(null, 3), name: " ", warning_thresholds: "75, 120" };
    expect(validate(form)).toEqual({ name: "required", body: "a policy needs at least one target", warning_thresholds: "up to five percentages between 1 and 99" });
    expect(validate({ ...form, name: "Gold", warning_thresholds: "80", resolution_minutes: "480" })).toEqual({});
  });

  test("the body sends numbers, nothing ticked as 'any' (null), and a team only for a reassignment", () => {
    const form = {
      ...toForm(null, 2),
      name: " Gold ",
      first_response_minutes: "60",
      requester_tags: "vip, board",
      escalations: [
        { key: "a", on: "warning" as const, threshold: "90", target: "" as const, action: "notify_team" as const, team_id: "t1" },
        { key: "b", on: "breach" as const, threshold: "50", target: "resolution" as const, action: "reassign_team" as const, team_id: "t2" },
      ],
    };
    expect(body(form)).toMatchObject({
      name: "Gold",
      position: 2,
      first_response_minutes: 60,
      next_response_minutes: null,
      warning_thresholds: [75, 90],
      conditions: { priorities: null, team_ids: null, category_ids: null, requester_tags: ["vip", "board"] },
      escalations: [
        { on: "warning", threshold: 90, target: null, action: "notify_team", team_id: null },
        { on: "breach", threshold: null, target: "resolution", action: "reassign_team", team_id: "t2" },
      ],
    });
  });
});
