import { formatDuration } from "../lib/format";

/** "1d 2h" for a number of minutes (lib/format.ts formatDuration, in the display locale). */
export function formatMinutes(total: number): string {
  return formatDuration(total * 60);
}
