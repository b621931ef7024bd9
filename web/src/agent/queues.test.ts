import { describe, expect, test } from "vitest";
import { MAX_TEAM_CHANNELS, defaultSort, queueQuery, slaFilter, teamsToHear, type QueueFilters } from "./queues";

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

describe("the SLA queue", () => {
  const filters = (over: Partial<QueueFilters> = {}): QueueFilters => ({
    status: "active",
    priority: "",
    q: "",
    sort: defaultSort("sla"),
    team: "",
    sla: slaFilter(null),
    ...over,
  });

  test("shows breached and at-risk tickets by default, the most overdue first", () => {
    const query = queueQuery("sla", filters());
    expect(query.sla).toEqual(["breached", "at_risk"]);
    expect(query.sort).toBe("sla_due");
  });

  test("the filter still narrows to one kind", () => {
    expect(queueQuery("sla", filters({ sla: slaFilter("breached") })).sla).toEqual(["breached"]);
    expect(queueQuery("sla", filters({ sla: slaFilter("at_risk") })).sla).toEqual(["at_risk"]);
    expect(slaFilter("nonsense")).toBe("any");
  });

  test("other queues send no SLA filter", () => {
    expect(queueQuery("all", filters()).sla).toBeUndefined();
  });
});
