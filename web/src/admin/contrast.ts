/**
 * The contrast rule of servicedesk/branding/contrast.py, for the form's early word (the
 * API decides; admin/contrast.test.ts keeps the two in step on the same cases). The token
 * values are tokens.css's.
 */
import { t, type MessageKey } from "../i18n";

const TOKENS = {
  "--sd-bg": ["#f6f7f9", "#0d1117"],
  "--sd-surface": ["#ffffff", "#161b22"],
  "--sd-accent-fg": ["#ffffff", "#ffffff"],
  "--sd-accent-subtle": ["#e8eefc", "#1c2b4d"],
} as const;

type Token = keyof typeof TOKENS;
type Pairing = [Token, 0 | 1, number, MessageKey];

const PAIRINGS: Record<"primary_color" | "accent_color", Pairing[]> = {
  primary_color: [
    ["--sd-accent-fg", 0, 4.5, "branding.against.buttonText"],
    ["--sd-surface", 0, 4.5, "branding.against.lightSurfaceLinks"],
    ["--sd-bg", 0, 4.5, "branding.against.lightBackgroundLinks"],
    ["--sd-accent-subtle", 0, 4.5, "branding.against.activeNavigation"],
  ],
  accent_color: [
    ["--sd-surface", 0, 3, "branding.against.lightSurface"],
    ["--sd-surface", 1, 3, "branding.against.darkSurface"],
  ],
};

function channel(v: number): number {
  const c = v / 255;
  return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
}

export function luminance(hex: string): number {
  const part = (i: number) => channel(parseInt(hex.slice(i, i + 2), 16));
  return 0.2126 * part(1) + 0.7152 * part(3) + 0.0722 * part(5);
}

export function ratio(a: string, b: string): number {
  const [la, lb] = [luminance(a), luminance(b)];
  return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
}

/** Why `colour` may not be `field` (none: fine). */
export function contrastProblems(field: "primary_color" | "accent_color", colour: string): string[] {
  const out: string[] = [];
  for (const [token, theme, needed, against] of PAIRINGS[field]) {
    const found = ratio(colour, TOKENS[token][theme]);
    if (found < needed) out.push(t("branding.contrastShort", { ratio: Math.floor(found * 100) / 100, needed, against: t(against) }));
  }
  return out;
}
