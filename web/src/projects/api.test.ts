import { describe, expect, test } from "vitest";
import { ApiError } from "../api/problem";
import { blockersOf, listOf, mayEdit, mayManage } from "./api";

describe("the projects API helpers", () => {
  test("a blocked move's blockers come from the problem, else its column_id error", () => {
    const blockers = [{ task_id: "1", key: "NET-1", title: "Survey" }];
    expect(blockersOf(new ApiError(409, { type: "about:blank", status: 409, title: "Blocked", blockers }))).toEqual({ blockers, detail: "" });
    const named = new ApiError(409, { type: "about:blank", status: 409, title: "Blocked", detail: "blocked", errors: [{ field: "column_id", detail: "waits for NET-1" }] });
    expect(blockersOf(named)).toEqual({ blockers: [], detail: "waits for NET-1" });
    expect(blockersOf(new ApiError(412, { type: "about:blank", status: 412, title: "Stale" }))).toBeNull();
    expect(blockersOf(new Error("x"))).toBeNull();
  });

  test("lists come bare or as a page", () => {
    expect(listOf([1, 2])).toEqual([1, 2]);
    expect(listOf({ items: [3], next_cursor: null })).toEqual([3]);
  });

  test("project roles: members edit, owners and managers manage, manage_all does both", () => {
    expect([mayEdit("viewer", false), mayEdit("member", false), mayEdit(null, true)]).toEqual([false, true, true]);
    expect([mayManage("member", false), mayManage("manager", false), mayManage("owner", false), mayManage(undefined, true)]).toEqual([false, true, true, true]);
  });
});
