/**
 * The board's pure parts: tasks grouped by column in rank order, a move applied to that
 * grouping (drag and drop, keyboard), the neighbours the API places a moved task between,
 * and where a keyboard move goes. No React here (board.test.ts).
 */

export interface Card {
  id: string;
  column_id: string;
}

/** Column id → its cards in board order (the API answers `order=board`: column, then rank). */
export type Board<T extends Card> = Record<string, T[]>;

/** Group `tasks` (already in rank order) under `columnIds`; a task of an unknown column is
 * kept in the first column rather than lost. */
export function groupBoard<T extends Card>(columnIds: readonly string[], tasks: readonly T[]): Board<T> {
  const board: Board<T> = {};
  for (const id of columnIds) board[id] = [];
  const first = columnIds[0];
  for (const task of tasks) {
    const list = board[task.column_id] ?? (first !== undefined ? board[first] : undefined);
    list?.push(task);
  }
  return board;
}

/** Where a card is: its column and index, or null. */
export function locate<T extends Card>(board: Board<T>, taskId: string): { column_id: string; index: number } | null {
  for (const [column_id, cards] of Object.entries(board)) {
    const index = cards.findIndex((c) => c.id === taskId);
    if (index >= 0) return { column_id, index };
  }
  return null;
}

/** The board with `taskId` taken out and put into `columnId` at `index` (clamped; the index
 * is in the target column as it reads once the card has left). Unknown task or column: the
 * same board. */
export function moveCard<T extends Card>(board: Board<T>, taskId: string, columnId: string, index: number): Board<T> {
  const from = locate(board, taskId);
  if (!from || !(columnId in board)) return board;
  const card = board[from.column_id]?.[from.index];
  if (!card) return board;
  const next: Board<T> = { ...board };
  next[from.column_id] = (board[from.column_id] ?? []).filter((c) => c.id !== taskId);
  const target = [...(next[columnId] ?? [])];
  const at = Math.max(0, Math.min(index, target.length));
  target.splice(at, 0, { ...card, column_id: columnId });
  next[columnId] = target;
  return next;
}

/** The neighbours the API ranks a moved card between: `after_id` the card just above it,
 * `before_id` the card just below it (each omitted at an end). */
export function neighbours<T extends Card>(board: Board<T>, taskId: string): { after_id?: string; before_id?: string } {
  const at = locate(board, taskId);
  if (!at) return {};
  const cards = board[at.column_id] ?? [];
  const above = cards[at.index - 1];
  const below = cards[at.index + 1];
  return { ...(above ? { after_id: above.id } : {}), ...(below ? { before_id: below.id } : {}) };
}

export type KeyMove = "up" | "down" | "left" | "right" | "top" | "bottom";

/** Where a keyboard move takes a card: up/down one place in its column, left/right to the
 * same place (or the end) of the neighbouring column, top/bottom of its column. Null when it
 * cannot go further. */
export function keyTarget<T extends Card>(board: Board<T>, columnIds: readonly string[], taskId: string, move: KeyMove): { column_id: string; index: number } | null {
  const at = locate(board, taskId);
  if (!at) return null;
  const size = board[at.column_id]?.length ?? 0;
  switch (move) {
    case "up":
      return at.index > 0 ? { column_id: at.column_id, index: at.index - 1 } : null;
    case "down":
      return at.index < size - 1 ? { column_id: at.column_id, index: at.index + 1 } : null;
    case "top":
      return at.index > 0 ? { column_id: at.column_id, index: 0 } : null;
    case "bottom":
      return at.index < size - 1 ? { column_id: at.column_id, index: size - 1 } : null;
    case "left":
    case "right": {
      const c = columnIds.indexOf(at.column_id) + (move === "left" ? -1 : 1);
      const column_id = columnIds[c];
      if (column_id === undefined) return null;
      return { column_id, index: Math.min(at.index, board[column_id]?.length ?? 0) };
    }
  }
}

/** The arrow keys (with Home/End) a focused card takes as moves while it is "picked up". */
export function keyMove(key: string): KeyMove | null {
  return ({ ArrowUp: "up", ArrowDown: "down", ArrowLeft: "left", ArrowRight: "right", Home: "top", End: "bottom" } as const)[key as "ArrowUp"] ?? null;
}

/** The index a dragged card lands at when dropped over `overId` (before it), or at the end
 * of the column when dropped on the column itself. */
export function dropIndex<T extends Card>(board: Board<T>, taskId: string, columnId: string, overId: string | null): number {
  const cards = (board[columnId] ?? []).filter((c) => c.id !== taskId);
  if (!overId) return cards.length;
  const i = cards.findIndex((c) => c.id === overId);
  return i < 0 ? cards.length : i;
}
