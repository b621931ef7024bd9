import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { BASE_URL, apiLogin, checkScreen, launch, openSession, signIn } from "./support";

/** The organisation's notification defaults (issue 20 point 6): an admin switches an
 * event's e-mail off by default in Settings; a member who never chose sees the default in
 * force on their own settings page, and says so; choosing makes it theirs. */

let browser: Browser;
let admin = "";

async function setDefaults(value: object): Promise<void> {
  const response = await fetch(`${BASE_URL}/v1/settings/notifications`, { headers: { authorization: `Bearer ${admin}` } });
  const etag = response.headers.get("etag") ?? "";
  const put = await fetch(`${BASE_URL}/v1/settings/notifications`, {
    method: "PUT",
    headers: { authorization: `Bearer ${admin}`, "content-type": "application/json", "if-match": etag },
    body: JSON.stringify(value),
  });
  if (!put.ok) throw new Error(`notification defaults: ${put.status}`);
}

beforeAll(async () => {
  browser = await launch();
  admin = await apiLogin("admin@acme.example");
  await setDefaults({ email_off: [] });
});
afterAll(async () => {
  await setDefaults({ email_off: [] });
  await browser?.close();
});

describe("notification defaults", () => {
  test("set by an admin, followed and shown on a member's own settings", async () => {
    const { page, errors } = await openSession(browser);
    await signIn(page, "admin@acme.example");
    await page.goto("/admin/settings");
    await page.getByRole("heading", { name: "Notification defaults" }).waitFor();
    const group = page.getByRole("group", { name: "E-mail by default" });
    await group.getByLabel("SLA warnings").uncheck();
    await page.getByRole("button", { name: "Save notification defaults" }).click();
    await expect.poll(() => page.getByText("Saved.", { exact: true }).count()).toBe(1);
    await checkScreen(page, "settings-notification-defaults");
    expect(errors).toEqual([]);
    await page.context().close();

    const agent = await openSession(browser);
    await signIn(agent.page, "agent@acme.example");
    await agent.page.goto("/settings/notifications");
    const warning = agent.page.getByLabel("SLA warnings: By e-mail");
    await expect.poll(() => warning.isChecked()).toBe(false);
    await expect.poll(() => agent.page.getByTestId("pref-note-sla.warning").textContent()).toBe("organisation default");
    await checkScreen(agent.page, "notification-settings-defaults");
    // Choosing makes it the person's own; "use the defaults" gives it back.
    await warning.check();
    await agent.page.getByRole("button", { name: "Save settings" }).click();
    await expect.poll(() => agent.page.getByTestId("pref-note-sla.warning").textContent()).toBe("your choice (default: off)");
    await agent.page.getByRole("button", { name: "Use the organisation's defaults for e-mail" }).click();
    await expect.poll(() => agent.page.getByTestId("pref-note-sla.warning").textContent()).toBe("organisation default");
    await expect.poll(() => warning.isChecked()).toBe(false);
    expect(agent.errors).toEqual([]);
    await agent.context.close();
  });
});
