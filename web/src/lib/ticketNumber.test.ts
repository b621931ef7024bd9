import { describe, expect, test } from "vitest";
import { TICKET_NUMBER, ticketNumber } from "./ticketNumber";

describe("ticketNumber", () => {
  test("prefix, year and a six-digit yearly counter, as the server makes them", () => {
    expect(ticketNumber("TCK", 2026, 42)).toBe("TCK-2026-000042");
    expect(ticketNumber("IT", 2027, 1)).toBe("IT-2027-000001");
    expect(TICKET_NUMBER.test(ticketNumber("HELP", 2026, 1234567))).toBe(true);
  });
});
