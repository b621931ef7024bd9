/**
 * The dashboard follows the WebSocket: every ticket event asks for a refetch, but a burst
 * (a bulk change, a busy minute) makes one request (debounced), and the screen-reader
 * announcement of new figures is polite and rare: only when a figure changed, at most once
 * per ANNOUNCE_GAP_MS.
 */
import { asUnit, type Dashboard } from "./types";
import { formatValue } from "./format";
import { t } from "../i18n/reports";

export const REFETCH_DEBOUNCE_MS = 1_500;
/** After a burst: once soon, and again later for the figures' own consumer to catch up
 * (the push and the facts' update travel on separate queues). */
export const REFETCH_AGAIN_MS = [REFETCH_DEBOUNCE_MS, 6_000] as const;
export const ANNOUNCE_GAP_MS = 30_000;

/** Calls `fn` once, `ms` after the last of a burst of `trigger()`s. */
type Timers = { set: (fn: () => void, ms: number) => unknown; clear: (id: unknown) => void };

// Called as plain functions: the browser's setTimeout refuses another `this`.
const WINDOW_TIMERS: Timers = {
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (id) => clearTimeout(id as ReturnType<typeof setTimeout>),
};

export function debouncer(fn: () => void, ms: number, timers: Timers = WINDOW_TIMERS) {
  let timer: unknown = null;
  return {
    trigger() {
      if (timer !== null) timers.clear(timer);
      timer = timers.set(() => {
        timer = null;
        fn();
      }, ms);
    },
    cancel() {
      if (timer !== null) timers.clear(timer);
      timer = null;
    },
  };
}

/** What changed between two dashboards, in words ("Open now 13 (was 12)"), or null. */
export function describeChanges(before: Dashboard | undefined, after: Dashboard): string | null {
  if (!before) return null;
  const old = new Map(before.tiles.map((item) => [item.key, item.value]));
  const changes = after.tiles
    .filter((item) => old.has(item.key) && old.get(item.key) !== item.value)
    .map((item) => t("reports.live.labelValueWasValue2", { label: item.label, value: formatValue(asUnit(item.unit), item.value), value2: formatValue(asUnit(item.unit), old.get(item.key)) }));
  return changes.length ? t("reports.live.dashboardUpdatedValue", { value: changes.join("; ") }) : null;
}

/** Whether to speak now: something to say and the last announcement long enough ago. */
export function shouldAnnounce(message: string | null, lastAt: number | null, now: number, gap = ANNOUNCE_GAP_MS): boolean {
  return message !== null && (lastAt === null || now - lastAt >= gap);
}
