import { describe, expect, test } from "vitest";
import { dropIndex, groupBoard, keyMove, keyTarget, locate, moveCard, neighbours } from "./board";

const cols = ["todo", "doing", "done"];
const tasks = [
  { id: "a", column_id: "todo" },
  { id: "b", column_id: "todo" },
  { id: "c", column_id: "todo" },
  { id: "d", column_id: "doing" },
  { id: "x", column_id: "gone" },
];
const ids = (list: { id: string }[] | undefined) => (list ?? []).map((c) => c.id);

describe("the board", () => {
  test("groups cards by column in the order given; an unknown column's card goes first", () => {
    const board = groupBoard(cols, tasks);
    expect(ids(board.todo)).toEqual(["a", "b", "c", "x"]);
    expect(ids(board.doing)).toEqual(["d"]);
    expect(ids(board.done)).toEqual([]);
  });

  test("moves a card within and between columns without touching the input", () => {
    const board = groupBoard(cols, tasks.slice(0, 4));
    const within = moveCard(board, "c", "todo", 0);
    expect(ids(within.todo)).toEqual(["c", "a", "b"]);
    expect(ids(board.todo)).toEqual(["a", "b", "c"]);
    const across = moveCard(board, "a", "doing", 1);
    expect(ids(across.todo)).toEqual(["b", "c"]);
    expect(ids(across.doing)).toEqual(["d", "a"]);
    expect(across.doing?.[1]?.column_id).toBe("doing");
    expect(moveCard(board, "a", "done", 99).done?.map((c) => c.id)).toEqual(["a"]);
    expect(moveCard(board, "nope", "done", 0)).toBe(board);
    expect(moveCard(board, "a", "nope", 0)).toBe(board);
  });

  test("names the neighbours a moved card is ranked between", () => {
    const board = moveCard(groupBoard(cols, tasks.slice(0, 4)), "d", "todo", 1);
    expect(neighbours(board, "d")).toEqual({ after_id: "a", before_id: "b" });
    expect(neighbours(board, "a")).toEqual({ before_id: "d" });
    expect(neighbours(board, "c")).toEqual({ after_id: "b" });
    expect(neighbours(moveCard(board, "a", "done", 0), "a")).toEqual({});
    expect(locate(board, "d")).toEqual({ column_id: "todo", index: 1 });
  });

  test("keyboard moves go one step, stop at the edges and keep the row across columns", () => {
    const board = groupBoard(cols, tasks.slice(0, 4));
    expect(keyTarget(board, cols, "b", "up")).toEqual({ column_id: "todo", index: 0 });
    expect(keyTarget(board, cols, "a", "up")).toBeNull();
    expect(keyTarget(board, cols, "c", "down")).toBeNull();
    expect(keyTarget(board, cols, "a", "bottom")).toEqual({ column_id: "todo", index: 2 });
    expect(keyTarget(board, cols, "c", "top")).toEqual({ column_id: "todo", index: 0 });
    expect(keyTarget(board, cols, "c", "right")).toEqual({ column_id: "doing", index: 1 });
    expect(keyTarget(board, cols, "a", "left")).toBeNull();
    expect(keyTarget(board, cols, "d", "right")).toEqual({ column_id: "done", index: 0 });
    expect(keyMove("ArrowLeft")).toBe("left");
    expect(keyMove("End")).toBe("bottom");
    expect(keyMove("Enter")).toBeNull();
  });

  test("a drop lands before the card it is over, or at the end", () => {
    const board = groupBoard(cols, tasks.slice(0, 4));
    expect(dropIndex(board, "d", "todo", "b")).toBe(1);
    expect(dropIndex(board, "a", "todo", "c")).toBe(1);
    expect(dropIndex(board, "a", "doing", null)).toBe(1);
    expect(dropIndex(board, "a", "doing", "zzz")).toBe(1);
  });
});
