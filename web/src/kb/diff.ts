/** One line of a unified diff (difflib.unified_diff, kb/versions.py), classified for display. */
import { plural } from "../i18n/kb";
export type DiffKind = "add" | "remove" | "context" | "hunk" | "header";

export interface DiffLine {
  kind: DiffKind;
  text: string;
}

export function diffLines(diff: string): DiffLine[] {
  if (!diff) return [];
  const lines = diff.replace(/\n$/, "").split("\n");
  return lines.map((text) => {
    if (text.startsWith("+++") || text.startsWith("---")) return { kind: "header", text };
    if (text.startsWith("@@")) return { kind: "hunk", text };
    if (text.startsWith("+")) return { kind: "add", text };
    if (text.startsWith("-")) return { kind: "remove", text };
    return { kind: "context", text };
  });
}

/** Lines added and removed, for the summary above a diff. */
export function diffStats(lines: DiffLine[]): { added: number; removed: number } {
  let added = 0;
  let removed = 0;
  for (const line of lines) {
    if (line.kind === "add") added += 1;
    else if (line.kind === "remove") removed += 1;
  }
  return { added, removed };
}

/** "1 line added, 2 removed": the summary read out above a diff. */
export function changeSummary({ added, removed }: { added: number; removed: number }): string {
  return plural(added, { one: "kb.diff.changes.one", other: "kb.diff.changes.other" }, { removed });
}
