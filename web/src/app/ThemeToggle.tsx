import { useEffect, useState } from "react";
import { MoonIcon } from "../components/icons";
import { applyTheme, resolvedTheme, saveTheme, storedTheme, type ThemeChoice } from "../lib/theme";

/** One button that flips between light and dark (the first visit follows the system). */
export function ThemeToggle() {
  const [choice, setChoice] = useState<ThemeChoice>(storedTheme);
  const current = resolvedTheme(choice);

  useEffect(() => {
    if (choice !== "system") return;
    const media = window.matchMedia?.("(prefers-color-scheme: dark)");
    const follow = () => applyTheme("system");
    media?.addEventListener("change", follow);
    return () => media?.removeEventListener("change", follow);
  }, [choice]);

  const dark = current === "dark";
  return (
    <button
      type="button"
      data-testid="theme-toggle"
      aria-pressed={dark}
      className="inline-flex h-9 items-center gap-2 rounded-md border border-border px-3 text-fg hover:bg-surface-muted"
      onClick={() => {
        const next = dark ? "light" : "dark";
        saveTheme(next);
        setChoice(next);
      }}
    >
      <MoonIcon />
      <span className="sr-only sm:not-sr-only">Dark theme</span>
    </button>
  );
}
