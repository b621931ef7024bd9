import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { checkScreen, launch, openSession, signIn, unique, type Session } from "./support";

let browser: Browser;
let admin: Session;

beforeAll(async () => {
  browser = await launch();
  admin = await openSession(browser);
});

afterAll(async () => {
  await browser?.close();
});

describe("an admin sets up the other doors for mail", () => {
  test("a provider hook: its URL and secret shown once, then listed without them", async () => {
    const { page, errors } = admin;
    await signIn(page, "admin@acme.example");
    await page.goto("/admin/mail-sources");
    await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe("Mail sources");
    await checkScreen(page, "admin-mail-sources-empty");

    const form = page.getByRole("region", { name: "New provider hook" });
    // Mailgun needs its signing key: refused without it, in the form.
    await form.getByLabel("Provider").selectOption("mailgun");
    const name = unique("Mailgun inbound");
    await form.getByLabel("Name").fill(name);
    await form.getByRole("button", { name: "Create hook" }).click();
    await expect.poll(() => form.getByText("Mailgun's HTTP webhook signing key").count()).toBe(1);

    await form.getByLabel("Provider").selectOption("postmark");
    const postmark = unique("Postmark inbound");
    await form.getByLabel("Name").fill(postmark);
    await form.getByRole("button", { name: "Create hook" }).click();
    const url = page.getByTestId("hook-url");
    await expect.poll(() => url.count()).toBe(1);
    const shown = (await url.textContent()) ?? "";
    expect(shown).toMatch(/^http:\/\/servicedesk:[^@]+@127\.0\.0\.1:\d+\/v1\/hooks\/email\/postmark\/[0-9a-f-]{36}$/);
    const secret = decodeURIComponent(new URL(shown).password);
    await checkScreen(page, "admin-mail-sources-hook-created");
    await page.getByRole("button", { name: "Done" }).click();

    const list = page.getByTestId("hook-list");
    await expect.poll(() => list.textContent()).toContain(postmark);
    expect(await list.textContent()).not.toContain(secret);
    await page.getByRole("button", { name: `Delete hook ${postmark}` }).click();
    await expect.poll(() => page.getByText(postmark).count()).toBe(0);
    expect(errors).toEqual([]);
  });

  test("an IMAP mailbox: added, tested (nothing listens), its error shown", async () => {
    const { page, errors } = admin;
    await page.goto("/admin/mail-sources");
    const form = page.getByRole("region", { name: "New IMAP mailbox" });
    const name = unique("Support inbox");
    await form.getByRole("textbox", { name: "Name", exact: true }).fill(name);
    await form.getByLabel("Server").fill("127.0.0.1");
    await form.getByLabel("Encryption").selectOption("starttls");
    expect(await form.getByLabel("Port").inputValue()).toBe("143");
    await form.getByLabel("Port").fill("9");
    await form.getByLabel("User name").fill("desk@acme.example");
    await form.getByLabel("Password").fill("mailbox-password-1");
    await form.getByRole("button", { name: "Add mailbox" }).click();

    const list = page.getByTestId("mailbox-list");
    await expect.poll(() => list.textContent()).toContain(name);
    expect(await list.textContent()).not.toContain("mailbox-password-1");
    await page.getByRole("button", { name: `Test connection to ${name}` }).click();
    await expect.poll(() => list.getByText("Could not connect").count(), { timeout: 20_000 }).toBe(1);
    expect(await list.textContent()).toContain("cannot connect");
    await checkScreen(page, "admin-mail-sources-mailbox-failing");
    await page.getByRole("button", { name: `Delete mailbox ${name}` }).click();
    await expect.poll(() => page.getByText(name).count()).toBe(0);
    expect(errors).toEqual([]);
  });
});
