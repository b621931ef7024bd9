import { describe, expect, test } from "vitest";
import { checkHolidays, checkWeek, describeWeek, emptyWeek, officeHours, weeklyHours } from "./calendar";

describe("checkWeek", () => {
  test("office hours are fine and make 40 hours", () => {
    expect(checkWeek(officeHours())).toEqual({});
    expect(weeklyHours(officeHours())).toBe(40);
    expect(describeWeek(officeHours())).toBe("Mon–Fri 09:00–17:00");
  });

  test("errors are keyed like the server's: week.<day>.<n>", () => {
    const week = emptyWeek();
    week[0] = [{ start: "17:00", end: "09:00" }];
    week[1] = [
      { start: "09:00", end: "12:00" },
      { start: "11:00", end: "13:00" },
    ];
    week[2] = [{ start: "9:00", end: "24:00" }];
    week[3] = [{ start: "00:00", end: "24:00" }];
    expect(checkWeek(week)).toEqual({
      "week.0.0": "start must be before end",
      "week.1.1": "overlaps another interval",
      "week.2.0.start": "must be HH:MM (00:00-24:00)",
    });
  });

  test("a week without working time is refused", () => {
    expect(checkWeek(emptyWeek())).toEqual({ week: "a calendar needs some working time" });
  });
});

describe("checkHolidays", () => {
  test("dates and MM-DD days", () => {
    expect(checkHolidays(["2025-12-24"], ["12-25", "01-01"])).toEqual({});
    expect(checkHolidays(["24.12.2025"], ["13-01"])).toEqual({
      "holidays.0": "must be a date (YYYY-MM-DD)",
      yearly_holidays: "'13-01' is not MM-DD",
    });
  });
});
