import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { BASE_URL, apiCall, apiLogin, checkScreen, launch, openSession, unique } from "./support";

/** Self-registration and the branded sign-in page (issue 20 point 6): an admin allows
 * registration in Settings; the sign-in page for the organisation (?org=acme) wears its
 * branding and offers "Create an account"; the e-mailed link makes the person a requester.
 * An unknown organisation gets the default look. */

let browser: Browser;
let admin = "";

interface Caught {
  name: string;
  to: string;
  subject: string;
}

async function linkMailedTo(to: string): Promise<string> {
  for (let waited = 0; waited < 30_000; waited += 500) {
    const page = await apiCall<{ items: Caught[] }>(admin, "GET", "/v1/dev/mail?limit=100");
    const found = page.items.find((m) => m.to.includes(to) && m.subject.includes("Confirm your registration"));
    if (found) {
      const response = await fetch(`${BASE_URL}/v1/dev/mail/${encodeURIComponent(found.name)}`, { headers: { authorization: `Bearer ${admin}` } });
      const raw = (await response.text()).replace(/=\r?\n/g, "").replace(/=3D/g, "=");
      const link = /https?:\/\/[^\s"<>]+\/register\/confirm#token=[A-Za-z0-9_-]+/.exec(raw)?.[0];
      if (link) return link.replace(/^https?:\/\/[^/]+/, "");
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`no registration mail to ${to}`);
}

async function setPortal(value: object): Promise<void> {
  const response = await fetch(`${BASE_URL}/v1/settings/portal`, { headers: { authorization: `Bearer ${admin}` } });
  const etag = response.headers.get("etag") ?? "";
  const put = await fetch(`${BASE_URL}/v1/settings/portal`, {
    method: "PUT",
    headers: { authorization: `Bearer ${admin}`, "content-type": "application/json", "if-match": etag },
    body: JSON.stringify(value),
  });
  if (!put.ok) throw new Error(`portal settings: ${put.status}`);
}

beforeAll(async () => {
  browser = await launch();
  admin = await apiLogin("admin@acme.example");
  await setPortal({ self_registration: false, allowed_domains: [] });
});
afterAll(async () => {
  await setPortal({ self_registration: false, allowed_domains: [] });
  await browser?.close();
});

describe("self-registration", () => {
  test("allowed in Settings, offered on the branded sign-in page, confirmed by e-mail", async () => {
    const { page, errors } = await openSession(browser);
    await page.goto("/login");
    await page.getByLabel("E-mail").fill("admin@acme.example");
    await page.getByLabel("Password").fill(process.env.E2E_PASSWORD ?? "demo-password-123");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL((url) => !url.pathname.startsWith("/login"));
    await page.goto("/admin/settings");
    await page.getByRole("heading", { name: "Self-registration" }).waitFor();
    // A bad domain is named on the field; nothing is saved.
    await page.getByLabel("Allow people to register as requesters").check();
    await page.getByLabel("Allowed e-mail domains").fill("not a domain!");
    await page.getByRole("button", { name: "Save self-registration" }).click();
    await expect.poll(() => page.getByText(/not a domain/).count()).toBeGreaterThan(0);
    await page.getByLabel("Allowed e-mail domains").fill("example.org");
    await page.getByRole("button", { name: "Save self-registration" }).click();
    await expect.poll(() => page.getByText("Saved.", { exact: true }).count()).toBe(1);
    await checkScreen(page, "settings-self-registration");
    expect(errors).toEqual([]);
    await page.context().close();

    // The sign-in page of the organisation: its name and the way to register.
    const visitor = await openSession(browser);
    await visitor.page.goto("/login?org=acme");
    const create = visitor.page.getByRole("link", { name: "Create an account" });
    await create.waitFor();
    await checkScreen(visitor.page, "login-branded");
    await create.click();
    await visitor.page.waitForURL(/\/register\?org=acme/);
    await visitor.page.getByLabel("Your name").waitFor();
    await checkScreen(visitor.page, "register");
    // Another domain: refused, naming the address.
    await visitor.page.getByLabel("Your name").fill("Reggie");
    await visitor.page.getByLabel("Work e-mail").fill(`${unique("reggie")}@elsewhere.test`);
    await visitor.page.getByLabel(/^Password/).fill("a-long-enough-password-42");
    await visitor.page.getByRole("button", { name: "Register" }).click();
    await expect.poll(() => visitor.page.getByText(/domain is not allowed/).count()).toBeGreaterThan(0);
    const email = `${unique("reggie")}@example.org`;
    await visitor.page.getByLabel("Work e-mail").fill(email);
    await visitor.page.getByRole("button", { name: "Register" }).click();
    await visitor.page.getByRole("heading", { name: "Check your e-mail" }).waitFor();

    await visitor.page.goto(await linkMailedTo(email));
    await visitor.page.getByRole("heading", { name: "Finish your registration" }).waitFor();
    await checkScreen(visitor.page, "register-confirm");
    await visitor.page.getByRole("button", { name: "Join and sign in" }).click();
    await visitor.page.waitForURL(/\/requests/);
    const me = await apiCall<{ role: string }>(await apiLogin(email, "a-long-enough-password-42"), "GET", "/v1/me");
    expect(me.role).toBe("requester");
    // The one refusal above (another domain) is a 403 by design, which the browser logs.
    expect(visitor.errors.filter((e) => !/status of 403/.test(e))).toEqual([]);
    await visitor.context.close();
  });

  test("an unknown organisation and one that does not take registrations look the same", async () => {
    const { page, errors } = await openSession(browser);
    await page.goto("/login?org=no-such-organisation");
    await page.getByRole("heading", { name: "Sign in", exact: true }).waitFor();
    expect(await page.getByRole("link", { name: "Create an account" }).count()).toBe(0);
    await checkScreen(page, "login-default");
    await page.goto("/register?org=no-such-organisation");
    await expect.poll(() => page.getByText("This organisation does not take registrations").count()).toBe(1);
    expect(errors).toEqual([]);
    await page.context().close();
  });
});
