import { describe, expect, test } from "vitest";
import { typingVisibility } from "./TypingIndicator";

function box(formTestId: string | null, value = "hello"): HTMLTextAreaElement {
  const form = document.createElement("form");
  if (formTestId) form.dataset.testid = formTestId;
  const textarea = document.createElement("textarea");
  textarea.value = value;
  form.append(textarea);
  return textarea;
}

describe("typingVisibility", () => {
  test("staff writing in the reply composer type in public", () => {
    expect(typingVisibility(box("reply-composer"), true)).toBe("public");
  });

  test("staff anywhere else count as writing a note: the requester is never told", () => {
    expect(typingVisibility(box("note-composer"), true)).toBe("internal");
    expect(typingVisibility(box(null), true)).toBe("internal");
  });

  test("a requester only ever replies; empty boxes and other fields say nothing", () => {
    expect(typingVisibility(box(null), false)).toBe("public");
    expect(typingVisibility(box("reply-composer", "   "), true)).toBeNull();
    expect(typingVisibility(document.createElement("input"), true)).toBeNull();
  });
});
