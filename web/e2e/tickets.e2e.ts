import { readFile } from "node:fs/promises";
import type { Browser, Request } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { QueueTickets } from "../src/graphql/operations";
import { PASSWORD, apiCall, apiLogin, checkScreen, launch, openSession, signIn, unique, type Session } from "./support";

let browser: Browser;
let employee: Session;
let agent: Session;
let agent2: Session;
const title = unique("Laptop will not boot");
const categoryName = unique("Hardware");
let ticketUrl = "";

/** The body the queue posts to /v1/graphql. */
interface QueueBody {
  operationName: string;
  variables: { filter?: { sla?: string[]; q?: string }; first?: number };
  extensions: { persistedQuery: { version: number; sha256Hash: string } };
}

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

  test("cancelling asks first, can be undone, and a cancelled request can be reopened", async () => {
    const { page, errors } = employee;
    await page.goto(ticketUrl);
    // The status badge under the title (exact: "Opened <date>" is there too).
    const status = async () => {
      const header = page.getByRole("heading", { level: 1 }).locator("xpath=following-sibling::div");
      for (const name of ["Cancelled", "Open", "New"]) if (await header.getByText(name, { exact: true }).count()) return name;
      return "";
    };
    await page.getByRole("button", { name: "Cancel request" }).click();
    const dialog = page.getByRole("dialog", { name: "Cancel this request?" });
    await expect.poll(() => dialog.isVisible()).toBe(true);
    // The safe choice has the focus; Escape backs out and nothing happened.
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Keep the request");
    await checkScreen(page, "request-cancel-dialog");
    await page.keyboard.press("Escape");
    await expect.poll(() => dialog.isVisible()).toBe(false);
    expect(await status()).not.toBe("Cancelled");

    await page.getByRole("button", { name: "Cancel request" }).click();
    await dialog.getByRole("button", { name: "Cancel request" }).click();
    await expect.poll(status).toBe("Cancelled");
    await expect.poll(() => page.getByText("Request cancelled.").count()).toBe(1);
    await checkScreen(page, "request-cancelled-undo");
    await page.getByRole("button", { name: "Undo" }).click();
    await expect.poll(status).toBe("Open");

    // Cancelled and come back later: the way back is "Reopen request".
    await page.getByRole("button", { name: "Cancel request" }).click();
    await dialog.getByRole("button", { name: "Cancel request" }).click();
    await expect.poll(status).toBe("Cancelled");
    await page.reload();
    await page.getByRole("button", { name: "Reopen request" }).click();
    await expect.poll(status).toBe("Open");
    await expect.poll(() => page.getByRole("textbox", { name: "Reply" }).count()).toBe(1);
    expect(errors).toEqual([]);
  });

  test("the employee edits a message, then deletes it after confirming", async () => {
    const { page, errors } = employee;
    await page.getByRole("textbox", { name: "Reply" }).fill("It beeps three times at start.");
    await page.getByRole("button", { name: "Send reply" }).click();
    await page.getByRole("button", { name: "Edit your message" }).click();
    await page.getByRole("textbox", { name: "Edit your message" }).fill("It beeps four times at start.");
    await page.getByRole("button", { name: "Save", exact: true }).click();
    await expect.poll(() => page.getByText("(edited)").count()).toBe(1);
    expect(await page.getByRole("textbox", { name: "Edit your message" }).count()).toBe(0);
    expect(await page.getByText("It beeps four times at start.").count()).toBe(1);
    await page.getByRole("button", { name: "Delete this message" }).click();
    await page.getByRole("dialog", { name: "Delete this message?" }).getByRole("button", { name: "Keep it" }).click();
    expect(await page.getByText("It beeps four times at start.").count()).toBe(1);
    await page.getByRole("button", { name: "Delete this message" }).click();
    await page.getByRole("dialog", { name: "Delete this message?" }).getByRole("button", { name: "Delete", exact: true }).click();
    await expect.poll(() => page.getByText("This message was deleted.").count()).toBe(1);
    // The agent's reply offers the requester nothing to edit or delete.
    expect(await page.getByRole("button", { name: /Edit your|Delete this/ }).count()).toBe(0);
    expect(errors).toEqual([]);
  });

  test("an agent sets impact and urgency and sees the priority they give", async () => {
    const { page, errors } = agent;
    await page.goto(ticketUrl);
    await page.getByLabel("Impact").selectOption("high");
    expect(await page.getByTestId("derived-priority").textContent()).toBe("Set both to derive the priority.");
    await page.getByLabel("Urgency").selectOption("critical");
    await expect.poll(() => page.getByTestId("derived-priority").textContent()).toBe("Priority from impact × urgency: Critical");
    expect(await page.getByLabel("Priority", { exact: true }).inputValue()).toBe("critical");
    await checkScreen(page, "agent-impact-urgency");
    await page.getByRole("button", { name: "Save changes" }).click();
    await expect.poll(() => page.getByText("Priority: Critical").count()).toBeGreaterThan(0);
    await page.reload();
    expect(await page.getByLabel("Impact").inputValue()).toBe("high");
    expect(await page.getByLabel("Urgency").inputValue()).toBe("critical");

    // Filing on someone's behalf, staff triage at once.
    await page.goto("/requests/new");
    await page.getByRole("radio", { name: "Something else" }).check();
    await page.getByRole("button", { name: "Continue" }).click();
    await page.getByLabel("Subject").fill(unique("Projector flickers"));
    await page.getByLabel("Impact").selectOption("low");
    await page.getByLabel("Urgency").selectOption("medium");
    await expect.poll(() => page.getByTestId("derived-priority").textContent()).toBe("Priority from impact × urgency: Low");
    await page.getByRole("button", { name: "Submit request" }).click();
    await page.waitForURL("**/tickets/*");
    await expect.poll(() => page.getByText("Priority: Low").count()).toBeGreaterThan(0);
    expect(errors).toEqual([]);
  });

  test("the queue's rows and their people come from one persisted GraphQL query: a hash, no query text", async () => {
    const { page, errors } = agent;
    const nameOf = async (email: string) => (await apiCall<{ user: { name: string } }>(await apiLogin(email), "GET", "/v1/me")).user.name;
    const [requesterName, assigneeName] = [await nameOf("employee@acme.example"), await nameOf("agent@acme.example")];
    const sent: QueueBody[] = [];
    const rest: string[] = [];
    const listen = (request: Request) => {
      const path = new URL(request.url()).pathname;
      if (path === "/v1/graphql") sent.push(request.postDataJSON() as QueueBody);
      if (path === "/v1/tickets" || path === "/v1/users") rest.push(`${request.method()} ${path}`);
    };
    page.on("request", listen);
    const answered = page.waitForResponse((r) => r.url().endsWith("/v1/graphql"));
    await page.goto(`/queues/all?q=${encodeURIComponent(title)}`);
    const answer = (await (await answered).json()) as { data: { tickets: { edges: { node: { title: string; requester: { name: string } } }[] } } };
    expect(answer.data.tickets.edges.map((e) => [e.node.title, e.node.requester.name])).toEqual([[title, requesterName]]);
    await expect.poll(() => page.locator("[data-row-link]").count()).toBe(1);
    // The row names the requester and the assignee (taken above) from that one answer.
    const row = (await page.getByTestId("queue-rows").locator("tr").first().textContent()) ?? "";
    expect(row).toContain(requesterName);
    expect(row).toContain(assigneeName);
    page.off("request", listen);

    expect(sent.length).toBeGreaterThan(0);
    for (const body of sent) {
      expect(body).not.toHaveProperty("query");
      expect(body.operationName).toBe("QueueTickets");
      expect(body.extensions.persistedQuery).toEqual({ version: 1, sha256Hash: QueueTickets.hash });
    }
    expect(sent.at(-1)?.variables).toMatchObject({ filter: { q: title }, first: 100 });
    // No REST list and no directory lookup for the rows' names.
    expect(rest).toEqual([]);
    await checkScreen(page, "queue-graphql");
    expect(errors).toEqual([]);
  });

  test("the queue list is two keystrokes from the top of the page, or one (j)", async () => {
    const { page, errors } = agent;
    await page.goto("/queues/all");
    await expect.poll(() => page.locator("[data-row-link]").count()).toBeGreaterThan(0);
    const focused = () => page.evaluate(() => ({ text: document.activeElement?.textContent ?? "", row: document.activeElement?.hasAttribute("data-row-link") ?? false }));
    await page.keyboard.press("Tab");
    expect((await focused()).text).toBe("Skip to the ticket list");
    await page.keyboard.press("Enter");
    expect((await focused()).row).toBe(true);
    await page.keyboard.press("j");
    expect((await focused()).row).toBe(true);

    await page.reload();
    await expect.poll(() => page.locator("[data-row-link]").count()).toBeGreaterThan(0);
    await page.keyboard.press("j");
    expect((await focused()).row).toBe(true);
    expect(await page.locator("#queue-keys").textContent()).toContain("goes to the list");
    expect(errors).toEqual([]);
  });

  test("the SLA queue shows breached and at-risk tickets together, and can narrow to one", async () => {
    const { page, errors } = agent;
    // The queue asks GraphQL (QueueTickets) with GET /v1/tickets's filters by their names.
    const asking = (sla: string[]) => (r: Request) =>
      r.url().endsWith("/v1/graphql") && JSON.stringify((r.postDataJSON() as QueueBody).variables.filter?.sla) === JSON.stringify(sla);
    const asked = page.waitForRequest(asking(["breached", "at_risk"]));
    await page.goto("/queues/sla");
    await asked;
    expect(await page.getByLabel("SLA", { exact: true }).inputValue()).toBe("any");
    expect(await page.getByLabel("Sort").inputValue()).toBe("sla_due");
    const narrowed = page.waitForRequest(asking(["breached"]));
    await page.getByLabel("SLA", { exact: true }).selectOption("breached");
    await narrowed;
    await checkScreen(page, "queue-sla");
    // Every status by its one name, here as on the badges.
    expect(await page.getByLabel("Status").locator("option").allTextContents()).toContain("Waiting on requester");
    expect(errors).toEqual([]);
  });

  test("an agent exports the queue they are looking at as CSV, with its filters", async () => {
    const { page, errors } = agent;
    await page.goto(`/queues/all?q=${encodeURIComponent(title)}`);
    await expect.poll(() => page.locator("[data-row-link]").count()).toBeGreaterThan(0);
    const asked = page.waitForRequest((r) => r.url().includes("/v1/tickets/export?"));
    const downloaded = page.waitForEvent("download");
    await page.getByTestId("export-csv").click();
    const url = (await asked).url();
    expect(url).toContain("format=csv");
    expect(url).toContain(`q=${encodeURIComponent(title).replace(/%20/g, "+")}`);
    expect(url).not.toContain("limit=");
    const file = await downloaded;
    expect(file.suggestedFilename()).toMatch(/^tickets-[0-9-]+\.csv$/);
    const text = await readFile(await file.path(), "utf8");
    expect(text.split("\r\n")[0]).toMatch(/^number,title,status,/);
    expect(text).toContain(title);
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
