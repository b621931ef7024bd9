/** A ticket number as servicedesk/tickets/service.py makes it: the tenant's prefix, the
 * year the ticket was opened, and a six-digit counter that starts again each year. */
export function ticketNumber(prefix: string, year: number, counter: number): string {
  return `${prefix}-${year}-${String(counter).padStart(6, "0")}`;
}

/** The pattern every number matches (the API's search recognises it too). */
export const TICKET_NUMBER = /^[A-Z]{2,8}-\d{4}-\d{6,}$/;
