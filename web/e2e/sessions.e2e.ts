import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { BASE_URL, PASSWORD, apiCall, apiLogin, checkScreen, openSession, launch, signIn, unique } from "./support";

/** Sessions (issue 21 point 6): my sessions in My profile, and an admin's "Revoke sessions". */

let browser: Browser;

beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
});

async function person(prefix: string): Promise<{ email: string; name: string }> {
  const email = `${unique(prefix)}@acme.example`;
  const name = `Sam ${unique("S")}`;
  await apiCall(await apiLogin("admin@acme.example"), "POST", "/v1/users", { email, name, role: "agent", password: PASSWORD });
  return { email, name };
}

async function status(token: string): Promise<number> {
  return (await fetch(`${BASE_URL}/v1/me`, { headers: { authorization: `Bearer ${token}` } })).status;
}

describe("sessions", () => {
  test("my profile lists my sessions, signs one out, then everywhere else", async () => {
    const me = await person("sessions");
    const first = await apiLogin(me.email);
    const second = await apiLogin(me.email);
    const { page, errors } = await openSession(browser);
    await signIn(page, me.email);
    await page.goto("/settings/profile");
    await page.getByRole("heading", { name: "Sessions" }).waitFor();
    const rows = page.getByTestId("session-row");
    await expect.poll(() => rows.count()).toBe(3);
    expect(await page.getByText("This session", { exact: true }).count()).toBe(1);
    await checkScreen(page, "profile-sessions");

    // One other session: its token stops working at once.
    const other = rows.filter({ hasNot: page.getByText("This session", { exact: true }) }).first();
    await other.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("button", { name: /^Sign out node/ }).click();
    await page.getByText("That session was signed out.").waitFor();
    await expect.poll(() => rows.count()).toBe(2);
    const statuses = [await status(first), await status(second)].sort();
    expect(statuses).toEqual([200, 401]);

    // Everywhere else: only this browser's session is left, and it still works.
    await page.getByRole("button", { name: "Sign out everywhere else" }).click();
    await page.getByRole("button", { name: "Sign out every other session" }).click();
    await page.getByText("Signed out everywhere else (1).").waitFor();
    await expect.poll(() => rows.count()).toBe(1);
    await page.getByText("No other sessions.").waitFor();
    expect([await status(first), await status(second)]).toEqual([401, 401]);
    await page.reload();
    await page.getByRole("heading", { name: "Sessions" }).waitFor();
    await expect.poll(() => rows.count()).toBe(1);
    expect(errors).toEqual([]);
    await page.context().close();
  });

  test("an admin revokes every session of a member", async () => {
    const member = await person("revokee");
    const token = await apiLogin(member.email);
    const { page, errors } = await openSession(browser);
    await signIn(page, "admin@acme.example");
    await page.goto("/admin/users");
    await page.getByLabel("Search").fill(member.name);
    // The search applies after a pause and redraws the table: act on the filtered one.
    await expect.poll(() => page.getByTestId("user-rows").locator("tr").count()).toBe(1);
    const row = page.getByTestId("user-rows").locator("tr", { hasText: member.email });
    await row.waitFor();
    await row.getByRole("button", { name: "Revoke sessions" }).click();
    await checkScreen(page, "admin-revoke-sessions");
    await row.getByRole("button", { name: `Sign ${member.name} out everywhere` }).click();
    await row.getByText(`${member.name} was signed out everywhere (1).`).waitFor();
    expect(await status(token)).toBe(401);
    expect(errors).toEqual([]);
    await page.context().close();
  });
});
