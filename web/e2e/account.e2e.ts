import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { PASSWORD, apiCall, apiLogin, checkScreen, launch, openSession, signIn, unique } from "./support";

/** Account recovery and requesters' ticket links (issue 17): each screen from the link in the
 * e-mail the stack really sent (read from the mail catcher's directory, as auth.e2e does). */

let browser: Browser;
let admin = "";
const here = dirname(fileURLToPath(import.meta.url));

/** The newest caught mail of one event to one address: its links, quoted-printable undone. */
async function linkIn(event: string, email: string, pattern: RegExp): Promise<string> {
  const dir = process.env.E2E_MAIL_DIR ?? "";
  expect(dir, "E2E_MAIL_DIR is set by scripts/e2e_stack.py").not.toBe("");
  for (let i = 0; i < 60; i++) {
    const names = readdirSync(dir)
      .filter((n) => n.includes(event) && n.includes(email))
      .sort()
      .reverse();
    for (const name of names) {
      const flat = readFileSync(join(dir, name), "utf8").replace(/=\r?\n/g, "").replace(/=3D/g, "=");
      const link = pattern.exec(flat)?.[0];
      if (link) return new URL(link).pathname + new URL(link).hash;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`no ${event} e-mail for ${email}`);
}

/** A person an admin added (an account whose address nobody has verified). */
async function addPerson(role: string): Promise<string> {
  const email = `${unique(role)}@acme.example`;
  await apiCall(admin, "POST", "/v1/users", { email, name: "Casey Example", role, password: PASSWORD });
  return email;
}

/** A requester as the e-mail intake makes one: a membership without a password. */
function passwordlessRequester(tenantId: string, email: string): string {
  const url = process.env.E2E_DATABASE_URL ?? "";
  expect(url, "E2E_DATABASE_URL is set by scripts/e2e_stack.py").not.toBe("");
  const code = [
    "import sys, psycopg",
    "with psycopg.connect(sys.argv[1]) as c:",
    "    u = c.execute(\"INSERT INTO users (email, name) VALUES (%s, 'Wanda Walk-in') RETURNING id\", (sys.argv[2],)).fetchone()[0]",
    "    c.execute(\"INSERT INTO memberships (tenant_id, user_id, role) VALUES (%s, %s, 'requester')\", (sys.argv[3], u))",
    "    print(u)",
  ].join("\n");
  return execFileSync(join(here, "../../.venv/bin/python"), ["-c", code, url, email, tenantId], { encoding: "utf8" }).trim();
}

beforeAll(async () => {
  browser = await launch();
  admin = await apiLogin("admin@acme.example");
});
afterAll(async () => {
  await browser?.close();
});

describe("password reset", () => {
  test("from the sign-in page to a new password by the e-mailed link", async () => {
    const email = await addPerson("agent");
    const { page, errors, context } = await openSession(browser);
    await page.goto("/login");
    await page.getByRole("link", { name: "Forgot password?" }).click();
    await page.waitForURL("**/forgot-password");
    await checkScreen(page, "forgot-password");
    await page.getByLabel("E-mail").fill(email);
    await page.getByRole("button", { name: "Send the link" }).click();
    await page.getByRole("heading", { name: "Check your inbox" }).waitFor();

    await page.goto(await linkIn("account.password_reset", email, /https?:\/\/[^\s"<>]*\/reset-password#token=[A-Za-z0-9_-]+/));
    await checkScreen(page, "reset-password");
    await page.getByLabel(/^New password/).fill("a-fresh-passphrase-2026");
    await page.getByLabel("Repeat the new password").fill("a-fresh-passphrase-2026");
    await page.getByRole("button", { name: "Set the new password" }).click();
    await page.getByRole("heading", { name: "Password changed" }).waitFor();
    await checkScreen(page, "reset-password-done");
    await expect(apiLogin(email)).rejects.toThrow(/401/);
    await signIn(page, email, "a-fresh-passphrase-2026");
    expect(errors).toEqual([]);
    await context.close();
  });
});

describe("e-mail verification", () => {
  test("the mailed link verifies the address with one click", async () => {
    const email = await addPerson("agent");
    await fetch(`${process.env.E2E_BASE_URL}/v1/auth/verify-email/request`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email }),
    });
    const { page, errors, context } = await openSession(browser);
    await page.goto(await linkIn("account.email_verification", email, /https?:\/\/[^\s"<>]*\/verify-email#token=[A-Za-z0-9_-]+/));
    await checkScreen(page, "verify-email");
    await page.getByRole("button", { name: "Verify my address" }).click();
    await expect.poll(() => page.getByText("Address verified").count()).toBe(1);
    await page.reload(); // used once: a dead link offers a new one
    await page.getByRole("button", { name: "Verify my address" }).click();
    await page.getByRole("button", { name: "Send a new link" }).waitFor();
    await checkScreen(page, "verify-email-dead");
    expect(errors).toEqual([]);
    await context.close();
  });
});

describe("a requester's ticket link", () => {
  test("opens the one request, takes a reply and a password, then ends", async () => {
    const me = await apiCall<{ tenant: { id: string } }>(admin, "GET", "/v1/me");
    const email = `${unique("walkin")}@example.org`;
    const userId = passwordlessRequester(me.tenant.id, email);
    const agent = await apiLogin("agent@acme.example");
    const title = unique("Badge reader");
    await apiCall(agent, "POST", "/v1/tickets", { title, description: "It beeps red.", requester_id: userId });
    const link = await linkIn("ticket.received", email, /https?:\/\/[^\s"<>]*\/m\/[A-Za-z0-9_-]+/);

    const { page, errors, context } = await openSession(browser);
    await page.goto(link);
    await page.getByRole("heading", { name: title }).waitFor();
    await checkScreen(page, "magic-link-ticket");
    await page.getByLabel("Reply").fill("It still beeps this morning.");
    await page.getByRole("button", { name: /Send/ }).click();
    await expect.poll(() => page.getByText("It still beeps this morning.").count()).toBe(1);

    await page.getByLabel(/^New password/).fill("walk-in-passphrase-1");
    await page.getByLabel("Repeat the new password").fill("walk-in-passphrase-1");
    await page.getByRole("button", { name: "Set the password" }).click();
    await page.getByRole("heading", { name: "Password set" }).waitFor();
    await checkScreen(page, "magic-link-password-set");
    await page.goto(link); // the link ended with the password
    await page.getByRole("heading", { name: "This link does not open the request" }).waitFor();
    await checkScreen(page, "magic-link-ended");
    await signIn(page, email, "walk-in-passphrase-1");
    expect(errors.filter((e) => !e.includes("401"))).toEqual([]);
    await context.close();
  });
});
