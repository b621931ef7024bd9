import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { apiCall, apiLogin, checkScreen, launch, openSession, signIn, unique, type Session } from "./support";

/** The agent's collaboration tools on a ticket: people (CC, invitation, removal), links
 * and merging, each through the screen, with axe and screenshots in both themes. */

interface Created {
  id: string;
  number: string;
  title: string;
}

let browser: Browser;
let agent: Session;
let main: Created;
let related: Created;
let duplicate: Created;

async function file(email: string, title: string): Promise<Created> {
  const token = await apiLogin(email);
  return apiCall<Created>(token, "POST", "/v1/tickets", { title, description: "Filed for the collaboration tests." });
}

beforeAll(async () => {
  browser = await launch();
  main = await file("employee@acme.example", unique("VPN drops every hour"));
  related = await file("employee2@acme.example", unique("VPN slow from home"));
  duplicate = await file("employee2@acme.example", unique("VPN keeps disconnecting"));
  agent = await openSession(browser);
  await signIn(agent.page, "agent@acme.example");
});

afterAll(async () => {
  await browser?.close();
});

describe("people, links and merge on a ticket", () => {
  test("the agent adds a CC, invites someone, cancels the invitation and removes the CC", async () => {
    const { page, errors } = agent;
    await page.goto(`/tickets/${main.id}`);
    const people = page.getByTestId("people");
    await expect.poll(() => people.getByTestId("participant").count()).toBe(1); // the requester

    // Someone who is not a member: said next to the field, nothing sent.
    await people.getByLabel("E-mail or name").fill("nobody@nowhere.example");
    await people.getByRole("button", { name: "Add", exact: true }).click();
    await expect.poll(() => people.getByText("No active member of this organisation").count()).toBe(1);
    await checkScreen(page, "agent-people-error");

    await people.getByLabel("E-mail or name").fill("employee2@acme.example");
    await people.getByLabel("Add as").selectOption("cc");
    await people.getByRole("button", { name: "Add", exact: true }).click();
    await expect.poll(() => people.getByTestId("participant").filter({ hasText: "Eli Employee" }).textContent()).toContain("CC (watcher)");
    // The list may refresh from the live push before the form has taken its answer (which
    // clears the field): wait for the form to finish before typing again.
    await expect.poll(() => people.getByLabel("E-mail or name").inputValue()).toBe("");

    await people.getByLabel("E-mail or name").fill("manager@acme.example");
    await people.getByRole("button", { name: "Send invitation" }).click();
    await expect.poll(() => people.getByTestId("invitation").filter({ hasText: "Max Manager" }).textContent()).toContain("pending");
    await expect.poll(() => people.getByLabel("E-mail or name").inputValue()).toBe("");
    // Invited twice: the server's field error, next to the field.
    await people.getByLabel("E-mail or name").fill("manager@acme.example");
    await people.getByRole("button", { name: "Send invitation" }).click();
    await expect.poll(() => people.getByText("already invited").count()).toBe(1);
    await checkScreen(page, "agent-people");

    await people.getByRole("button", { name: "Cancel the invitation to Max Manager" }).click();
    await expect.poll(() => people.getByTestId("invitation").count()).toBe(0);
    await people.getByRole("button", { name: "Remove Eli Employee" }).click();
    await expect.poll(() => people.getByTestId("participant").filter({ hasText: "Eli Employee" }).count()).toBe(0);
    expect(errors).toEqual([]);
  });

  test("the agent links a related ticket by its number; both ends show the link", async () => {
    const { page, errors } = agent;
    const links = page.getByTestId("links");
    await links.getByLabel("This ticket is").selectOption("relates_to");
    await links.getByLabel("Ticket number").fill("NOPE-1999-000001");
    await links.getByRole("button", { name: "Add link" }).click();
    await expect.poll(() => links.getByText("No ticket you may see has this number.").count()).toBe(1);

    await links.getByLabel("Ticket number").fill(related.number);
    await links.getByRole("button", { name: "Add link" }).click();
    await expect.poll(() => links.getByTestId("ticket-link").textContent()).toContain(related.title);
    expect(await links.getByTestId("ticket-link").textContent()).toContain(`Related to ${related.number}`);
    await checkScreen(page, "agent-links");

    await links.getByRole("link", { name: related.number }).click();
    await page.waitForURL(`**/tickets/${related.id}`);
    await expect.poll(() => page.getByTestId("links").getByTestId("ticket-link").textContent()).toContain(main.number);
    expect(errors).toEqual([]);
  });

  test("the agent merges a duplicate into the ticket after confirming; the requester is told where it went", async () => {
    const { page, errors } = agent;
    await page.goto(`/tickets/${duplicate.id}`);
    await page.getByRole("button", { name: "Merge into…" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("Ticket number to merge into").fill(duplicate.number);
    await dialog.getByRole("button", { name: "Continue" }).click();
    await expect.poll(() => dialog.getByText("cannot be merged into itself").count()).toBe(1);
    await dialog.getByLabel("Ticket number to merge into").fill(main.number);
    await dialog.getByRole("button", { name: "Continue" }).click();
    await expect.poll(() => dialog.getByText(main.title).count()).toBe(1);
    await checkScreen(page, "agent-merge-confirm");

    await dialog.getByRole("button", { name: `Merge into ${main.number}` }).click();
    await expect.poll(() => page.getByText("This ticket was merged into").count()).toBe(1);
    expect(await page.getByRole("dialog").count()).toBe(0);
    expect(await page.getByRole("button", { name: "Merge into…" }).count()).toBe(0);
    await expect.poll(() => page.getByTestId("links").getByTestId("ticket-link").textContent()).toContain(`Duplicate of ${main.number}`);
    await checkScreen(page, "agent-merged");

    // The target now lists the duplicate, and its requester as a CC.
    await page.getByRole("link", { name: main.number }).first().click();
    await page.waitForURL(`**/tickets/${main.id}`);
    await expect.poll(() => page.getByTestId("links").textContent()).toContain(`Duplicated by ${duplicate.number}`);
    await expect.poll(() => page.getByTestId("people").getByTestId("participant").filter({ hasText: "Eli Employee" }).textContent()).toContain("CC");
    expect(errors).toEqual([]);

    // The duplicate's requester, in the portal, is pointed to where it continues.
    const requester = await openSession(browser);
    await signIn(requester.page, "employee2@acme.example");
    await requester.page.goto(`/tickets/${duplicate.id}`);
    await expect.poll(() => requester.page.getByText("This request was merged").count()).toBe(1);
    await checkScreen(requester.page, "request-merged");
    expect(requester.errors).toEqual([]);
    await requester.context.close();
  });
});
