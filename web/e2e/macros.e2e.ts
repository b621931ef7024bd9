import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { apiCall, apiLogin, checkScreen, launch, openSession, signIn, unique, type Session } from "./support";

let browser: Browser;
let agent: Session;
let ticketId = "";
let ticketNumber = "";
const shared = unique("Password reset");
const canned = unique("Thanks canned");

beforeAll(async () => {
  browser = await launch();
  const manager = await apiLogin("manager@acme.example");
  await apiCall(manager, "POST", "/v1/macros", {
    name: shared,
    scope: "tenant",
    description: "Take it, tag it, tell them",
    actions: [
      { type: "assign", assignee_rule: "current_user" },
      { type: "add_tags", tags: ["password"] },
      { type: "set_status", status: "in_progress" },
      { type: "reply", body: "Hi {{requester.first_name}}, {{agent.first_name}} is resetting it ({{ticket.number}})." },
    ],
  });
  const employee = await apiLogin("employee@acme.example");
  const ticket = await apiCall<{ id: string; number: string }>(employee, "POST", "/v1/tickets", {
    title: unique("Locked out"),
    description: "Forgot my password again",
  });
  ticketId = ticket.id;
  ticketNumber = ticket.number;
  agent = await openSession(browser);
});

afterAll(async () => {
  await browser?.close();
});

describe("macros and canned responses", () => {
  test("an agent builds a personal canned response, refused first for an unknown placeholder", async () => {
    const { page, errors } = agent;
    await signIn(page, "agent@acme.example");
    await page.waitForURL("**/queues/mine");
    await page.getByRole("link", { name: "Macros" }).click();
    await page.waitForURL("**/macros");
    await expect.poll(() => page.getByRole("link", { name: shared }).count()).toBe(1);
    await checkScreen(page, "macros-list");

    await page.getByRole("link", { name: "New macro" }).click();
    await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe("New macro");
    await page.getByRole("textbox", { name: "Name", exact: true }).fill(canned);
    await page.getByRole("textbox", { name: "Reply text" }).fill("Thanks {{requester.shoe_size}}! ");
    await page.getByRole("button", { name: "Create macro" }).click();
    await expect.poll(() => page.getByText("unknown placeholders: requester.shoe_size").count()).toBe(1);

    await page.getByRole("textbox", { name: "Reply text" }).fill("Thanks ");
    await page.getByLabel("Insert a placeholder").selectOption("requester.first_name");
    await expect.poll(() => page.getByRole("textbox", { name: "Reply text" }).inputValue()).toBe("Thanks {{requester.first_name}}");
    // The live preview on a real ticket, nothing written.
    await page.getByLabel("On ticket").selectOption(ticketId);
    await expect.poll(() => page.getByTestId("macro-preview").textContent()).toContain("Thanks Erin");
    await checkScreen(page, "macro-editor");
    await page.getByRole("button", { name: "Create macro" }).click();
    await page.waitForURL(/\/macros\/[0-9a-f-]{36}$/);
    await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe(canned);
    expect(errors).toEqual([]);
  });

  test("on a ticket, M opens the picker; the macro is previewed, applied, each action reported", async () => {
    const { page, errors } = agent;
    await page.goto(`/tickets/${ticketId}`);
    await expect.poll(() => page.getByRole("heading", { level: 1 }).count()).toBe(1);
    await page.locator("body").click({ position: { x: 5, y: 5 } });
    await page.keyboard.press("m");
    const picker = page.getByRole("dialog", { name: `Apply a macro to ${ticketNumber}` });
    await expect.poll(() => picker.isVisible()).toBe(true);
    await page.getByRole("combobox", { name: "Find a macro" }).fill(shared.slice(0, 10));
    await expect.poll(() => picker.getByRole("option", { name: new RegExp(shared) }).count()).toBe(1);
    await checkScreen(page, "macro-picker");
    await page.keyboard.press("ArrowDown");
    await page.keyboard.press("Enter");
    await expect.poll(() => picker.getByTestId("macro-preview").textContent()).toContain(`is resetting it (${ticketNumber})`);
    await checkScreen(page, "macro-picker-preview");
    await picker.getByRole("button", { name: "Apply macro" }).click();
    const results = picker.getByRole("list", { name: "Action results" });
    await expect.poll(() => results.getByRole("listitem").count()).toBe(4);
    await checkScreen(page, "macro-applied");
    await picker.getByRole("button", { name: "Done" }).click();
    await expect.poll(() => page.getByTestId("public-reply").textContent()).toContain(`is resetting it (${ticketNumber})`);
    expect(errors).toEqual([]);
  });

  test("Ctrl+Shift+M from the composer inserts a canned response instead of sending it", async () => {
    const { page, errors } = agent;
    await page.getByRole("textbox", { name: "Reply" }).focus();
    await page.keyboard.press("Control+Shift+M");
    await page.getByRole("combobox", { name: "Find a macro" }).fill(canned);
    await expect.poll(() => page.getByRole("option", { name: new RegExp(canned) }).count()).toBe(1);
    await page.keyboard.press("Enter");
    await page.getByRole("button", { name: "Insert into composer" }).click();
    await expect.poll(() => page.getByRole("textbox", { name: "Reply" }).inputValue()).toContain("Thanks Erin");
    expect(await page.getByTestId("public-reply").count()).toBe(1);
    expect(errors).toEqual([]);
  });
});
