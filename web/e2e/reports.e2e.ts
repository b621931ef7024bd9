import { readFile } from "node:fs/promises";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { apiCall, apiLogin, checkScreen, launch, openSession, signIn, unique, type Session } from "./support";

let browser: Browser;
let manager: Session;

beforeAll(async () => {
  browser = await launch();
  manager = await openSession(browser);
  await signIn(manager.page, "manager@acme.example");
});

afterAll(async () => {
  await browser?.close();
});

/** RFC 4180 CSV (quoted fields, doubled quotes, CRLF) into rows of cells. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      row.push(cell);
      cell = "";
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      row.push(cell);
      rows.push(row);
      row = [];
      cell = "";
    } else cell += c;
  }
  if (cell || row.length) {
    row.push(cell);
    rows.push(row);
  }
  return rows;
}

async function reportLoaded(page: Page): Promise<void> {
  await expect.poll(() => page.getByTestId("report-table").count(), { timeout: 20_000 }).toBe(1);
  await expect.poll(() => page.getByText("Loading…").count(), { timeout: 20_000 }).toBe(0);
}

async function total(page: Page, key: string): Promise<number> {
  const text = (await page.getByTestId(`total-${key}`).textContent()) ?? "";
  return Number.parseInt(text.replace(/[^\d]/g, ""), 10);
}

describe("reports", () => {
  test("open the volume report, change the range, the address keeps it", async () => {
    const { page, errors } = manager;
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Reports" }).click();
    await page.waitForURL(/\/reports\/[\w-]+/);
    await reportLoaded(page);
    await page.getByLabel("Report", { exact: true }).selectOption("volume");
    await page.waitForURL(/\/reports\/volume/);
    await reportLoaded(page);
    await page.getByLabel("Date range").selectOption("last7");
    await page.waitForURL(/range=last7/);
    await reportLoaded(page);
    // Seven local days, one row each (interval day by default).
    await expect.poll(() => page.getByTestId("report-table").locator("tbody tr").count()).toBe(7);
    expect(await page.getByRole("img", { name: /Ticket volume|volume/i }).count()).toBeGreaterThanOrEqual(1);
    await page.getByText("Show the numbers as a table").click();
    await checkScreen(page, "reports-volume");

    // A shared link opens the same report and range.
    const url = page.url();
    const other = await openSession(browser);
    await signIn(other.page, "manager@acme.example");
    await other.page.goto(url);
    await reportLoaded(other.page);
    expect(await other.page.getByLabel("Date range").inputValue()).toBe("last7");
    expect(await other.page.getByTestId("report-table").locator("tbody tr").count()).toBe(7);
    await other.context.close();

    // Grouped by priority: bars, with the table.
    await page.getByLabel("Interval").selectOption("none");
    await page.getByLabel("Group by").selectOption("priority");
    await page.waitForURL(/group_by=priority/);
    await reportLoaded(page);
    expect(await page.getByTestId("report-chart").getByRole("table").count()).toBe(1);
    expect(errors).toEqual([]);
  });

  test("a count drills down to the ticket list with its filters", async () => {
    const { page, errors } = manager;
    const employee = await apiLogin("employee@acme.example");
    const title = unique("Report drilldown");
    await apiCall(employee, "POST", "/v1/tickets", { title, description: "Counted in today's volume." });
    await page.goto("/reports/volume?range=last7");
    await reportLoaded(page);
    await expect.poll(async () => {
      await page.reload();
      await reportLoaded(page);
      return total(page, "created");
    }, { timeout: 30_000 }).toBeGreaterThan(0);
    const today = page.getByTestId("report-table").locator("tbody tr").last();
    await today.getByRole("link", { name: /show the tickets/ }).first().click();
    await page.waitForURL(/\/queues\/all\?.*from=report/);
    await expect.poll(() => page.getByTestId("drilldown").count()).toBe(1);
    await expect.poll(() => page.getByRole("link", { name: title }).count(), { timeout: 20_000 }).toBe(1);
    await checkScreen(page, "reports-drilldown");
    // Clear goes back to the plain queue.
    await page.getByTestId("drilldown").getByRole("link", { name: "Clear" }).click();
    await expect.poll(() => page.getByTestId("drilldown").count()).toBe(0);
    expect(errors).toEqual([]);
  });

  test("resolution time's count drills down to exactly that many tickets", async () => {
    const { page, errors } = manager;
    const employee = await apiLogin("employee@acme.example");
    const agent = await apiLogin("agent@acme.example");
    const title = unique("Resolved for the drilldown");
    const ticket = await apiCall<{ id: string }>(employee, "POST", "/v1/tickets", { title, description: "Resolved today." });
    for (const to of ["in_progress", "resolved"]) {
      await apiCall(agent, "POST", `/v1/tickets/${ticket.id}/transitions`, { to });
    }
    await page.goto("/reports/resolution-time?range=last7");
    await reportLoaded(page);
    // The reports consumer counts the resolution a moment after the API call.
    await expect.poll(async () => {
      await page.reload();
      await reportLoaded(page);
      return total(page, "count");
    }, { timeout: 30_000 }).toBeGreaterThan(0);
    const count = await total(page, "count");
    await page.getByTestId("total-count").getByRole("link", { name: /show the tickets/ }).click();
    await page.waitForURL(/\/queues\/all\?.*resolved_after=/);
    await expect.poll(() => page.getByTestId("drilldown").count()).toBe(1);
    await expect.poll(() => page.getByRole("link", { name: title }).count(), { timeout: 20_000 }).toBe(1);
    // Every page of the list: as many tickets as the report counted.
    while ((await page.getByRole("button", { name: "Load more" }).count()) > 0) {
      await page.getByRole("button", { name: "Load more" }).click();
      await page.waitForTimeout(300);
    }
    await expect.poll(() => page.getByTestId("queue-rows").locator("tr").count(), { timeout: 20_000 }).toBe(count);
    await checkScreen(page, "reports-drilldown-resolution-time");
    expect(errors).toEqual([]);
  });

  test("export CSV (parsed back), JSON (the result) and PDF", async () => {
    const { page, errors } = manager;
    await page.goto("/reports/volume?range=last7");
    await reportLoaded(page);
    const rows = await page.getByTestId("report-table").locator("tbody tr").count();
    const asked = page.waitForRequest((r) => r.url().includes("/v1/reports/volume?") && r.url().includes("format=csv"));
    const downloaded = page.waitForEvent("download");
    await page.getByTestId("export-csv").click();
    expect((await asked).url()).toMatch(/since=\d{4}-\d{2}-\d{2}/);
    const file = await downloaded;
    expect(file.suggestedFilename()).toMatch(/\.csv$/);
    const table = parseCsv(await readFile(await file.path(), "utf8")).filter((r) => r.some((c) => c !== ""));
    expect(table[0]).toContain("created");
    expect(table.length - 1).toBe(rows);

    // JSON is the ReportResult; PDF opens as a PDF.
    const json = page.waitForEvent("download");
    await page.getByTestId("export-json").click();
    const result = JSON.parse(await readFile(await (await json).path(), "utf8")) as { report: string; rows: unknown[] };
    expect(result.report).toBe("volume");
    expect(result.rows).toHaveLength(rows);
    const pdf = page.waitForEvent("download");
    await page.getByTestId("export-pdf").click();
    const bytes = await readFile(await (await pdf).path());
    expect(bytes.subarray(0, 5).toString("latin1")).toBe("%PDF-");
    expect(errors).toEqual([]);
  });

  test("subscribe the report, edit it, pause it, resume it, delete it", async () => {
    const { page, errors } = manager;
    await page.goto("/reports/volume?range=last7&group_by=priority&interval=none");
    await reportLoaded(page);
    await page.getByTestId("subscribe-link").click();
    await page.waitForURL(/\/reports\/scheduled\?.*report=volume/);
    await page.getByLabel("Frequency").selectOption("weekly");
    await page.getByLabel("Day", { exact: true }).selectOption("4");
    await page.getByLabel("Hour").selectOption("7");
    await page.getByLabel("Format").selectOption("csv");
    await checkScreen(page, "reports-schedule-form");
    const rows = page.getByTestId("subscriptions").getByRole("row");
    const existing = new Set(await rows.evaluateAll((els) => els.map((e) => e.getAttribute("data-testid"))));
    await page.getByRole("button", { name: "Subscribe" }).click();
    // The row this test made (by its id: other tests' schedules may read the same).
    await expect.poll(async () => (await rows.evaluateAll((els) => els.map((e) => e.getAttribute("data-testid")))).filter((id) => id && !existing.has(id)).length, { timeout: 20_000 }).toBe(1);
    const made = (await rows.evaluateAll((els) => els.map((e) => e.getAttribute("data-testid")))).find((id) => id && !existing.has(id));
    const mine = page.getByTestId(made ?? "none");
    expect(await mine.textContent()).toContain("Every Friday at 07:00");
    await checkScreen(page, "reports-scheduled");
    // Edit: the hour moves.
    await mine.getByRole("button", { name: /^Edit/ }).click();
    await page.getByLabel("Hour").selectOption("9");
    await page.getByRole("button", { name: "Save" }).click();
    await expect.poll(async () => (await mine.textContent()) ?? "", { timeout: 20_000 }).toContain("Every Friday at 09:00");
    await mine.getByRole("button", { name: /^Pause/ }).click();
    await expect.poll(() => mine.getByText("Paused", { exact: true }).count(), { timeout: 20_000 }).toBe(1);
    // Paused: no next delivery shown, the button offers to resume.
    expect(await mine.getByRole("cell").nth(2).textContent()).toBe("—");
    await checkScreen(page, "reports-scheduled-paused");
    // Resumed: scheduled again (a Friday at 09:00), the badge gone.
    await mine.getByRole("button", { name: /^Resume/ }).click();
    await expect.poll(() => mine.getByText("Paused", { exact: true }).count(), { timeout: 20_000 }).toBe(0);
    await expect.poll(() => mine.getByRole("button", { name: /^Pause/ }).count()).toBe(1);
    expect((await mine.getByRole("cell").nth(2).textContent()) ?? "").toMatch(/9:00/);
    await mine.getByRole("button", { name: /^Delete/ }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Delete" }).click();
    await expect.poll(() => mine.count(), { timeout: 20_000 }).toBe(0);
    expect(errors).toEqual([]);
  });

  test("an export in the background shows in My exports and downloads", async () => {
    const { page, errors } = manager;
    await page.goto("/reports/volume?range=last7");
    await reportLoaded(page);
    await page.getByTestId("export-background").click();
    await page.getByRole("link", { name: "See my exports" }).click();
    await page.waitForURL(/\/exports$/);
    const ready = page.getByTestId("exports").getByRole("row").filter({ hasText: "Ready" });
    await expect.poll(() => ready.count(), { timeout: 45_000 }).toBeGreaterThanOrEqual(1);
    await checkScreen(page, "exports");
    expect(errors).toEqual([]);
  });

  test("an agent has no reports", async () => {
    const agent = await openSession(browser);
    await signIn(agent.page, "agent@acme.example");
    expect(await agent.page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Reports" }).count()).toBe(0);
    await agent.page.goto("/reports/volume");
    await agent.page.waitForURL((url) => !url.pathname.startsWith("/reports"));
    await agent.context.close();
  });
});
