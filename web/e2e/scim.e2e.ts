import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { BASE_URL, apiCall, apiLogin, checkScreen, launch, openSession, signIn, unique } from "./support";

/** SCIM provisioning (issue 21 point 3): the admin card, a token shown once, an identity
 * provider's requests with it, a group mapped to a role, and revoking the token. */

let browser: Browser;

beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
});

async function scim(token: string, method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${BASE_URL}/scim/v2${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/scim+json" },
    body: body === undefined ? null : JSON.stringify(body),
  });
}

describe("scim", () => {
  test("an admin enables SCIM, makes a token, maps a group to a role, and revokes the token", async () => {
    const adminToken = await apiLogin("admin@acme.example");
    const { page, errors } = await openSession(browser);
    await signIn(page, "admin@acme.example");
    await page.goto("/admin/settings");
    await page.getByRole("heading", { name: "SCIM provisioning" }).waitFor();
    const enable = page.getByLabel("Accept provisioning from the identity provider");
    if (!(await enable.isChecked())) {
      await enable.check();
      await page.getByRole("button", { name: "Save SCIM settings" }).click();
      await expect.poll(async () => (await apiCall<{ enabled: boolean }>(adminToken, "GET", "/v1/scim/settings")).enabled).toBe(true);
    }
    expect(await page.getByTestId("scim-base-url").inputValue()).toMatch(/\/scim\/v2$/);

    await page.getByRole("button", { name: /^(Generate token|Make a new token)/ }).click();
    const shown = page.getByTestId("scim-token");
    await shown.waitFor();
    const token = await shown.inputValue();
    expect(token).toMatch(/^scim_/);
    await page.getByText(/A token starting scim_/).waitFor();

    // The identity provider provisions a person and a group with the token.
    const userName = `${unique("scim")}@acme.example`;
    const user = await scim(token, "POST", "/Users", { schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"], userName, displayName: "Provisioned Person" });
    expect(user.status).toBe(201);
    const person = (await user.json()) as { id: string };
    const groupName = unique("Support agents");
    const group = await scim(token, "POST", "/Groups", {
      schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group"],
      displayName: groupName,
      members: [{ value: person.id }],
    });
    expect(group.status).toBe(201);
    expect((await apiCall<{ role: string }>(adminToken, "GET", `/v1/users/${person.id}`)).role).toBe("requester");

    // The admin maps the group to the agent role: its member becomes an agent.
    await page.getByRole("button", { name: "I stored it" }).click();
    await page.reload();
    await page.getByRole("heading", { name: "SCIM provisioning" }).waitFor();
    await page.getByLabel(`Role for ${groupName}`).selectOption("agent");
    const row = page.getByTestId("scim-group").filter({ hasText: groupName });
    await row.getByRole("button", { name: "Save mapping" }).click();
    await row.getByText("Mapping saved.").waitFor();
    await expect.poll(async () => (await apiCall<{ role: string }>(adminToken, "GET", `/v1/users/${person.id}`)).role).toBe("agent");
    await checkScreen(page, "scim-settings");

    // Revoked: the identity provider's token is refused at once, in SCIM's error format.
    await page.getByRole("button", { name: "Revoke token" }).click();
    await page.getByText("No token yet.").waitFor();
    const refused = await scim(token, "GET", "/Users");
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { schemas: string[] }).schemas).toEqual(["urn:ietf:params:scim:api:messages:2.0:Error"]);
    expect(errors).toEqual([]);
  });
});
