import { t, type MessageKey } from "../i18n";

/** The survey scales (servicedesk/csat/mail.py says the same in the e-mail): "1-5", five
 * choices; "good-bad", two, stored as 5 (good) and 1 (bad). */
export type CsatScale = "1-5" | "good-bad";

const RATING_KEYS = {
  1: "csat.rating.1",
  2: "csat.rating.2",
  3: "csat.rating.3",
  4: "csat.rating.4",
  5: "csat.rating.5",
} as const satisfies Record<number, MessageKey>;

/** A 1-5 rating in words ("Satisfied"); empty for a number off the scale. */
export function ratingLabel(rating: number): string {
  const key = (RATING_KEYS as Record<number, MessageKey | undefined>)[rating];
  return key ? t(key) : "";
}

/** A good-bad rating in words: 5 is "Good", 1 is "Bad". */
export function goodBadLabel(rating: number): string | undefined {
  return rating === 5 ? t("csat.good") : rating === 1 ? t("csat.bad") : undefined;
}

/** The choices a survey offers, best first: [stored rating, label]. */
export function choices(scale: CsatScale | undefined): [number, string][] {
  if (scale === "good-bad") return [[5, t("csat.good")], [1, t("csat.bad")]];
  return [5, 4, 3, 2, 1].map((n) => [n, t("csat.choice", { n, label: ratingLabel(n) })]);
}

/** A rating in words on its survey's scale: "Good", or "4/5 – Satisfied". */
export function ratingText(scale: CsatScale | undefined, rating: number | null | undefined): string {
  if (rating == null) return "";
  if (scale === "good-bad") return goodBadLabel(rating) ?? String(rating);
  return t("csat.ratingOutOf5", { rating, label: ratingLabel(rating) });
}

/** The rating a link's ?rating= preselects, when the scale offers it. */
export function preselected(scale: CsatScale | undefined, raw: string | null): number | null {
  const n = Number(raw);
  return choices(scale).some(([value]) => value === n) ? n : null;
}
