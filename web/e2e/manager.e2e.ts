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

/** A tile of the dashboard as a number. */
async function tile(page: Page, key: string): Promise<number> {
  const text = (await page.getByTestId(`tile-${key}`).textContent()) ?? "";
  return Number.parseInt(text.replace(/[^\d]/g, ""), 10);
}

/** The count in one row of a bar table ("Critical", a team's name). */
async function barCount(page: Page, testId: string, label: string): Promise<number> {
  const row = page.getByTestId(testId).getByRole("row").filter({ has: page.getByRole("rowheader", { name: label, exact: true }) });
  if ((await row.count()) === 0) return 0;
  const text = (await row.getByRole("cell").first().textContent()) ?? "";
  return Number.parseInt(text.replace(/[^\d]/g, ""), 10);
}

async function loaded(page: Page): Promise<void> {
  await expect.poll(() => page.getByTestId("tile-open").textContent(), { timeout: 20_000 }).toMatch(/^\d/);
  await expect.poll(() => page.getByText("Loading…").count(), { timeout: 20_000 }).toBe(0);
}

/** No sideways scrolling of the page (then axe in both themes and the screenshots). */
async function screen(page: Page, name: string): Promise<void> {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow, `${name}: wider than the window`).toBeLessThanOrEqual(0);
  await checkScreen(page, name);
}

describe("the manager's dashboard", () => {
  test("a ticket filed in another session shows in the tiles, live", async () => {
    const { page, errors } = manager;
    await signIn(page, "manager@acme.example");
    const dashboardRead = page.waitForRequest((r) => r.url().includes("/v1/reports/dashboard"));
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Dashboard" }).click();
    await page.waitForURL("**/dashboard");
    await dashboardRead;
    await loaded(page);
    // The figures come from the server: the page reads no ticket list.
    const lists: string[] = [];
    page.on("request", (r) => {
      if (new URL(r.url()).pathname === "/v1/tickets") lists.push(r.url());
    });

    const before = {
      created: await tile(page, "created_today"),
      open: await tile(page, "open"),
      critical: await barCount(page, "backlog-by-priority", "Critical"),
    };

    // An employee files a critical request in another session; no click here: the push
    // refetches the dashboard.
    const employee = await apiLogin("employee@acme.example");
    await apiCall(employee, "POST", "/v1/tickets", {
      title: unique("Projector on fire"),
      description: "Smoke in meeting room 2.",
      impact: "critical",
      urgency: "critical",
    });
    await expect.poll(() => tile(page, "created_today"), { timeout: 30_000 }).toBe(before.created + 1);
    await expect.poll(() => tile(page, "open")).toBe(before.open + 1);
    await expect.poll(() => barCount(page, "backlog-by-priority", "Critical")).toBe(before.critical + 1);
    // Said once, politely.
    await expect.poll(() => page.getByTestId("dashboard-announcement").textContent()).toMatch(/Dashboard updated: .*Open now/);
    expect(await page.getByTestId("dashboard-announcement").getAttribute("aria-live")).toBe("polite");

    await page.getByText("Show the numbers as a table").click();
    expect(await page.getByRole("table", { name: /Created and resolved/ }).count()).toBe(1);
    expect(await page.getByRole("img", { name: /tickets were created/ }).count()).toBe(1);
    await screen(page, "dashboard");
    expect(lists).toEqual([]);

    // A tile opens the tickets it counts.
    await page.getByTestId("tile-open").getByRole("link").click();
    await page.waitForURL(/\/queues\/all\?.*from=report/);
    await expect.poll(() => page.getByTestId("drilldown").count()).toBe(1);
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
