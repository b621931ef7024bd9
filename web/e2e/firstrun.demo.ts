import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { BASE_URL, apiCall, apiLogin, checkScreen, launch, openSession, signIn, unique } from "./support";

// The first run of `make dev`, against the demo desk (scripts/e2e_stack.py --demo): a new
// visitor signs in with a demo account and finds work in every queue, figures on the
// dashboard, the API reference offline and the caught e-mail in the app.
if (!process.env.E2E_DEMO) throw new Error("run through scripts/e2e_stack.py --demo (E2E_DEMO=1)");

let browser: Browser;

beforeAll(async () => {
  browser = await launch();
});

afterAll(async () => {
  await browser?.close();
});

async function rows(page: Page): Promise<number> {
  await expect.poll(() => page.getByText("Loading tickets").count(), { timeout: 20_000 }).toBe(0);
  return page.getByTestId("queue-rows").getByRole("row").count();
}

describe("a new visitor on the demo desk", () => {
  test("an agent finds tickets in every queue", async () => {
    const { page, errors, context } = await openSession(browser);
    await page.goto("/");
    await page.waitForURL("**/login");
    await signIn(page, "agent@acme.example");
    await page.waitForURL("**/queues/**");
    await expect.poll(() => page.getByTestId("dev-banner").count(), { timeout: 10_000 }).toBe(1);

    const queues = page.getByRole("navigation", { name: "Queues" });
    await expect.poll(() => queues.getByRole("link").count(), { timeout: 20_000 }).toBeGreaterThanOrEqual(5);
    const names = await queues.getByRole("link").allTextContents();
    for (const name of names) {
      await queues.getByRole("link", { name, exact: true }).click();
      await expect.poll(() => rows(page), { timeout: 20_000, message: `the "${name}" queue is empty` }).toBeGreaterThan(0);
      if (name.startsWith("At risk")) {
        // Both halves of the SLA queue have something: at risk now, and already breached.
        for (const kind of ["at_risk", "breached"]) {
          await page.getByLabel("SLA").selectOption(kind);
          await expect.poll(() => rows(page), { timeout: 20_000, message: `no ${kind} ticket` }).toBeGreaterThan(0);
        }
      }
      await checkScreen(page, `firstrun-queue-${name.toLowerCase().replace(/[^a-z]+/g, "-")}`);
    }

    // A ticket with a history: a conversation with the requester and a note among staff.
    await queues.getByRole("link", { name: "All", exact: true }).click();
    await page.getByLabel("Status").selectOption("resolved");
    await expect.poll(() => rows(page), { timeout: 20_000 }).toBeGreaterThan(0);
    await page.getByTestId("queue-rows").getByRole("link").first().click();
    await page.waitForURL("**/tickets/**");
    await expect.poll(() => page.getByTestId("public-reply").count(), { timeout: 20_000 }).toBeGreaterThan(0);
    await checkScreen(page, "firstrun-ticket");
    expect(errors).toEqual([]);
    await context.close();
  });

  test("a manager finds figures on the dashboard", async () => {
    const { page, errors, context } = await openSession(browser);
    await signIn(page, "manager@acme.example");
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Dashboard" }).click();
    await page.waitForURL("**/dashboard");
    const figure = async (id: string) => Number.parseInt(((await page.getByTestId(id).textContent()) ?? "").replace(/[^\d]/g, "") || "0", 10);
    // The server's figures (GET /v1/reports/dashboard) over the demo desk's history.
    await expect.poll(() => figure("tile-open"), { timeout: 20_000 }).toBeGreaterThan(5);
    await expect.poll(() => page.getByText("Loading…").count(), { timeout: 20_000 }).toBe(0);
    const chart = (await page.getByRole("img", { name: /tickets were created/ }).getAttribute("aria-label")) ?? "";
    expect(Number(/(\d+) tickets were created/.exec(chart)?.[1] ?? 0)).toBeGreaterThan(20);
    expect(await page.getByTestId("tile-sla_breached").textContent()).toMatch(/\d/);
    await checkScreen(page, "firstrun-dashboard");
    expect(errors).toEqual([]);
    await context.close();
  });

  test("the API reference works offline, from this origin only", async () => {
    const { page, errors, context } = await openSession(browser);
    const requests: { url: string; status: number }[] = [];
    page.on("response", (response) => requests.push({ url: response.url(), status: response.status() }));
    const failed: string[] = [];
    page.on("requestfailed", (request) => failed.push(request.url()));
    await page.goto("/docs");
    await expect.poll(() => page.locator(".opblock").count(), { timeout: 30_000 }).toBeGreaterThan(5);
    // The whole document is there; Swagger UI (5.35) renders only what is on screen once a
    // document has 150 operations and tags, so the last section appears as it is scrolled to.
    const operations = await page.evaluate(() => {
      const ui = (window as unknown as { ui: { specSelectors: { operations(): { size: number } } } }).ui;
      return ui.specSelectors.operations().size;
    });
    expect(operations).toBeGreaterThan(150);
    // Every section, in Swagger UI's own order (named by the document, not by this test), is
    // reached by scrolling: the list renders what is on screen, so scroll a screen at a time.
    const sections = await page.evaluate(() => {
      const ui = (window as unknown as { ui: { specSelectors: { taggedOperations(): { keySeq(): { toArray(): string[] } } } } }).ui;
      return ui.specSelectors.taggedOperations().keySeq().toArray();
    });
    const seen = new Set<string>();
    await expect
      .poll(async () => {
        for (const text of await page.locator(".opblock-tag").allTextContents()) seen.add(text.trim());
        await page.mouse.wheel(0, 700);
        return sections.filter((tag) => ![...seen].some((text) => text.startsWith(tag))).length;
      }, { timeout: 60_000, interval: 100 })
      .toBe(0);
    const origin = new URL(BASE_URL).origin;
    expect(requests.length).toBeGreaterThanOrEqual(4); // the page, its script and style, the document
    for (const r of requests) {
      // data: URLs (Swagger UI's inline icons) never leave the page; everything else is ours.
      if (r.url.startsWith("data:")) continue;
      expect(new URL(r.url).origin, r.url).toBe(origin);
      expect(r.status, r.url).toBe(200);
    }
    expect(requests.some((r) => r.url.endsWith("/openapi.json"))).toBe(true);
    expect(failed).toEqual([]);
    expect(errors).toEqual([]); // a CSP refusal would be a console error
    await context.close();
  });

  test("the development banner leads to the caught e-mail", async () => {
    const { page, errors, context } = await openSession(browser);
    // Something to read for sure: an invitation to an address with no account yet.
    const admin = await apiLogin("admin@acme.example");
    const invitee = `${unique("newcomer")}@elsewhere.example`;
    await apiCall(admin, "POST", "/v1/users/invitations", { email: invitee, role: "agent" });

    await signIn(page, "admin@acme.example");
    await page.getByTestId("dev-banner").getByRole("link", { name: "Caught e-mail" }).click();
    await page.waitForURL("**/dev/mail");
    const item = page.getByTestId("mail-list").getByRole("link").filter({ hasText: invitee });
    await expect.poll(() => item.count(), { timeout: 30_000, interval: 1000 }).toBe(1);
    await checkScreen(page, "firstrun-mail-list");
    await item.click();
    await expect.poll(() => page.getByTestId("mail-text").count(), { timeout: 20_000 }).toBe(1);
    expect(await page.getByTestId("mail-text").textContent()).toContain("/accept-invitation#token=");
    const html = page.getByTestId("mail-html");
    expect(await html.getByRole("link").count()).toBeGreaterThan(0);
    expect(await html.locator("script, style, img, [style]").count()).toBe(0);
    await checkScreen(page, "firstrun-mail-message");

    // A requester sees only what was sent to them: not the admin's invitation.
    const employee = await openSession(browser);
    await signIn(employee.page, "employee@acme.example");
    await employee.page.goto("/dev/mail");
    await expect.poll(() => employee.page.getByText("Loading messages").count(), { timeout: 20_000 }).toBe(0);
    expect(await employee.page.getByText(invitee).count()).toBe(0);
    await employee.context.close();
    expect(errors).toEqual([]);
    await context.close();
  });
});
