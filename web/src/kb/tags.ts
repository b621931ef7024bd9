/** Tags as typed ("VPN, remote access,vpn") to the list the API keeps: lower case, inner
 * spaces collapsed, duplicates and empties dropped (kb/schemas.py normalised_tags). */
export function parseTags(typed: string): string[] {
  const out: string[] = [];
  for (const part of typed.split(",")) {
    const tag = part.trim().split(/\s+/).join(" ").toLowerCase();
    if (tag && !out.includes(tag)) out.push(tag);
  }
  return out;
}

export function formatTags(tags: readonly string[]): string {
  return tags.join(", ");
}
