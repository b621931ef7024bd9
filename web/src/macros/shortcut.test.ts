import { describe, expect, test } from "vitest";
import { isMacroShortcut } from "./MacroPicker";

function press(key: string, target: EventTarget | null, mods: Partial<{ ctrlKey: boolean; metaKey: boolean; shiftKey: boolean; altKey: boolean }> = {}) {
  return isMacroShortcut({ key, target, ctrlKey: false, metaKey: false, shiftKey: false, altKey: false, ...mods });
}

describe("the macro picker's shortcut", () => {
  test("m opens it outside text fields only", () => {
    expect(press("m", document.body)).toBe(true);
    expect(press("m", document.createElement("textarea"))).toBe(false);
    expect(press("m", document.createElement("input"))).toBe(false);
    expect(press("m", document.body, { ctrlKey: true })).toBe(false);
    expect(press("M", document.body)).toBe(false);
  });

  test("Ctrl or Cmd+Shift+M opens it anywhere, even while typing", () => {
    expect(press("M", document.createElement("textarea"), { ctrlKey: true, shiftKey: true })).toBe(true);
    expect(press("m", document.createElement("input"), { metaKey: true, shiftKey: true })).toBe(true);
  });
});
