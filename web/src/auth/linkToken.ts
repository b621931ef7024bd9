/**
 * Account links carry their token in the URL fragment (`/reset-password#token=…`): a fragment
 * never reaches a server log or a Referer header. Older links may carry it as `?token=`.
 */
export function tokenFrom(hash: string, search: string): string {
  const fromHash = new URLSearchParams(hash.replace(/^#/, "")).get("token");
  return fromHash ?? new URLSearchParams(search).get("token") ?? "";
}

/** The password fields agree and meet the length rule the API applies (identity/passwords.py);
 * the API still judges the rest (common passwords, the address itself). */
export function passwordProblem(password: string, repeat: string): string | null {
  if (password.length < 12) return "Use at least 12 characters.";
  if (password.length > 256) return "Use at most 256 characters.";
  if (password !== repeat) return "The two passwords differ.";
  return null;
}

/** What a magic link's session lasts in ms, from the exchange's `expires_in`, less a margin so
 * the page follows the link again before a request is refused. */
export function renewIn(expiresInSeconds: number, marginMs = 30_000): number {
  return Math.max(5_000, expiresInSeconds * 1000 - marginMs);
}
