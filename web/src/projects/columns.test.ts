import { describe, expect, test } from "vitest";
import { columnProblems, columnsBody, draftOf, moveItem, newColumn } from "./columns";

describe("the column editor", () => {
  const saved = [
    { id: "c", name: "Done", category: "done" as const, position: 3 },
    { id: "a", name: "To do", category: "todo" as const, position: 1, wip_limit: null },
    { id: "b", name: "Doing", category: "in_progress" as const, position: 2, wip_limit: 4 },
  ];

  test("starts from the saved columns in position order", () => {
    const draft = draftOf(saved);
    expect(draft.map((c) => c.name)).toEqual(["To do", "Doing", "Done"]);
    expect(draft[1]?.wip_limit).toBe("4");
  });

  test("moves an item one place and stops at the ends", () => {
    expect(moveItem(["a", "b", "c"], 2, -1)).toEqual(["a", "c", "b"]);
    expect(moveItem(["a", "b", "c"], 0, 1)).toEqual(["b", "a", "c"]);
    expect(moveItem(["a", "b", "c"], 0, -1)).toEqual(["a", "b", "c"]);
    expect(moveItem(["a", "b", "c"], 2, 1)).toEqual(["a", "b", "c"]);
  });

  test("sends the ids it has, trimmed names and whole positive limits", () => {
    const draft = [...draftOf(saved), { ...newColumn(), name: "  Review ", wip_limit: "0" }];
    expect(columnsBody(draft)).toEqual([
      { id: "a", name: "To do", category: "todo", wip_limit: null },
      { id: "b", name: "Doing", category: "in_progress", wip_limit: 4 },
      { id: "c", name: "Done", category: "done", wip_limit: null },
      { name: "Review", category: "in_progress", wip_limit: null },
    ]);
    expect(newColumn().key).not.toBe(newColumn().key);
  });

  test("names blank columns and a missing done column", () => {
    expect(columnProblems(draftOf(saved))).toEqual({ blank: [], noDone: false });
    expect(columnProblems([{ ...newColumn() }])).toEqual({ blank: [0], noDone: true });
  });
});
