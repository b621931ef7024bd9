import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { PASSWORD, apiCall, apiLogin, checkScreen, launch, openSession, signIn, unique, type Session } from "./support";

let browser: Browser;
let employee: Session;
let agent: Session;
let agent2: Session;
const title = unique("Laptop will not boot");
const categoryName = unique("Hardware");
let ticketUrl = "";

beforeAll(async () => {
  browser = await launch();
  const manager = await apiLogin("manager@acme.example");
  await apiCall(manager, "POST", "/v1/categories", {
    name: categoryName,
    description: "Laptops, screens, docks",
    fields_schema: {
      type: "object",
      properties: {
        asset_tag: { type: "string", title: "Asset tag", pattern: "^AT-[0-9]{4}$", description: "On the sticker, like AT-1234" },
        location: { type: "string", title: "Where are you?", enum: ["Office", "Home"] },
        needs_loaner: { type: "boolean", title: "I need a loaner meanwhile" },
      },
      required: ["asset_tag", "location"],
    },
  });
  employee = await openSession(browser);
  agent = await openSession(browser);
  agent2 = await openSession(browser);
});

afterAll(async () => {
  await browser?.close();
});

describe("an employee's request, worked by agents", () => {
  test("the employee files a request with custom fields and an attachment", async () => {
    const { page, errors } = employee;
    await signIn(page, "employee@acme.example");
    await page.waitForURL("**/requests");
    await checkScreen(page, "my-requests");

    await page.getByRole("link", { name: "New request" }).first().click();
    await page.getByRole("radio", { name: new RegExp(categoryName) }).check();
    await checkScreen(page, "new-request-category");
    await page.getByRole("button", { name: "Continue" }).click();

    // Submitting empty: every problem is named next to its field, nothing is sent.
    await page.getByRole("button", { name: "Submit request" }).click();
    await expect.poll(() => page.getByText("Please correct the fields marked below.").count()).toBe(1);
    await page.getByLabel("Asset tag").fill("1234");
    await page.getByLabel("Subject").fill(title);
    await page.getByRole("button", { name: "Submit request" }).click();
    await expect.poll(() => page.getByText("does not match the required pattern").count()).toBe(1);
    await checkScreen(page, "new-request-errors");

    await page.getByLabel("Asset tag").fill("AT-1234");
    await page.getByLabel("Where are you?").selectOption("Office");
    await page.getByLabel("I need a loaner meanwhile").check();
    await page.getByLabel("Description").fill("It shows a blinking cursor and nothing else.");
    await page.getByTestId("new-request-files").setInputFiles({
      name: "boot-log.txt",
      mimeType: "text/plain",
      buffer: Buffer.from("POST failed at stage 3\n".repeat(200)),
    });
    await page.getByRole("button", { name: "Submit request" }).click();
    await page.waitForURL("**/tickets/*");
    ticketUrl = new URL(page.url()).pathname;
    await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe(title);
    await expect.poll(() => page.getByText("Request submitted").count()).toBe(1);
    await expect.poll(() => page.getByRole("list", { name: "Files" }).textContent(), { timeout: 15_000 }).toContain("boot-log.txt");
    expect(await page.getByText("AT-1234").count()).toBe(1);
    await checkScreen(page, "request-detail");
    expect(errors).toEqual([]);
  });

  test("an agent finds it in Unassigned with the keyboard, takes it, notes and replies", async () => {
    const { page, errors } = agent;
    await signIn(page, "agent@acme.example");
    await page.waitForURL("**/queues/mine");
    await page.getByRole("link", { name: "Unassigned" }).click();
    await expect.poll(() => page.getByTestId("queue-rows").textContent()).toContain(title);
    await checkScreen(page, "queue-unassigned");

    // "/" jumps to search; the list narrows to the request.
    await page.keyboard.press("/");
    await page.keyboard.type(title);
    await expect.poll(() => page.locator("[data-row-link]").count()).toBe(1);
    await page.locator("[data-row-link]").first().focus();
    await page.keyboard.press("ArrowDown"); // stays on the only row
    await page.keyboard.press("Enter");
    await page.waitForURL(`**${ticketUrl}`);

    await page.getByRole("button", { name: "Take it" }).click();
    await expect.poll(() => page.getByRole("button", { name: "Take it" }).count()).toBe(0);

    await page.getByRole("tab", { name: "Internal note" }).click();
    await page.getByRole("textbox", { name: "Internal note" }).fill("Probably the SSD. Do not tell them yet.");
    await page.getByRole("button", { name: "Add internal note" }).click();
    await expect.poll(() => page.getByTestId("internal-note").count()).toBe(1);

    await page.getByRole("tab", { name: "Reply to requester" }).click();
    await page.getByRole("textbox", { name: "Reply" }).fill("We are on it: bring the laptop to the IT desk.");
    await page.getByRole("button", { name: "Send reply" }).click();
    await expect.poll(() => page.getByTestId("public-reply").count()).toBe(1);
    await checkScreen(page, "agent-ticket");
    await page.getByRole("tab", { name: "Internal note" }).click();
    await checkScreen(page, "agent-ticket-note-composer");
    expect(errors).toEqual([]);
  });

  test("the employee sees the reply and never the internal note", async () => {
    const { page } = employee;
    await page.reload();
    await expect.poll(() => page.getByTestId("public-reply").count()).toBe(1);
    expect(await page.getByText("We are on it").count()).toBe(1);
    expect(await page.getByTestId("internal-note").count()).toBe(0);
    expect(await page.getByText("Probably the SSD").count()).toBe(0);
  });

  test("a second agent's stale save is told someone else changed the ticket, and reloads", async () => {
    await signIn(agent2.page, "agent2@acme.example");
    await agent2.page.goto(ticketUrl);
    await agent.page.goto(ticketUrl);
    // agent2 starts editing; agent saves first.
    await agent2.page.getByLabel("Priority", { exact: true }).selectOption("critical");
    await agent.page.getByLabel("Priority", { exact: true }).selectOption("high");
    await agent.page.getByRole("button", { name: "Save changes" }).click();
    await expect.poll(() => agent.page.getByText("Priority: High").count()).toBeGreaterThan(0);

    // agent2's edit still stands on the version it started from (a push may have told
    // the page about agent's save meanwhile: the edit is kept, not overwritten).
    expect(await agent2.page.getByLabel("Priority", { exact: true }).inputValue()).toBe("critical");
    await agent2.page.getByRole("button", { name: "Save changes" }).click();
    await expect.poll(() => agent2.page.getByText("This ticket was changed by someone else").count()).toBe(1);
    await expect.poll(() => agent2.page.getByLabel("Priority", { exact: true }).inputValue()).toBe("high");
    await checkScreen(agent2.page, "agent-conflict");
    expect(agent2.errors).toEqual([]);
  });

  test("the employee closes the request and reopens it", async () => {
    const { page, errors } = employee;
    await page.reload();
    await page.getByRole("button", { name: "Close request" }).click();
    await expect.poll(() => page.getByRole("button", { name: "Reopen" }).count()).toBe(1);
    await page.getByRole("button", { name: "Reopen" }).click();
    await expect.poll(() => page.getByRole("button", { name: "Close request" }).count()).toBe(1);
    expect(errors).toEqual([]);
  });

  test("an e-mailed link opened signed out leads to the request, which fits a phone", async () => {
    const phone = await openSession(browser, { width: 390, height: 844 });
    // A link from an e-mail, opened signed out: sign in, and land on the ticket.
    await phone.page.goto(ticketUrl);
    await phone.page.waitForURL((url) => url.pathname === "/login" && url.search.includes("next="));
    await phone.page.getByLabel("E-mail").fill("employee@acme.example");
    await phone.page.getByLabel("Password").fill(PASSWORD);
    await phone.page.getByRole("button", { name: "Sign in" }).click();
    await phone.page.waitForURL(`**${ticketUrl}`);
    await expect.poll(() => phone.page.getByRole("heading", { level: 1 }).textContent()).toBe(title);
    const overflow = await phone.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await checkScreen(phone.page, "request-detail-phone");
    await phone.context.close();
  });
});
