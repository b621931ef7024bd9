import { expect, test } from "vitest";
import { jobParams } from "./ExportButton";

test("an export job gets the list's filters, not its paging", () => {
  expect(jobParams({ limit: 100, cursor: "abc", status: ["new", "open"], priority: undefined, q: "", sort: "-updated_at", team_id: "t1" })).toEqual({
    status: ["new", "open"],
    sort: "-updated_at",
    team_id: "t1",
  });
});
