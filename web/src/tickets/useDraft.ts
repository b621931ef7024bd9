import { useCallback, useEffect, useState } from "react";

const EVENT = "sd-draft";

function read(storageKey: string): string {
  try {
    return sessionStorage.getItem(storageKey) ?? "";
  } catch {
    return "";
  }
}

function write(storageKey: string, next: string): void {
  try {
    if (next) sessionStorage.setItem(storageKey, next);
    else sessionStorage.removeItem(storageKey);
  } catch {
    // Storage disabled: the draft lives in memory only.
  }
}

/** Text a person is typing, kept in sessionStorage so a failed save, an expired session
 * or a reload never loses it. */
export function useDraft(key: string): [string, (value: string) => void, () => void] {
  const storageKey = `sd-draft:${key}`;
  const [value, setValue] = useState(() => read(storageKey));
  // Another part of the page may add to this draft (a knowledge article's link from the
  // side panel): follow it, whether or not the editor was mounted when it happened.
  useEffect(() => {
    const follow = (event: Event) => {
      const detail = (event as CustomEvent<{ key: string; value: string }>).detail;
      if (detail.key === storageKey) setValue(detail.value);
    };
    window.addEventListener(EVENT, follow);
    return () => window.removeEventListener(EVENT, follow);
  }, [storageKey]);
  const update = useCallback(
    (next: string) => {
      setValue(next);
      write(storageKey, next);
    },
    [storageKey],
  );
  const clear = useCallback(() => update(""), [update]);
  return [value, update, clear];
}

/** Change a draft from outside its editor (`change` gets the current text); the editor,
 * if shown, updates at once. */
export function changeDraft(key: string, change: (current: string) => string): void {
  const storageKey = `sd-draft:${key}`;
  const value = change(read(storageKey));
  write(storageKey, value);
  window.dispatchEvent(new CustomEvent(EVENT, { detail: { key: storageKey, value } }));
}
