import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { BASE_URL, apiCall, apiLogin, checkScreen, launch, openSession, signIn, unique, type Session } from "./support";

/** Every link an e-mail carries leads to a real screen of the app (issue 13: the footer's
 * settings link and List-Unsubscribe opened "Page not found"). The mail is the one the
 * stack really sent, read back from the dev mail catcher. */

let browser: Browser;
let employee: Session;
const title = unique("Mail links");
let raw = "";

interface Caught {
  name: string;
  to: string;
  subject: string;
}

/** The raw message the stack sent (the e-mail consumer runs on its own: wait for it). */
async function mailFor(admin: string, to: string, subject: string): Promise<string> {
  let found: Caught | undefined;
  for (let waited = 0; !found && waited < 30_000; waited += 500) {
    const page = await apiCall<{ items: Caught[] }>(admin, "GET", "/v1/dev/mail?limit=100");
    found = page.items.find((m) => m.to.includes(to) && m.subject.includes(subject));
    if (!found) await new Promise((resolve) => setTimeout(resolve, 500));
  }
  if (!found) throw new Error(`no mail to ${to} about ${subject}`);
  const response = await fetch(`${BASE_URL}/v1/dev/mail/${encodeURIComponent(found?.name ?? "")}`, { headers: { authorization: `Bearer ${admin}` } });
  return response.text();
}

/** The message's text with quoted-printable soft breaks and escapes undone. */
function decoded(message: string): string {
  return message.replace(/=\r?\n/g, "").replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

beforeAll(async () => {
  browser = await launch();
  const person = await apiLogin("employee@acme.example");
  const ticket = await apiCall<{ id: string }>(person, "POST", "/v1/tickets", { title });
  const agent = await apiLogin("agent@acme.example");
  await apiCall(agent, "POST", `/v1/tickets/${ticket.id}/comments`, { body: "Which floor are you on?" });
  raw = decoded(await mailFor(await apiLogin("admin@acme.example"), "employee@acme.example", `New reply: ${title}`));
  employee = await openSession(browser);
});

afterAll(async () => {
  await browser?.close();
});

describe("the links in an e-mail", () => {
  test("every link of ours opens a real screen, none says Page not found", async () => {
    const { page, errors } = employee;
    const links = [...new Set(raw.match(new RegExp(`${BASE_URL.replace(/[.]/g, "\\.")}/[^\\s"<>]*`, "g")) ?? [])];
    const paths = links.map((l) => new URL(l).pathname);
    expect(paths).toEqual(expect.arrayContaining(["/settings/notifications", "/unsubscribe", "/v1/notifications/unsubscribe"]));
    expect(paths.some((p) => p.startsWith("/tickets/"))).toBe(true);
    await signIn(page, "employee@acme.example");
    for (const link of links.filter((l) => !new URL(l).pathname.includes("unsubscribe"))) {
      await page.goto(link);
      await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).not.toBe("Loading");
      expect(await page.getByText("Page not found").count(), link).toBe(0);
    }
    await page.goto("/settings/notifications");
    await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe("Notification settings");
    await expect.poll(() => page.getByLabel("Replies: By e-mail").isChecked()).toBe(true);
    await checkScreen(page, "notification-settings");
    expect(errors).toEqual([]);
  });

  test("List-Unsubscribe: opened in a browser it asks, one click switches that e-mail off", async () => {
    const header = /^List-Unsubscribe: <([^>]+)>/m.exec(raw)?.[1] ?? "";
    expect(header).toMatch(/\/v1\/notifications\/unsubscribe\?token=/);
    expect(raw).toMatch(/^List-Unsubscribe-Post: List-Unsubscribe=One-Click/m);

    // A person following the link, signed out: the app's page, which changes nothing until asked.
    const visitor = await openSession(browser);
    await visitor.page.goto(header);
    await visitor.page.waitForURL((url) => url.pathname === "/unsubscribe");
    expect(await visitor.page.getByText("Page not found").count()).toBe(0);
    await checkScreen(visitor.page, "unsubscribe");
    await visitor.page.getByRole("button", { name: "Unsubscribe" }).click();
    await expect.poll(() => visitor.page.getByText("You will no longer get e-mails about: replies.").count()).toBe(1);
    expect(visitor.errors).toEqual([]);
    await visitor.context.close();

    // The person's settings say so; a mail client's RFC 8058 POST works as well (idempotent).
    const { page } = employee;
    await page.goto("/settings/notifications");
    await expect.poll(() => page.getByLabel("Replies: By e-mail").isChecked()).toBe(false);
    expect(await page.getByLabel("Replies: In the app").isChecked()).toBe(true);
    const oneClick = await fetch(header, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "List-Unsubscribe=One-Click",
    });
    expect(oneClick.status).toBe(200);

    // And back on, from the settings page.
    await page.getByLabel("Replies: By e-mail").check();
    await page.getByRole("button", { name: "Save settings" }).click();
    await expect.poll(() => page.getByText("Saved.", { exact: true }).count()).toBe(1);
    expect(employee.errors).toEqual([]);
  });
});
