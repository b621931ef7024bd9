import { describe, expect, test } from "vitest";
import { MAX_TEAM_CHANNELS, teamsToHear } from "./queues";

const mine = [{ id: "A" }];
const all = [{ id: "A" }, { id: "B" }, { id: "C", active: false }];

describe("teamsToHear", () => {
  test("My open hears no team (assignments reach the person's own channel)", () => {
    expect(teamsToHear("mine", "", mine, all)).toEqual([]);
  });

  test("My team hears the chosen team and the person's own", () => {
    expect(teamsToHear("team", "B", mine, all)).toEqual(["B", "A"]);
  });

  test("queues across teams hear every active team, within the channel budget", () => {
    expect(teamsToHear("unassigned", "", mine, all)).toEqual(["A", "B"]);
    const many = Array.from({ length: 60 }, (_, i) => ({ id: `T${i}` }));
    expect(teamsToHear("all", "", [], many)).toHaveLength(MAX_TEAM_CHANNELS);
  });
});
