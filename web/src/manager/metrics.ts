/**
 * Chart arithmetic. The dashboard's figures themselves come from the server
 * (GET /v1/reports/dashboard, servicedesk/reports/dashboard.py): the browser no longer
 * counts tickets.
 */

/** A round maximum for an axis: 1, 2, 5, 10, 20, 50 … at or above the value. */
export function niceMax(value: number): number {
  if (value <= 1) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const m of [1, 2, 5, 10]) {
    if (m * power >= value) return m * power;
  }
  return 10 * power;
}
