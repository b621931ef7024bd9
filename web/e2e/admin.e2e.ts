import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Browser, Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { BASE_URL, apiCall, apiLogin, checkScreen, launch, openSession, signIn, unique, type Session } from "./support";

let browser: Browser;
let admin: Session;
let receiver: Server;
let receiverUrl = "";
const received: { headers: IncomingHttpHeaders; body: string }[] = [];

const teamName = unique("Printers");
const categoryName = unique("Printer trouble");
const calendarName = unique("Berlin office");
const policyName = unique("Critical printers");
const urls: Record<string, string> = {};

beforeAll(async () => {
  browser = await launch();
  admin = await openSession(browser);
  // The webhook receiver: a plain-HTTP server on 127.0.0.1 (dev mode allows it).
  receiver = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk: Buffer) => (body += chunk.toString()));
    request.on("end", () => {
      received.push({ headers: request.headers, body });
      response.writeHead(200, { "content-type": "text/plain" });
      response.end("thanks");
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/servicedesk`;
});

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => receiver?.close(resolve));
});

/** The texts of the elements a control names in aria-describedby (its help and its error). */
async function describedBy(control: Locator): Promise<string> {
  const ids = (await control.getAttribute("aria-describedby")) ?? "";
  const page = control.page();
  const texts = await Promise.all(ids.split(/\s+/).filter(Boolean).map((id) => page.locator(`[id="${id}"]`).textContent()));
  return texts.join(" | ");
}

async function openSection(page: Page, name: string): Promise<void> {
  await page.getByRole("navigation", { name: "Administration" }).getByRole("link", { name, exact: true }).click();
  await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe(name);
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

describe("an admin sets up the service desk", () => {
  test("users: invite, change a role, deactivate", async () => {
    const { page, errors } = admin;
    await signIn(page, "admin@acme.example");
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Admin" }).click();
    await page.waitForURL("**/admin/users");
    await expect.poll(() => page.getByTestId("user-rows").textContent()).toContain("Erin Employee");

    const invite = page.getByRole("region", { name: "Invite someone" });
    const invitee = `${unique("new-agent")}@acme.example`;
    await invite.getByLabel("E-mail").fill(invitee);
    await invite.getByLabel("Role").selectOption("agent");
    await invite.getByRole("button", { name: "Send invitation" }).click();
    await expect.poll(() => page.getByText(`Invitation sent to ${invitee}`).count()).toBe(1);
    await expect.poll(() => page.getByRole("region", { name: "Invitations", exact: true }).textContent()).toContain(invitee);

    // Someone to change: created through the API, changed through the screen.
    const token = await apiLogin("admin@acme.example");
    const name = unique("Temp Worker").replace(" ", "-");
    await apiCall(token, "POST", "/v1/users", { email: `${name.toLowerCase()}@acme.example`, name, password: "a-long-password-123", role: "requester" });
    await page.getByLabel("Search").fill(name);
    await expect.poll(() => page.getByTestId("user-rows").getByRole("row").count()).toBe(1);
    await page.getByLabel(`Role of ${name}`).selectOption("agent");
    await page.getByRole("button", { name: "Save role" }).click();
    await expect.poll(() => page.getByText(`${name} is now Agent.`).count()).toBe(1);
    await page.getByRole("button", { name: "Deactivate", exact: true }).click();
    await page.getByRole("button", { name: `Deactivate ${name}` }).click();
    await expect.poll(() => page.getByText(`${name} was deactivated.`).count()).toBe(1);
    await expect.poll(() => page.getByTestId("user-rows").textContent()).toContain("Deactivated");
    await screen(page, "admin-users");
    expect(errors).toEqual([]);
  });

  test("teams: create one, its name taken is refused next to the field, add a member", async () => {
    const { page, errors } = admin;
    await openSection(page, "Teams");
    const form = page.getByRole("region", { name: "New team" });
    await form.getByLabel("Name").fill(teamName);
    await form.getByLabel("Assignment strategy").selectOption("round_robin");
    await form.getByRole("button", { name: "Create team" }).click();
    await page.waitForURL(/\/admin\/teams\/[0-9a-f-]{36}$/);
    await expect.poll(() => page.getByText("Team created.").count()).toBe(1);
    const teamUrl = new URL(page.url()).pathname;

    await page.getByRole("region", { name: "Members" }).getByLabel("Add an agent").selectOption({ label: "Alex Agent (agent)" });
    await page.getByRole("button", { name: "Add member" }).click();
    await expect.poll(() => page.getByTestId("team-members").textContent()).toContain("Alex Agent");
    await screen(page, "admin-team");

    // The same name again: the server's field error shows next to the Name field, and
    // what was typed stays.
    await openSection(page, "Teams");
    await expect.poll(() => page.getByTestId("team-list").textContent()).toContain(teamName);
    const again = page.getByRole("region", { name: "New team" });
    await again.getByLabel("Name").fill(teamName.toUpperCase());
    await again.getByRole("button", { name: "Create team" }).click();
    const nameInput = again.getByLabel("Name");
    await expect.poll(() => nameInput.getAttribute("aria-invalid")).toBe("true");
    expect(await describedBy(nameInput)).toContain("already taken");
    expect(await nameInput.inputValue()).toBe(teamName.toUpperCase());
    expect(new URL(page.url()).pathname).toBe("/admin/teams");
    await screen(page, "admin-teams-error");
    expect(teamUrl).toMatch(/^\/admin\/teams\//);
    expect(errors).toEqual([]);
  });

  test("categories: a custom field built in the form; the server's error lands on its input", async () => {
    const { page, errors } = admin;
    await openSection(page, "Categories");
    await page.getByRole("link", { name: "New category" }).click();
    await page.waitForURL("**/admin/categories/new");
    await page.getByRole("textbox", { name: "Name", exact: true }).fill(categoryName);
    await page.getByLabel("Description").fill("Jams, toner, queues that never print");
    await page.getByLabel("Default team").selectOption({ label: teamName });

    await page.getByRole("button", { name: "Add a field" }).click();
    const field = page.getByTestId("builder-field").first();
    await field.getByLabel("Field name").fill("asset_tag");
    await field.getByLabel("Label").fill("Printer asset tag");
    await field.getByLabel("Required").check();
    await field.getByLabel("Help text").fill("On the sticker at the back, like PR-1234");
    // A JavaScript-style named group: fine in the browser, refused by the server (Python).
    // Valid in the browser, refused by the server: RE2 runs no look-around.
    await field.getByLabel("Pattern").fill("^(?=PR)PR-[0-9]{4}$");
    await page.getByRole("button", { name: "Add a field" }).click();
    const second = page.getByTestId("builder-field").nth(1);
    await second.getByLabel("Field name").fill("floor");
    await second.getByLabel("Label").fill("Floor");
    await second.getByLabel("Kind").selectOption("integer");
    await second.getByLabel("Minimum").fill("0");
    await second.getByLabel("Maximum").fill("12");

    await page.getByRole("button", { name: "Create category" }).click();
    const pattern = field.getByLabel("Pattern");
    await expect.poll(() => pattern.getAttribute("aria-invalid")).toBe("true");
    expect(await describedBy(pattern)).toContain("not a regular expression the server can run");
    expect(await pattern.inputValue()).toBe("^(?=PR)PR-[0-9]{4}$");
    expect(await page.getByText("Please correct the marked fields.").count()).toBe(1);
    await screen(page, "admin-category-error");

    // The JSON view shows the same schema; back to the form, fix the pattern, create.
    await page.getByRole("button", { name: "JSON" }).click();
    expect(await page.getByLabel("Fields schema (JSON)").inputValue()).toContain('"asset_tag"');
    await page.getByRole("button", { name: "Form" }).click();
    await field.getByLabel("Pattern").fill("^PR-[0-9]{4}$");
    await page.getByRole("button", { name: "Create category" }).click();
    await page.waitForURL(/\/admin\/categories\/[0-9a-f-]{36}$/);
    await expect.poll(() => page.getByText("Category created.").count()).toBe(1);
    urls.category = new URL(page.url()).pathname;
    await page.getByText("Preview of the request form").click();
    await screen(page, "admin-category");

    // The employee's new-request form asks for the field.
    const employee = await openSession(browser);
    await signIn(employee.page, "employee@acme.example");
    await employee.page.goto("/requests/new");
    await employee.page.getByRole("radio", { name: new RegExp(categoryName) }).check();
    await employee.page.getByRole("button", { name: "Continue" }).click();
    const tag = employee.page.getByLabel("Printer asset tag");
    await expect.poll(() => tag.count()).toBe(1);
    expect(await describedBy(tag)).toContain("On the sticker at the back");
    expect(await employee.page.getByLabel("Floor").getAttribute("type")).toBe("number");
    await employee.page.getByLabel("Subject").fill(unique("Printer says PC LOAD LETTER"));
    await tag.fill("PR-12");
    await employee.page.getByRole("button", { name: "Submit request" }).click();
    await expect.poll(() => employee.page.getByText("does not match the required pattern").count()).toBe(1);
    await screen(employee.page, "new-request-admin-category");
    expect(employee.errors).toEqual([]);
    await employee.context.close();
    expect(errors).toEqual([]);
  });

  test("calendars and SLA policies", async () => {
    const { page, errors } = admin;
    await openSection(page, "Calendars");
    await page.getByRole("link", { name: "New calendar" }).click();
    await page.waitForURL("**/admin/calendars/new");
    await page.getByRole("textbox", { name: "Name", exact: true }).fill(calendarName);
    await page.getByLabel("Time zone").selectOption("Europe/Berlin");
    await page.getByRole("button", { name: "Weekdays 09:00–17:00" }).click();
    // A broken interval is named next to it (checked before sending, like the server does).
    await page.getByLabel("Friday interval 1 end").fill("08:00");
    await page.getByRole("button", { name: "Create calendar" }).click();
    await expect.poll(() => describedBy(page.getByLabel("Friday interval 1 end"))).toContain("start must be before end");
    await page.getByLabel("Friday interval 1 end").fill("15:00");
    await page.getByRole("button", { name: "Add hours on Saturday" }).click();
    await page.getByLabel("Saturday interval 1 start").fill("10:00");
    await page.getByLabel("Saturday interval 1 end").fill("12:00");
    await page.getByLabel("Add a holiday").fill("2031-12-24");
    await page.getByRole("button", { name: "Add holiday" }).click();
    await page.getByLabel("Add a yearly holiday (MM-DD)").fill("12-25");
    await page.getByRole("button", { name: "Add yearly holiday" }).click();
    await expect.poll(() => page.getByText("40 working hours a week.").count()).toBe(1);
    await page.getByRole("button", { name: "Create calendar" }).click();
    await page.waitForURL(/\/admin\/calendars\/[0-9a-f-]{36}$/);
    await expect.poll(() => page.getByText("Calendar created.").count()).toBe(1);
    expect(await page.getByRole("list", { name: "Holidays", exact: true }).textContent()).toContain("2031-12-24");
    await screen(page, "admin-calendar");

    await openSection(page, "SLA policies");
    await page.getByRole("link", { name: "New policy" }).click();
    await page.waitForURL("**/admin/sla-policies/new");
    await page.getByRole("textbox", { name: "Name", exact: true }).fill(policyName);
    await page.getByLabel("Position").fill("0");
    await page.getByLabel("Calendar").selectOption({ label: `${calendarName} (Europe/Berlin)` });
    await page.getByRole("button", { name: "Create policy" }).click();
    // No target at all: said at the targets, nothing sent.
    await expect.poll(() => page.getByText("a policy needs at least one target").count()).toBe(1);
    await page.getByLabel("First response (minutes)").fill("60");
    await page.getByLabel("Resolution (minutes)").fill("480");
    expect(await describedBy(page.getByLabel("Resolution (minutes)"))).toContain("8h");
    await page.getByLabel("Warning thresholds (%)").fill("50, 80");
    await page.getByRole("group", { name: "Priorities" }).getByLabel("Critical").check();
    await page.getByRole("group", { name: "Teams" }).getByLabel(teamName).check();
    await page.getByRole("button", { name: "Add an escalation" }).click();
    await page.getByLabel("Action").selectOption("notify_team");
    await page.getByRole("button", { name: "Create policy" }).click();
    await page.waitForURL(/\/admin\/sla-policies\/[0-9a-f-]{36}$/);
    await expect.poll(() => page.getByText("Policy created.").count()).toBe(1);
    urls.policy = new URL(page.url()).pathname;
    await screen(page, "admin-policy");

    await openSection(page, "SLA policies");
    await expect.poll(() => page.getByTestId("policy-rows").textContent()).toContain(policyName);
    expect(await page.getByTestId("policy-rows").textContent()).toContain(`team ${teamName}`);
    await screen(page, "admin-policies");
    await openSection(page, "Calendars");
    await expect.poll(() => page.getByTestId("calendar-rows").textContent()).toContain(policyName);
    await screen(page, "admin-calendars");
    expect(errors).toEqual([]);
  });

  test("webhooks: create, test ping in the delivery log, redeliver, and a real event", async () => {
    const { page, errors } = admin;
    await openSection(page, "Webhooks");
    const form = page.getByRole("region", { name: "New webhook" });
    // The form names the signature header the deliveries really carry (checked below).
    const named = /(\S+-Signature) header/.exec((await describedBy(form.getByLabel("Payload URL"))) ?? "")?.[1] ?? "";
    expect(named).toBe("Servicedesk-Signature");
    await form.getByLabel("Payload URL").fill("ftp://127.0.0.1/nope");
    await form.getByRole("button", { name: "Create webhook" }).click();
    // The server's reason, next to the URL, the URL still there.
    await expect.poll(() => form.getByLabel("Payload URL").getAttribute("aria-invalid")).toBe("true");
    expect(await describedBy(form.getByLabel("Payload URL"))).toMatch(/https|scheme|http/i);
    expect(await form.getByLabel("Payload URL").inputValue()).toBe("ftp://127.0.0.1/nope");

    await form.getByLabel("Payload URL").fill(receiverUrl);
    await form.getByLabel("Ticket created").check();
    await form.getByLabel("Public reply").check();
    await form.getByRole("button", { name: "Create webhook" }).click();
    await expect.poll(() => page.getByTestId("webhook-secret").count()).toBe(1);
    expect(((await page.getByTestId("webhook-secret").textContent()) ?? "").length).toBeGreaterThan(16);
    await screen(page, "admin-webhooks");
    await page.getByRole("link", { name: "Open the new webhook to send a test ping" }).click();
    await page.waitForURL(/\/admin\/webhooks\/[0-9a-f-]{36}$/);
    const hookId = new URL(page.url()).pathname.split("/").pop() ?? "";
    urls.webhook = new URL(page.url()).pathname;

    await page.getByRole("button", { name: "Send test ping" }).click();
    await expect.poll(() => page.getByText(/Test ping: Delivered \(200\)/).count(), { timeout: 20_000 }).toBe(1);
    await expect.poll(() => page.getByTestId("delivery-rows").textContent()).toContain("webhook.ping");
    expect(received.some((r) => r.body.includes("webhook.ping"))).toBe(true);
    const signed = received.find((r) => r.body.includes("webhook.ping"));
    expect(Object.keys(signed?.headers ?? {})).toContain(named.toLowerCase());
    expect(String(signed?.headers[named.toLowerCase()])).toMatch(/^t=\d+,v1=[0-9a-f]{64}/);

    await page.getByTestId("delivery-rows").getByRole("button", { name: /^Redeliver/ }).first().click();
    await expect.poll(() => page.getByText(/Redelivery of webhook.ping: Delivered \(200\)/).count()).toBe(1);
    await expect.poll(() => page.getByTestId("delivery-rows").getByText("Redelivery").count()).toBe(1);

    // A real event goes through the outbox and the webhook consumer to the receiver.
    const employee = await apiLogin("employee@acme.example");
    const title = unique("Toner everywhere");
    await apiCall(employee, "POST", "/v1/tickets", { title, description: "It is blue now." });
    await expect
      .poll(
        async () => {
          await page.getByRole("button", { name: "Refresh" }).click();
          return page.getByTestId("delivery-rows").textContent();
        },
        { timeout: 60_000, interval: 2_000 },
      )
      .toContain("ticket.created");
    expect(received.some((r) => r.body.includes("ticket.created"))).toBe(true);
    await screen(page, "admin-webhook");
    expect(hookId).toMatch(/^[0-9a-f-]{36}$/);
    expect(errors).toEqual([]);
  });

  test("settings: saved with the ETag; a stale save is told and keeps what was typed", async () => {
    const { page, errors } = admin;
    await openSection(page, "Settings");
    const tickets = page.getByRole("region", { name: "Tickets" });
    await expect.poll(() => tickets.getByLabel("Comment edit window (minutes)").inputValue()).toMatch(/^\d+$/);
    // The number format described is the one tickets get (prefix, year, six-digit counter).
    const prefix = await tickets.getByLabel("Number prefix").inputValue();
    const example = new RegExp(`${prefix}-${new Date().getFullYear()}-\\d{6}`);
    expect(await describedBy(tickets.getByLabel("Number prefix"))).toMatch(example);
    const made = await apiCall<{ number: string }>(await apiLogin("employee@acme.example"), "POST", "/v1/tickets", { title: unique("Number check") });
    expect(made.number).toMatch(example);
    await tickets.getByLabel("Comment edit window (minutes)").fill("20");
    await tickets.getByRole("button", { name: "Save ticket settings" }).click();
    await expect.poll(() => tickets.getByText("Saved.", { exact: true }).count()).toBe(1);

    // Someone else changes the settings meanwhile (through the API, with the ETag they read).
    const token = await apiLogin("admin@acme.example");
    const read = await fetch(`${BASE_URL}/v1/settings/tickets`, { headers: { authorization: `Bearer ${token}` } });
    const current = (await read.json()) as Record<string, unknown>;
    const changed = await fetch(`${BASE_URL}/v1/settings/tickets`, {
      method: "PUT",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json", "If-Match": read.headers.get("etag") ?? "" },
      body: JSON.stringify({ ...current, reopen_window_days: 9 }),
    });
    expect(changed.status).toBe(200);

    await tickets.getByLabel("Comment edit window (minutes)").fill("25");
    await tickets.getByRole("button", { name: "Save ticket settings" }).click();
    await expect.poll(() => tickets.getByText("This was changed by someone else").count()).toBe(1);
    expect(await tickets.getByLabel("Comment edit window (minutes)").inputValue()).toBe("25");
    await screen(page, "admin-settings-conflict");
    // Saving again is a deliberate choice on top of their version, which it now carries.
    await tickets.getByRole("button", { name: "Save ticket settings" }).click();
    await expect.poll(() => tickets.getByText("Saved.", { exact: true }).count()).toBe(1);
    const after = (await (await fetch(`${BASE_URL}/v1/settings/tickets`, { headers: { authorization: `Bearer ${token}` } })).json()) as Record<string, unknown>;
    expect(after.comment_edit_window_minutes).toBe(25);
    expect(after.reopen_window_days).toBe(9);

    const files = page.getByRole("region", { name: "Attachments" });
    await files.getByLabel("Files per ticket").fill("0");
    await files.getByRole("button", { name: "Save attachment limits" }).click();
    expect(await describedBy(files.getByLabel("Files per ticket"))).toContain("from 1 to 1000");
    await screen(page, "admin-settings");
    expect(errors).toEqual([]);
  });

  test("audit log: the team made above is in it, filtered by an action prefix, its data in a disclosure", async () => {
    const { page, errors } = admin;
    await openSection(page, "Audit log");
    await expect.poll(() => page.getByTestId("audit-rows").getByRole("row").count()).toBeGreaterThan(0);
    const filters = page.getByRole("search", { name: "Filter audit events" });
    await filters.getByLabel("Action").fill("team.");
    await filters.getByLabel("Entity type").fill("team");
    await filters.getByRole("button", { name: "Apply" }).click();
    const rows = page.getByTestId("audit-rows");
    await expect.poll(() => rows.getByText("team.created", { exact: true }).count()).toBeGreaterThan(0);
    expect(await rows.getByRole("row").allTextContents()).not.toContainEqual(expect.stringContaining("category."));
    const created = rows.getByRole("row").filter({ hasText: "team.created" }).first();
    await created.getByText("team.created", { exact: true }).click();
    await expect.poll(() => created.locator("pre").textContent()).toContain(teamName);
    await filters.getByLabel("Action").fill("no.such.action");
    await filters.getByRole("button", { name: "Apply" }).click();
    await expect.poll(() => page.getByText("No audit events match").count()).toBe(1);
    await filters.getByLabel("Action").fill("team.");
    await filters.getByRole("button", { name: "Apply" }).click();
    await expect.poll(() => page.getByTestId("audit-rows").getByRole("row").count()).toBeGreaterThan(0);
    await screen(page, "admin-audit-log");
    expect(errors).toEqual([]);
  });

  test("the admin screens fit a phone", async () => {
    const phone = await openSession(browser, { width: 390, height: 844 });
    await signIn(phone.page, "admin@acme.example");
    const screens: [string, string, string][] = [
      ["/admin/users", "People", "admin-users-phone"],
      [urls.category ?? "", "Custom fields", "admin-category-phone"],
      ["/admin/calendars/new", "Working hours", "admin-calendar-phone"],
      [urls.policy ?? "", "Targets", "admin-policy-phone"],
      [urls.webhook ?? "", "Delivery log", "admin-webhook-phone"],
      ["/admin/settings", "Priority from impact and urgency", "admin-settings-phone"],
    ];
    for (const [path, landmark, name] of screens) {
      await phone.page.goto(path);
      await expect.poll(() => phone.page.getByText(landmark, { exact: true }).count(), { timeout: 15_000 }).toBeGreaterThan(0);
      await expect.poll(() => phone.page.getByText("Loading…").count(), { timeout: 15_000 }).toBe(0);
      await screen(phone.page, name);
    }
    expect(phone.errors).toEqual([]);
    await phone.context.close();
  });

  test("a manager gets the manager's sections only", async () => {
    const manager = await openSession(browser);
    await signIn(manager.page, "manager@acme.example");
    await manager.page.goto("/admin");
    await manager.page.waitForURL("**/admin/teams");
    const nav = manager.page.getByRole("navigation", { name: "Administration" });
    expect(await nav.getByRole("link").allTextContents()).toEqual(["Teams", "Categories", "Approval flows", "CI classes", "AWS discovery", "Calendars", "SLA policies"]);
    await manager.page.goto("/admin/webhooks");
    await manager.page.waitForURL((url) => !url.pathname.startsWith("/admin/webhooks"));
    await manager.page.goto("/admin/audit-log");
    await manager.page.waitForURL((url) => !url.pathname.startsWith("/admin/audit-log"));
    await manager.page.goto("/admin/categories");
    await expect.poll(() => manager.page.getByTestId("category-rows").textContent()).toContain(categoryName);
    await screen(manager.page, "admin-categories");
    expect(manager.errors).toEqual([]);
    await manager.context.close();
  });
});
