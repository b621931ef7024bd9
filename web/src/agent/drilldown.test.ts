import { describe, expect, test } from "vitest";
import { describeDrilldown, readDrilldown, withDrilldown } from "./drilldown";

describe("a report's drilldown in the ticket list's address", () => {
  test("nothing unless opened from a report", () => {
    expect(readDrilldown(new URLSearchParams("team_id=t1"))).toBeNull();
  });
  test("the list's parameters, lists comma-separated or repeated, assignee_id as assignee", () => {
    const drill = readDrilldown(new URLSearchParams("from=report&team_id=t1&assignee_id=u1&status=resolved,closed&priority=high&priority=critical&created_after=2026-03-01T00:00:00%2B01:00&channel=email&bogus=1"));
    expect(drill).toEqual({
      query: { team_id: "t1", assignee: "u1", created_after: "2026-03-01T00:00:00+01:00", status: ["resolved", "closed"], priority: ["high", "critical"], channel: ["email"] },
      ignored: ["bogus"],
    });
  });
  test("the report filters: ranges, none, merged, flags, SLA outcome", () => {
    const drill = readDrilldown(
      new URLSearchParams("from=report&team_id=none&resolved_after=2026-03-01T23:00:00Z&resolved_before=2026-03-08T23:00:00Z&merged=exclude&one_touch=true&sla_outcome=late&sla_target=resolution&merged2=x"),
    );
    expect(drill?.query).toEqual({
      team_id: "none",
      resolved_after: "2026-03-01T23:00:00Z",
      resolved_before: "2026-03-08T23:00:00Z",
      merged: "exclude",
      one_touch: true,
      sla_outcome: "late",
      sla_target: "resolution",
    });
    expect(drill?.ignored).toEqual(["merged2"]);
  });
  test("unknown statuses and priorities are dropped, not sent", () => {
    expect(readDrilldown(new URLSearchParams("from=report&status=bogus,open&priority=urgent"))?.query).toEqual({ status: ["open"], priority: [] });
  });
  test("the drilldown narrows the queue; without a status the queue's open default goes", () => {
    const query = { limit: 100, sort: "-updated_at" as const, status: ["new" as const, "open" as const] };
    expect(withDrilldown(query, readDrilldown(new URLSearchParams("from=report&team_id=t1")))).toEqual({ limit: 100, sort: "-updated_at", team_id: "t1" });
    expect(withDrilldown(query, readDrilldown(new URLSearchParams("from=report&status=resolved")))).toMatchObject({ status: ["resolved"] });
    expect(withDrilldown(query, null)).toBe(query);
  });
  test("the banner names teams and people", () => {
    const drill = readDrilldown(new URLSearchParams("from=report&team_id=t1&assignee=none"))!;
    expect(describeDrilldown(drill, { team: (id) => (id === "t1" ? "Desk" : undefined) })).toEqual(["Assignee: Unassigned", "Team: Desk"]);
  });
});
