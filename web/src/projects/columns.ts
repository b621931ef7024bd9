/** The column editor's pure parts (columns.test.ts): a draft list edited in place, then
 * sent whole (PUT .../columns) in its order. */
import type { Column, ColumnCategory } from "./types";

export interface DraftColumn {
  /** The saved column's id; none for a new one. */
  id?: string;
  /** A key for React that stays put while the list is reordered. */
  key: string;
  name: string;
  category: ColumnCategory;
  wip_limit: string;
}

let counter = 0;

export function draftOf(columns: readonly Column[]): DraftColumn[] {
  return [...columns]
    .sort((a, b) => a.position - b.position)
    .map((c) => ({ id: c.id, key: c.id, name: c.name, category: c.category, wip_limit: c.wip_limit ? String(c.wip_limit) : "" }));
}

export function newColumn(): DraftColumn {
  counter += 1;
  return { key: `new-${counter}`, name: "", category: "in_progress", wip_limit: "" };
}

/** The list with item `index` moved by `delta` places (clamped; the same list at an end). */
export function moveItem<T>(list: readonly T[], index: number, delta: number): T[] {
  const to = index + delta;
  if (index < 0 || index >= list.length || to < 0 || to >= list.length) return [...list];
  const next = [...list];
  const [item] = next.splice(index, 1);
  if (item !== undefined) next.splice(to, 0, item);
  return next;
}

/** What the API takes: names trimmed, a WIP limit as a positive whole number or none. */
export function columnsBody(draft: readonly DraftColumn[]) {
  return draft.map((c) => {
    const limit = Number.parseInt(c.wip_limit, 10);
    return { ...(c.id ? { id: c.id } : {}), name: c.name.trim(), category: c.category, wip_limit: Number.isFinite(limit) && limit > 0 ? limit : null };
  });
}

/** Problems the form can tell before asking: a blank name (by index), no done column. */
export function columnProblems(draft: readonly DraftColumn[]): { blank: number[]; noDone: boolean } {
  return {
    blank: draft.flatMap((c, i) => (c.name.trim() ? [] : [i])),
    noDone: !draft.some((c) => c.category === "done"),
  };
}
