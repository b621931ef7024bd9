import { describe, expect, test } from "vitest";
import { allowedTransitions } from "./transitions";

describe("allowedTransitions mirrors tickets/states.py", () => {
  test("staff may go anywhere the graph allows", () => {
    expect(allowedTransitions("resolved", { staff: true, isRequester: false })).toEqual(["open", "closed"]);
    expect(allowedTransitions("cancelled", { staff: true, isRequester: false })).toEqual(["open"]);
  });

  test("the requester may cancel or close an active ticket, and close or reopen a resolved one", () => {
    expect(allowedTransitions("in_progress", { staff: false, isRequester: true }).sort()).toEqual(["cancelled", "closed"]);
    expect(allowedTransitions("resolved", { staff: false, isRequester: true }).sort()).toEqual(["closed", "open"]);
    expect(allowedTransitions("closed", { staff: false, isRequester: true })).toEqual(["open"]);
    // A cancel is not a dead end: the requester may reopen it (the server checks the window).
    expect(allowedTransitions("cancelled", { staff: false, isRequester: true })).toEqual(["open"]);
  });

  test("someone who only takes part may not move it", () => {
    expect(allowedTransitions("open", { staff: false, isRequester: false })).toEqual([]);
  });
});
