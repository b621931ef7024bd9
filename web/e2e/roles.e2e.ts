import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { PASSWORD, apiCall, apiLogin, checkScreen, launch, openSession, signIn, unique } from "./support";

/** Custom roles (issue 21 point 5): the Roles screen (built-ins read-only, a new role
 * copied from a built-in and extended), the role picker on the Users screen, the menu the
 * member then sees, and a role in use refused deletion. */

let browser: Browser;

beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
});

describe("roles", () => {
  test("an admin makes an analyst role from the agent's, gives it to an agent, who then sees reports", async () => {
    const adminToken = await apiLogin("admin@acme.example");
    const email = `${unique("analyst")}@acme.example`;
    const person = await apiCall<{ id: string }>(adminToken, "POST", "/v1/users", { email, name: "Ana Lyst", role: "agent", password: PASSWORD });

    const { page, errors } = await openSession(browser);
    await signIn(page, "admin@acme.example");
    await page.goto("/admin/roles");
    await page.getByRole("heading", { name: "All roles" }).waitFor();

    // A built-in role is shown read-only.
    await page.getByRole("button", { name: "View agent" }).click();
    await page.getByText("A built-in role: read-only.").waitFor();
    await page.getByRole("button", { name: "Close" }).click();

    // A new role: the agent's permissions, plus reading reports.
    const name = unique("Analysts");
    await page.getByRole("button", { name: "New role" }).click();
    await page.getByLabel("Name").fill(name);
    await page.getByLabel("Copy from a built-in role").selectOption("agent");
    await page.getByRole("button", { name: "Copy", exact: true }).click();
    await expect.poll(() => page.getByRole("checkbox", { name: /^ticket:assign/ }).isChecked()).toBe(true);
    await page.getByRole("checkbox", { name: /^report:read/ }).check();
    await checkScreen(page, "roles-editor");
    await page.getByRole("button", { name: "Create role" }).click();
    await page.getByText(`Role ${name} created.`).waitFor();
    const roles = await apiCall<{ id: string | null; name: string; permissions: string[] }[]>(adminToken, "GET", "/v1/roles");
    const made = roles.find((r) => r.name === name);
    expect(made?.permissions).toContain("report:read");
    expect(made?.permissions).toContain("ticket:assign");
    await checkScreen(page, "roles");

    // The Users screen's picker gives it to the agent.
    await page.goto("/admin/users");
    await page.getByLabel("Search").fill(email);
    await expect.poll(() => page.getByTestId("user-rows").locator("tr").count()).toBe(1);
    await page.getByLabel("Ana Lyst's custom role").selectOption({ label: name });
    await page.getByRole("button", { name: "Save custom role" }).click();
    await page.getByText(`Ana Lyst now has: ${name}.`).waitFor();
    expect((await apiCall<{ custom_role_id: string | null }>(adminToken, "GET", `/v1/users/${person.id}`)).custom_role_id).toBe(made?.id);

    // In use: deleting it is refused, naming how many hold it.
    await page.goto("/admin/roles");
    await page.getByRole("button", { name: `Edit ${name}` }).click();
    await page.getByRole("button", { name: "Delete", exact: true }).click();
    await page.getByRole("button", { name: `Delete ${name}` }).click();
    await page.getByText(/1 member holds this role/).waitFor();

    // The member's menu follows the permissions /v1/me answers: reports, no admin area.
    const member = await openSession(browser);
    await signIn(member.page, email);
    await member.page.getByRole("link", { name: "Reports" }).waitFor();
    expect(await member.page.getByRole("link", { name: "Admin" }).count()).toBe(0);
    expect(errors).toEqual([]);
    expect(member.errors).toEqual([]);
  });
});
