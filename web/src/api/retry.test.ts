import { describe, expect, test } from "vitest";

// Every screen's source (Vite reads them at test time).
const SOURCES = import.meta.glob<string>(["../**/*.tsx", "../**/*.ts", "!../**/*.test.*", "!../api/schema.d.ts", "!../dev/**"], {
  query: "?raw",
  import: "default",
  eager: true,
});

describe("queries keep the app's retry rule (main.tsx: 5xx, 429 and network failures retried, a 4xx is an answer)", () => {
  test("no query turns it off: a busy server (503) would leave the screen on its error for good", () => {
    const offenders = Object.entries(SOURCES)
      .filter(([file, text]) => !file.endsWith("/main.tsx") && /\bretry:\s*false\b/.test(text))
      .map(([file]) => file);
    expect(offenders).toEqual([]);
  });
});
