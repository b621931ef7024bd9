import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { BASE_URL, PASSWORD, apiCall, apiLogin, checkScreen, launch, openSession, signIn, signupLink, unique } from "./support";

let browser: Browser;

beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
});

describe("sign-in", () => {
  test("a wrong password is refused with a message; the sign-in screen is accessible", async () => {
    const { page, errors, context } = await openSession(browser);
    await page.goto("/login");
    await checkScreen(page, "login");
    await page.getByLabel("E-mail").fill("employee@acme.example");
    await page.getByLabel("Password").fill("not-the-password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(() => page.getByRole("alert").textContent()).toContain("not right");
    expect(errors).toEqual([]);
    await context.close();
  });

  test("an organisation signs up, confirms by e-mail, stays signed in across a reload, and signs out", async () => {
    const { page, errors, context } = await openSession(browser);
    await page.goto("/signup");
    await checkScreen(page, "signup");
    const slug = unique("org");
    const email = `olga@${slug}.example`;
    await page.getByLabel("Organisation name").fill(`Org ${slug}`);
    await page.getByLabel("Short name").fill(slug);
    await page.getByLabel("Your name").fill("Olga Owner");
    await page.getByLabel("Work e-mail").fill(email);
    await page.getByLabel("Password").fill("a-long-enough-password");
    await page.getByRole("button", { name: "Create organisation" }).click();
    await page.getByRole("heading", { name: "Check your inbox" }).waitFor();
    await expect.poll(() => page.getByText(email).count()).toBe(1);
    await checkScreen(page, "signup-check-inbox");

    // The link in the e-mail opens the confirmation page; one click creates the organisation.
    await page.goto(await signupLink(email));
    await checkScreen(page, "signup-confirm");
    await page.getByRole("button", { name: "Create organisation" }).click();
    await page.waitForURL("**/queues/mine");
    await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe("Queues");

    // The access token lives in memory only: a reload signs in again through the cookie.
    await page.reload();
    await page.waitForURL("**/queues/mine");
    await expect.poll(() => page.getByRole("button", { name: /Account: Olga Owner/ }).count()).toBe(1);

    await page.getByRole("button", { name: /Account/ }).click();
    await page.getByRole("menuitem", { name: "Sign out" }).click();
    await page.waitForURL((url) => url.pathname === "/login" && url.search === "");
    await page.reload();
    await expect.poll(() => page.getByRole("button", { name: "Sign in" }).count()).toBe(1);
    expect(new URL(page.url()).pathname, "signed out stays signed out").toBe("/login");
    expect(errors).toEqual([]);
    await context.close();
  });

  test("signing up with an address that has an account reveals nothing and keeps its password", async () => {
    const admin = await apiLogin("admin@acme.example");
    const held = `${unique("held")}@acme.example`;
    await apiCall(admin, "POST", "/v1/users", { email: held, name: "Hal Held", role: "requester", password: PASSWORD });

    const { page, errors, context } = await openSession(browser);
    const slug = unique("dup");
    await page.goto("/signup");
    await page.getByLabel("Organisation name").fill(`Dup ${slug}`);
    await page.getByLabel("Short name").fill(slug);
    await page.getByLabel("Your name").fill("Someone Else");
    await page.getByLabel("Work e-mail").fill(held);
    await page.getByLabel("Password").fill("an-attacker-guess-123");
    await page.getByRole("button", { name: "Create organisation" }).click();
    // The same screen as for a new address: no session, no hint that the account exists.
    await page.getByRole("heading", { name: "Check your inbox" }).waitFor();
    expect((await context.cookies()).map((c) => c.name)).not.toContain("sd_refresh");

    // The owner of the address confirms; their own password still works, the guess does not.
    await page.goto(await signupLink(held));
    await page.getByRole("button", { name: "Create organisation" }).click();
    await page.waitForURL("**/queues/mine");
    const attempt = (password: string) =>
      fetch(`${BASE_URL}/v1/auth/login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email: held, password, tenant: slug }),
      });
    expect((await attempt("an-attacker-guess-123")).status).toBe(401);
    expect((await attempt(PASSWORD)).status).toBe(200);
    expect(errors).toEqual([]);
    await context.close();
  });

  test("a person invited by e-mail accepts and lands in the portal", async () => {
    const admin = await apiLogin("admin@acme.example");
    const email = `${unique("new")}@acme.example`;
    await apiCall(admin, "POST", "/v1/users/invitations", { email, role: "requester" });
    // The invitation travels through the outbox, the e-mail queue and the mail catcher.
    let token = "";
    for (let i = 0; i < 60 && !token; i++) {
      const mail = await apiCall<{ items: { name: string; to: string }[] }>(admin, "GET", "/v1/dev/mail?limit=20");
      for (const item of mail.items.filter((m) => m.to.includes(email))) {
        const raw = await (await fetch(`${BASE_URL}/v1/dev/mail/${encodeURIComponent(item.name)}`, { headers: { authorization: `Bearer ${admin}` } })).text();
        // Quoted-printable may break and escape the link.
        const flat = raw.replace(/=\r?\n/g, "").replace(/=3D/g, "=");
        token = /accept-invitation#token=([A-Za-z0-9_-]+)/.exec(flat)?.[1] ?? "";
      }
      if (!token) await new Promise((r) => setTimeout(r, 500));
    }
    expect(token, "the invitation e-mail with its link").not.toBe("");

    const { page, errors, context } = await openSession(browser);
    await page.goto(`/accept-invitation#token=${token}`);
    await checkScreen(page, "accept-invitation");
    await page.getByLabel("Your name").fill("Nina New");
    await page.getByLabel("Password").fill("another-long-password");
    await page.getByRole("button", { name: "Join" }).click();
    await page.waitForURL("**/requests");
    await expect.poll(() => page.getByText("No requests yet").count()).toBe(1);
    expect(errors).toEqual([]);
    await context.close();
  });

  test("staff screens send an employee back to the portal", async () => {
    const { page, context } = await openSession(browser);
    await signIn(page, "employee2@acme.example");
    await page.goto("/queues/all");
    await page.waitForURL("**/requests");
    await context.close();
  });
});
