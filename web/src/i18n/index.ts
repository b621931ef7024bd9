import { en, type MessageKey } from "./en";

export type { MessageKey };

/** The catalogue in use: English today; a translation is another object with the same keys. */
let messages: Record<MessageKey, string> = en;

export function setCatalogue(catalogue: Record<MessageKey, string>): void {
  messages = catalogue;
}

/** The words for `key`, with `{name}` placeholders filled from `vars` (an unknown one stays). */
export function t(key: MessageKey, vars?: Record<string, string | number>): string {
  const text = messages[key];
  if (!vars) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => (name in vars ? String(vars[name]) : whole));
}
