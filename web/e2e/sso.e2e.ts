import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { checkScreen, launch, openSession, signIn, unique } from "./support";

/** Sign-in through an organisation's OpenID Connect or SAML provider (issue 21 point 1):
 * the admin adds the provider, a person of its domain signs in through the test IdP that
 * scripts/e2e_stack.py --sso runs (tests/oidc_idp.py, tests/saml_idp.py), with axe on each
 * screen. */

const ISSUER = process.env.E2E_IDP_ISSUER ?? "";
const CLIENT_ID = process.env.E2E_IDP_CLIENT_ID ?? "";
const CLIENT_SECRET = process.env.E2E_IDP_CLIENT_SECRET ?? "";
const DOMAIN = "sso-e2e.example";
const SAML_IDP = process.env.E2E_SAML_IDP ?? "";
const SAML_DOMAIN = "saml-e2e.example";

let browser: Browser;

beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
});

async function nextPerson(claims: Record<string, unknown>): Promise<void> {
  const answer = await fetch(`${ISSUER}/_test/person`, { method: "POST", body: JSON.stringify(claims) });
  expect(answer.status).toBe(204);
}

describe("sign-in providers", () => {
  test("an admin adds an OIDC provider and a person of its domain signs in through it", async () => {
    expect(ISSUER, "run through scripts/e2e_stack.py --sso").not.toBe("");
    const admin = await openSession(browser);
    await signIn(admin.page, "admin@acme.example");
    await admin.page.goto("/admin/sign-in-providers");
    await admin.page.getByRole("heading", { name: "Sign-in providers", level: 1 }).waitFor();
    await expect.poll(() => admin.page.getByTestId("idp-redirect-uri").inputValue()).toMatch(/\/v1\/auth\/sso\/oidc\/callback$/);
    const slug = unique("e2e").toLowerCase().slice(0, 30);
    await admin.page.getByLabel("Button label").fill("Acme Login");
    await admin.page.getByLabel("Short name").fill(slug);
    await admin.page.getByLabel("Issuer URL").fill(ISSUER);
    await admin.page.getByLabel("Client ID").fill(CLIENT_ID);
    await admin.page.getByLabel("Client secret").fill(CLIENT_SECRET);
    await admin.page.getByLabel("E-mail domains").fill(DOMAIN);
    await admin.page.getByRole("button", { name: "Add provider" }).click();
    const list = admin.page.getByTestId("idp-list");
    await list.getByText("Acme Login").waitFor();
    await expect.poll(() => list.textContent()).toContain("client secret set");
    await admin.page.getByRole("link", { name: "Test sign-in with Acme Login" }).waitFor();
    await checkScreen(admin.page, "sign-in-providers");
    expect(admin.errors).toEqual([]);

    // A person of the domain: the sign-in page offers the provider once the address is typed.
    const person = await openSession(browser);
    const email = `${unique("ada")}@${DOMAIN}`;
    await nextPerson({ sub: unique("sub"), email, name: "Ada Lovelace" });
    await person.page.goto("/login");
    await person.page.getByLabel("E-mail").fill(email);
    const button = person.page.getByRole("link", { name: "Sign in with Acme Login" });
    await button.waitFor();
    await checkScreen(person.page, "login-sso-offer");
    await button.click();
    // Through the IdP and back: /login/sso exchanges the code, then the portal.
    await person.page.waitForURL((url) => url.pathname === "/requests");
    expect(person.page.url()).not.toContain("code=");
    await person.page.getByRole("heading", { name: "My requests", level: 1 }).waitFor();
    expect(person.errors).toEqual([]);

    // The organisation's sign-in page (?org=) offers it without an address, preselected.
    const visitor = await openSession(browser);
    await visitor.page.goto("/login?org=acme");
    await visitor.page.getByRole("link", { name: "Sign in with Acme Login" }).waitFor();
    await admin.context.close();
    await person.context.close();
    await visitor.context.close();
  });

  test("an admin adds a SAML provider from its metadata and a person signs in through it", async () => {
    expect(SAML_IDP, "run through scripts/e2e_stack.py --sso").not.toBe("");
    const metadata = await (await fetch(`${SAML_IDP}/metadata`)).text();
    const admin = await openSession(browser);
    await signIn(admin.page, "admin@acme.example");
    await admin.page.goto("/admin/sign-in-providers");
    await admin.page.getByRole("heading", { name: "Sign-in providers", level: 1 }).waitFor();
    await admin.page.getByLabel("Protocol").selectOption("saml");
    // What the admin gives the IdP.
    await expect.poll(() => admin.page.getByTestId("idp-acs-url").inputValue()).toMatch(/\/v1\/auth\/sso\/saml\/callback$/);
    await expect.poll(() => admin.page.getByTestId("idp-sp-metadata-url").inputValue()).toMatch(/\/v1\/auth\/sso\/saml\/metadata$/);
    const slug = unique("saml").toLowerCase().slice(0, 30);
    await admin.page.getByLabel("Button label").fill("Acme SAML");
    await admin.page.getByLabel("Short name").fill(slug);
    await admin.page.getByLabel("Identity provider metadata (XML)").fill(metadata);
    await admin.page.getByLabel("E-mail domains").fill(SAML_DOMAIN);
    await checkScreen(admin.page, "sign-in-providers-saml");
    await admin.page.getByRole("button", { name: "Add provider" }).click();
    const list = admin.page.getByTestId("idp-list");
    await list.getByText("Acme SAML").waitFor();
    await expect.poll(() => list.textContent()).toContain("identity provider https://idp.test.example/saml");
    expect(admin.errors).toEqual([]);

    const person = await openSession(browser);
    const email = `${unique("grace")}@${SAML_DOMAIN}`;
    const next = await fetch(`${SAML_IDP}/_test/person`, { method: "POST", body: JSON.stringify({ email, name: "Grace Hopper" }) });
    expect(next.status).toBe(204);
    await person.page.goto("/login");
    await person.page.getByLabel("E-mail").fill(email);
    const button = person.page.getByRole("link", { name: "Sign in with Acme SAML" });
    await button.waitFor();
    await button.click();
    // The test IdP's page posts the signed response to our ACS.
    await person.page.getByRole("button", { name: "Continue" }).click();
    await person.page.waitForURL((url) => url.pathname === "/requests");
    expect(person.page.url()).not.toContain("code=");
    await person.page.getByRole("heading", { name: "My requests", level: 1 }).waitFor();
    expect(person.errors).toEqual([]);
    await admin.context.close();
    await person.context.close();
  });

  test("a failed sign-in lands on a page that says so", async () => {
    const session = await openSession(browser);
    await session.page.goto("/login/sso#error=state");
    await session.page.getByText("did not work").waitFor();
    expect(session.page.url()).not.toContain("error=");
    await checkScreen(session.page, "login-sso-failed");
    await session.context.close();
  });
});
