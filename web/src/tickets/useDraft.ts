import { useCallback, useState } from "react";

/** Text a person is typing, kept in sessionStorage so a failed save, an expired session
 * or a reload never loses it. */
export function useDraft(key: string): [string, (value: string) => void, () => void] {
  const storageKey = `sd-draft:${key}`;
  const [value, setValue] = useState(() => {
    try {
      return sessionStorage.getItem(storageKey) ?? "";
    } catch {
      return "";
    }
  });
  const update = useCallback(
    (next: string) => {
      setValue(next);
      try {
        if (next) sessionStorage.setItem(storageKey, next);
        else sessionStorage.removeItem(storageKey);
      } catch {
        // Storage disabled: the draft lives in memory only.
      }
    },
    [storageKey],
  );
  const clear = useCallback(() => update(""), [update]);
  return [value, update, clear];
}
