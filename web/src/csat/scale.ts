/** The survey scales (servicedesk/csat/mail.py says the same in the e-mail): "1-5", five
 * choices; "good-bad", two, stored as 5 (good) and 1 (bad). */
export type CsatScale = "1-5" | "good-bad";

export const RATING_LABELS: Record<number, string> = {
  1: "Very dissatisfied",
  2: "Dissatisfied",
  3: "Neutral",
  4: "Satisfied",
  5: "Very satisfied",
};

export const GOOD_BAD_LABELS: Record<number, string> = { 5: "Good", 1: "Bad" };

/** The choices a survey offers, best first: [stored rating, label]. */
export function choices(scale: CsatScale | undefined): [number, string][] {
  if (scale === "good-bad") return [[5, "Good"], [1, "Bad"]];
  return [5, 4, 3, 2, 1].map((n) => [n, `${n} – ${RATING_LABELS[n]}`]);
}

/** A rating in words on its survey's scale: "Good", or "4/5 – Satisfied". */
export function ratingText(scale: CsatScale | undefined, rating: number | null | undefined): string {
  if (rating == null) return "";
  if (scale === "good-bad") return GOOD_BAD_LABELS[rating] ?? String(rating);
  return `${rating}/5 – ${RATING_LABELS[rating] ?? ""}`;
}

/** The rating a link's ?rating= preselects, when the scale offers it. */
export function preselected(scale: CsatScale | undefined, raw: string | null): number | null {
  const n = Number(raw);
  return choices(scale).some(([value]) => value === n) ? n : null;
}
