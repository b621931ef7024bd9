import { createContext, useContext, useEffect } from "react";

/** A page's main list, offered as the first skip link (before "Skip to content"), so a
 * keyboard user reaches it with Tab, Enter from the top of the page. */
export interface SkipTarget {
  id: string;
  label: string;
}

export const SkipContext = createContext<(target: SkipTarget | null) => void>(() => undefined);

export function useSkipTarget(id: string, label: string): void {
  const set = useContext(SkipContext);
  useEffect(() => {
    set({ id, label });
    return () => set(null);
  }, [set, id, label]);
}

/** Focus the first row of a list (its `data-row-link`), else the list itself. */
export function focusList(id: string): boolean {
  const list = document.getElementById(id);
  const first = list?.querySelector<HTMLElement>("[data-row-link]");
  const target = first ?? list;
  target?.focus();
  return target !== null && target !== undefined;
}

/** Typing in a field: single-key shortcuts stay out of the way. */
export function isTyping(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  return !!el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT" || el.isContentEditable);
}
