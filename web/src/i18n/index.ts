import { en, type MessageKey as CoreKey } from "./en";
import type { AdminKey } from "./admin";
import type { ChangesKey } from "./changes";
import type { ProjectsKey } from "./projects";
import type { CmdbKey } from "./cmdb";
import type { KbKey } from "./kb";
import type { MacrosKey } from "./macros";
import type { ManagerKey } from "./manager";
import type { ReportsKey } from "./reports";

/** Every key: the core catalogue's (en.ts, loaded with the shell) and the lazy parts'
 * (admin.ts, kb.ts, macros.ts, reports.ts, manager.ts, cmdb.ts, changes.ts, projects.ts: each loaded with the first screen
 * that imports its `t`, so their words do not weigh on the initial JavaScript). */
export type MessageKey = CoreKey | AdminKey | KbKey | MacrosKey | ReportsKey | ManagerKey | CmdbKey | ChangesKey | ProjectsKey;

/** A translation: the same keys with other words (a key it lacks reads in English). */
export type Catalogue = Partial<Record<MessageKey, string>>;

/** The English words loaded so far: the core, then each part as it arrives. */
const english: Record<string, string> = { ...en };
let chosen: Catalogue = {};
let language = "en";

/** A lazy part of the catalogue, when its module loads (i18n/admin.ts and the others). */
export function register(part: Record<string, string>): void {
  Object.assign(english, part);
}

/** The catalogue in use: English today; a translation is another object with the same keys. */
export function setCatalogue(catalogue: Catalogue, lang = "en"): void {
  chosen = catalogue;
  language = lang;
}

/** The words for `key`, with `{name}` placeholders filled from `vars` (an unknown one stays). */
export function t(key: MessageKey, vars?: Record<string, string | number>): string {
  const text = chosen[key] ?? english[key] ?? key;
  if (!vars) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => (name in vars ? String(vars[name]) : whole));
}

/** The words for a count: `forms.one` or `forms.other` (and `few`, `many`… where the
 * catalogue's language has them) by its plural rules, with `{n}` filled. */
export function plural(n: number, forms: Partial<Record<Intl.LDMLPluralRule, MessageKey>> & { other: MessageKey }, vars: Record<string, string | number> = {}): string {
  const rule = new Intl.PluralRules(language).select(n);
  return t(forms[rule] ?? forms.other, { n, ...vars });
}

/** A table of words by value (statuses, levels, weekdays…) read through the catalogue at
 * each access, so a catalogue swapped in later reaches it: `table[value]` and
 * `Object.values(table)` work as on a plain object. */
export function labelled<K extends string>(keys: Record<K, MessageKey>): Readonly<Record<K, string>> {
  const table = {} as Record<K, string>;
  for (const value of Object.keys(keys) as K[]) {
    Object.defineProperty(table, value, { get: () => t(keys[value]), enumerable: true });
  }
  return table;
}
