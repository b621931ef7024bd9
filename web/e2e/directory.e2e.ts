import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { BASE_URL, PASSWORD, apiCall, apiLogin, checkScreen, launch, newOrganisation, openSession, signIn, unique } from "./support";

/** The admin's "Directory (LDAP)" card (issue 21 point 2): the form, the group → role
 * table, the write-only service password and "test connection". The sign-in itself runs
 * against a real slapd in tests/integration/test_ldap.py; here the card is saved with the
 * directory left off (the demo organisation's people keep their passwords) and the test
 * reaches a port where nothing listens. */

let browser: Browser;

beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
});

interface Directory {
  enabled: boolean;
  host: string;
  has_password: boolean;
  group_roles: { group_dn: string; role: string }[];
  group_teams: { group_dn: string; team_id: string }[];
}

describe("directory settings", () => {
  test("an admin fills the card, maps a group to a role and tests the connection", async () => {
    const token = await apiLogin("admin@acme.example");
    const teamName = unique("Directory team");
    const team = await apiCall<{ id: string }>(token, "POST", "/v1/teams", { name: teamName });
    const { page, errors, context } = await openSession(browser);
    await signIn(page, "admin@acme.example");
    await page.goto("/admin/settings");
    const card = page.getByRole("region", { name: "Directory (LDAP)" });
    await card.getByLabel("Server host name").fill("127.0.0.1");
    await card.getByLabel("Port").fill("9");
    await card.getByLabel("Connection security").selectOption("starttls");
    await card.getByLabel("Service account DN").fill("cn=desk,dc=acme,dc=example");
    await card.getByLabel("Service account password").fill("service-secret-1");
    await card.getByLabel("User search base").fill("ou=people,dc=acme,dc=example");
    await card.getByRole("button", { name: "Add a group" }).click();
    await card.getByLabel("Group DN 1").fill("cn=helpdesk,ou=groups,dc=acme,dc=example");
    await card.getByLabel("Role for group 1").selectOption("agent");
    await card.getByRole("button", { name: "Add a team group" }).click();
    await card.getByLabel("Team group DN 1").fill("cn=network,ou=groups,dc=acme,dc=example");
    await card.getByLabel("Team for group 1").selectOption({ label: teamName });
    await card.getByRole("button", { name: "Save directory settings" }).click();
    await expect.poll(() => card.getByText("A password is saved.", { exact: false }).count()).toBe(1);

    const saved = await apiCall<Directory>(token, "GET", "/v1/settings/ldap");
    expect(saved.enabled).toBe(false);
    expect(saved.host).toBe("127.0.0.1");
    expect(saved.has_password).toBe(true);
    expect(saved).not.toHaveProperty("password");
    expect(saved.group_roles).toEqual([{ group_dn: "cn=helpdesk,ou=groups,dc=acme,dc=example", role: "agent" }]);
    expect(saved.group_teams).toEqual([{ group_dn: "cn=network,ou=groups,dc=acme,dc=example", team_id: team.id }]);

    await card.getByLabel("User name to look up").fill("erin");
    await card.getByRole("button", { name: "Test connection" }).click();
    await expect.poll(() => card.getByTestId("directory-test-result").textContent()).toContain("The directory could not be used");
    await checkScreen(page, "directory-settings");
    expect(errors).toEqual([]);
    await context.close();
  });

  test("an organisation with a directory: its sign-in page takes a user name, sent with the organisation", async () => {
    // A fresh organisation whose directory is on (at a port where nothing listens: the
    // sign-in reaches the directory and says it cannot be reached, a real slapd signs in
    // in tests/integration/test_ldap.py).
    const { slug, adminToken } = await newOrganisation("dir");
    const auth = { authorization: `Bearer ${adminToken}` };
    const read = await fetch(`${BASE_URL}/v1/settings/ldap`, { headers: auth });
    const { has_password: _, ...current } = (await read.json()) as Directory;
    const saved = await fetch(`${BASE_URL}/v1/settings/ldap`, {
      method: "PUT",
      headers: { ...auth, "content-type": "application/json", "if-match": read.headers.get("etag") ?? "" },
      body: JSON.stringify({
        ...current,
        enabled: true,
        host: "127.0.0.1",
        port: 9,
        mode: "starttls",
        bind_dn: "cn=desk,dc=corp,dc=example",
        password: "service-secret-1",
        user_search_base: "ou=people,dc=corp,dc=example",
        timeout_seconds: 2,
      }),
    });
    expect(saved.status, await saved.text()).toBe(200);
    const { page, errors, context } = await openSession(browser);
    await page.goto(`/login?org=${slug}`);
    const field = page.getByLabel("E-mail or user name");
    await field.waitFor();
    expect(await field.getAttribute("type")).toBe("text");
    await field.fill("erin");
    await page.getByLabel("Password").fill(PASSWORD);
    const answered = page.waitForResponse((r) => r.url().endsWith("/v1/auth/login") && r.request().method() === "POST");
    await page.getByRole("button", { name: "Sign in" }).click();
    // 503: the sign-in went to the organisation's directory, which only a user name sent
    // with the organisation does (without it, a user name is a 422 naming `tenant`).
    expect((await answered).status()).toBe(503);
    await page.getByText(/directory cannot be reached/).waitFor();
    await checkScreen(page, "login-user-name");
    expect(errors.filter((e) => !e.includes("503"))).toEqual([]);
    await context.close();
  });
});
