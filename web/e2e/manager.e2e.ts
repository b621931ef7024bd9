import { readFile } from "node:fs/promises";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { apiCall, apiLogin, checkScreen, launch, openSession, signIn, unique, type Session } from "./support";

let browser: Browser;
let manager: Session;

beforeAll(async () => {
  browser = await launch();
  manager = await openSession(browser);
});

afterAll(async () => {
  await browser?.close();
});

/** A figure of the dashboard as a number (the text may carry a "+" when capped). */
async function figure(page: Page, testId: string): Promise<number> {
  const text = (await page.getByTestId(testId).textContent()) ?? "";
  return Number.parseInt(text.replace(/[^\d]/g, ""), 10);
}

/** The count in one row of a bar table ("New", "Critical", a team's name). */
async function barCount(page: Page, testId: string, label: string): Promise<number> {
  const row = page.getByTestId(testId).getByRole("row").filter({ has: page.getByRole("rowheader", { name: label, exact: true }) });
  if ((await row.count()) === 0) return 0;
  const text = (await row.getByRole("cell").first().textContent()) ?? "";
  return Number.parseInt(text.replace(/[^\d]/g, ""), 10);
}

async function loaded(page: Page): Promise<void> {
  await expect.poll(() => page.getByTestId("figure-created").textContent(), { timeout: 20_000 }).toMatch(/^\d+\+?$/);
  await expect.poll(() => page.getByTestId("figure-backlog").textContent(), { timeout: 20_000 }).toMatch(/^\d+\+?$/);
  await expect.poll(() => page.getByTestId("backlog-by-status").count(), { timeout: 20_000 }).toBe(1);
  await expect.poll(() => page.getByText("Loading…").count(), { timeout: 20_000 }).toBe(0);
}

/** No sideways scrolling of the page (then axe in both themes and the screenshots). */
async function screen(page: Page, name: string): Promise<void> {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  const wide = await page.evaluate(() =>
    Array.from(document.querySelectorAll("body *"))
      .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 1)
      .slice(0, 5)
      .map((el) => `${el.tagName.toLowerCase()}.${String(el.className)}`),
  );
  expect(overflow, `${name}: wider than the window: ${wide.join(" ; ")}`).toBeLessThanOrEqual(0);
  await checkScreen(page, name);
}

describe("the manager's dashboard", () => {
  test("a newly filed ticket shows in the figures", async () => {
    const { page, errors } = manager;
    await signIn(page, "manager@acme.example");
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Dashboard" }).click();
    await page.waitForURL("**/dashboard");
    await loaded(page);

    const before = {
      created: await figure(page, "figure-created"),
      backlog: await figure(page, "figure-backlog"),
      fresh: await barCount(page, "backlog-by-status", "New"),
      critical: await barCount(page, "backlog-by-priority", "Critical"),
    };

    // An employee files a critical request (the API sets the scene; the dashboard is tested).
    const employee = await apiLogin("employee@acme.example");
    await apiCall(employee, "POST", "/v1/tickets", {
      title: unique("Projector on fire"),
      description: "Smoke in meeting room 2.",
      impact: "critical",
      urgency: "critical",
    });

    await page.getByRole("button", { name: "Refresh" }).click();
    await expect.poll(() => figure(page, "figure-created"), { timeout: 20_000 }).toBe(before.created + 1);
    await expect.poll(() => figure(page, "figure-backlog")).toBe(before.backlog + 1);
    await expect.poll(() => barCount(page, "backlog-by-status", "New")).toBe(before.fresh + 1);
    // Impact and urgency both critical make a critical ticket (the default priority matrix).
    await expect.poll(() => barCount(page, "backlog-by-priority", "Critical")).toBe(before.critical + 1);

    // The chart has its numbers as a table too, and SLA compliance is on the page.
    await page.getByText("Show the numbers as a table").click();
    expect(await page.getByRole("table", { name: /Opened and resolved/ }).count()).toBe(1);
    expect(await page.getByTestId("compliance-first_response").count()).toBe(1);
    expect(await page.getByRole("img", { name: /tickets were opened/ }).count()).toBe(1);
    await screen(page, "dashboard");

    await page.getByLabel("Split by").selectOption("team");
    await page.getByLabel("Period").selectOption("30");
    await loaded(page);
    expect(await figure(page, "figure-created")).toBeGreaterThanOrEqual(before.created + 1);
    expect(errors).toEqual([]);
  });

  test("the manager downloads SLA compliance as CSV, split as on the screen", async () => {
    const { page, errors } = manager;
    await page.goto("/dashboard");
    await loaded(page);
    await page.getByLabel("Split by").selectOption("policy");
    const asked = page.waitForRequest((r) => r.url().includes("/v1/reports/sla-compliance?") && r.url().includes("format=csv"));
    const downloaded = page.waitForEvent("download");
    await page.getByTestId("export-csv").click();
    expect((await asked).url()).toContain("group_by=policy");
    const file = await downloaded;
    expect(file.suggestedFilename()).toMatch(/^sla-compliance-\d{8}-\d{8}\.csv$/);
    const text = await readFile(await file.path(), "utf8");
    expect(text.split("\r\n")[0]).toBe("policy,target,met,breached,compliance");
    expect(errors).toEqual([]);
  });

  test("the dashboard fits a phone", async () => {
    const phone = await openSession(browser, { width: 390, height: 844 });
    await signIn(phone.page, "manager@acme.example");
    await phone.page.goto("/dashboard");
    await loaded(phone.page);
    await screen(phone.page, "dashboard-phone");
    expect(phone.errors).toEqual([]);
    await phone.context.close();
  });

  test("an agent is not offered the dashboard or the admin screens", async () => {
    const agent = await openSession(browser);
    await signIn(agent.page, "agent@acme.example");
    expect(await agent.page.getByRole("link", { name: "Dashboard" }).count()).toBe(0);
    expect(await agent.page.getByRole("link", { name: "Admin" }).count()).toBe(0);
    await agent.page.goto("/admin/teams");
    await agent.page.waitForURL((url) => !url.pathname.startsWith("/admin"));
    await agent.context.close();
  });
});
