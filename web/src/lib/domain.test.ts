import { describe, expect, it } from "vitest";
import { STATUSES } from "./format";
import { ACTIVE_STATUSES, APPROVAL_STATUSES, FINISHED_STATUSES, RESOLVED_STATUSES, ROLES, STAFF_ROLES, atLeast, isActive, isFinished, isStaff } from "./domain";

describe("roles", () => {
  it("staff are every role but the requester", () => {
    expect([...STAFF_ROLES]).toEqual(["agent", "manager", "admin"]);
    expect(ROLES.filter(isStaff)).toEqual([...STAFF_ROLES]);
    expect(isStaff("requester")).toBe(false);
    expect(isStaff(undefined)).toBe(false);
  });

  it("ranks each role above the ones before it", () => {
    expect(atLeast("admin", "manager")).toBe(true);
    expect(atLeast("manager", "manager")).toBe(true);
    expect(atLeast("agent", "manager")).toBe(false);
    expect(atLeast("requester", "agent")).toBe(false);
    expect(atLeast(undefined, "requester")).toBe(false);
  });
});

describe("statuses", () => {
  it("every status is active, finished or waiting for approval, never two of them", () => {
    for (const status of STATUSES) {
      const kinds = [isActive(status), isFinished(status), APPROVAL_STATUSES.includes(status)];
      expect(kinds.filter(Boolean).length).toBe(1);
    }
    expect(ACTIVE_STATUSES.length + FINISHED_STATUSES.length + APPROVAL_STATUSES.length).toBe(STATUSES.length);
  });

  it("resolved statuses are the finished ones with an answer", () => {
    expect([...RESOLVED_STATUSES]).toEqual(["resolved", "closed"]);
    expect(RESOLVED_STATUSES.every(isFinished)).toBe(true);
  });
});
