import { afterAll, afterEach, beforeEach, describe, expect, test } from "vitest";
import { en } from "../i18n/en";
import { setCatalogue } from "../i18n";
import {
  LEVEL_LABELS,
  STATUS_LABELS,
  displayLocale,
  formatBytes,
  formatCountdown,
  formatDateTime,
  formatDay,
  formatDayRange,
  formatDuration,
  formatNumber,
  formatPercent,
  formatRelative,
  setDisplayPreferences,
  statusLabel,
  weekdayNames,
} from "./format";

const THIN = "\u2009";

describe("dates, numbers and durations in the display locale", () => {
  beforeEach(() => setDisplayPreferences({ locale: "en-US", timeZone: "UTC" }));
  afterAll(() => setDisplayPreferences({}));

  test("durations: the two largest units, hours up to two days", () => {
    expect(formatDuration(42)).toBe("42s");
    expect(formatDuration(59.6)).toBe("60s");
    expect(formatDuration(60)).toBe("1m");
    expect(formatDuration(45 * 60)).toBe("45m");
    expect(formatDuration(3 * 3600)).toBe("3h");
    expect(formatDuration(3 * 3600 + 5 * 60)).toBe("3h 05m");
    expect(formatDuration(47 * 3600 + 59 * 60)).toBe("47h 59m");
    expect(formatDuration(2 * 86400)).toBe("2d");
    expect(formatDuration(2 * 86400 + 4 * 3600)).toBe("2d 4h");
    expect(formatDuration(-90 * 60)).toBe("-1h 30m");
  });

  test("countdowns to the minute, overdue with a minus", () => {
    expect(formatCountdown(2 * 3600_000 + 5 * 60_000)).toBe("2h 05m");
    expect(formatCountdown(-12 * 60_000)).toBe("-12m");
    expect(formatCountdown(3 * 86_400_000 + 2 * 3600_000)).toBe("3d 2h");
    expect(formatCountdown(59_999)).toBe("0m");
  });

  test("sizes, numbers and shares", () => {
    expect(formatBytes(512)).toBe("512B");
    expect(formatBytes(1536)).toBe("1.5 kB");
    expect(formatBytes(2 * 1024 * 1024)).toBe("2.0 MB");
    expect(formatNumber(1234567.5)).toBe("1,234,567.5");
    expect(formatPercent(0.8734)).toBe("87.3%");
    expect(formatPercent(0.5, 0)).toBe("50%");
  });

  test("calendar dates as given, whatever the time zone", () => {
    setDisplayPreferences({ locale: "en-US", timeZone: "Pacific/Kiritimati" });
    expect(formatDay("2026-03-04", "day")).toBe("Mar 4");
    expect(formatDay("2026-03-04", "month")).toBe("Mar 2026");
    expect(formatDay("2026-03-04")).toBe("Mar 4, 2026");
    expect(formatDayRange("2026-03-01", "2026-03-30")).toBe(`Mar 1${THIN}–${THIN}30, 2026`);
    expect(formatDayRange("2026-03-01T00:00:00Z", "2026-03-01")).toBe("Mar 1, 2026");
    expect(weekdayNames()).toEqual(["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]);
    expect(weekdayNames("short")[6]).toBe("Sun");
  });

  test("another locale writes its own words and separators (no hand-built English)", () => {
    setDisplayPreferences({ locale: "de-DE", timeZone: "Europe/Berlin" });
    expect(displayLocale()).toBe("de-DE");
    expect(formatNumber(1234567.5)).toBe("1.234.567,5");
    expect(formatPercent(0.8734)).toBe(`87,3${"\u00a0"}%`);
    expect(formatBytes(1536)).toBe("1,5 kB");
    expect(formatDay("2026-03-04")).toBe("04.03.2026");
    expect(weekdayNames()[0]).toBe("Montag");
    expect(formatDuration(3 * 3600 + 5 * 60)).toBe(new Intl.ListFormat("de-DE", { type: "unit", style: "narrow" }).format(["3h", "05 Min."]));
    expect(formatRelative(new Date(Date.now() - 3 * 60_000).toISOString())).toBe("vor 3 Minuten");
    expect(formatDateTime("2026-03-04T12:00:00Z")).toBe("04.03.2026, 13:00");
  });

  test("an unknown locale falls back to the browser's, without throwing", () => {
    setDisplayPreferences({ locale: "not a locale", timeZone: "UTC" });
    expect(formatNumber(1)).toBe("1");
  });
});

describe("the label tables read the catalogue at each use", () => {
  afterEach(() => setCatalogue(en));

  test("statuses and levels follow a catalogue swapped in after import", () => {
    expect(STATUS_LABELS.pending).toBe("Waiting on requester");
    expect(Object.values(LEVEL_LABELS)).toEqual(["Low", "Medium", "High", "Critical"]);
    setCatalogue({ "format.status.pending": "Wartet auf Anfragende", "format.level.low": "Niedrig" });
    expect(statusLabel("pending", true)).toBe("Wartet auf Anfragende");
    expect(statusLabel("pending", false)).toBe("Waiting on you");
    expect(LEVEL_LABELS.low).toBe("Niedrig");
  });
});
