import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { checkScreen, launch, openSession, signIn, unique } from "./support";

/** Admin → Integrations (issue 23 point 8): connect a GitHub repository (the webhook secret
 * shown once), disable and disconnect it; connect a Slack app and start its installation
 * (Slack's consent screen is answered here, not reached); the screen's required fields, the
 * return from Slack, and axe on each state. */

let browser: Browser;

beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
});

describe("integrations", () => {
  test("an admin connects GitHub and Slack, disables and disconnects", async () => {
    const { page, errors } = await openSession(browser);
    await signIn(page, "admin@acme.example");
    await page.goto("/admin/integrations");
    await page.getByRole("heading", { name: "Integrations", level: 1 }).waitFor();

    // Nothing filled in: the required fields say so, nothing is sent.
    await page.getByRole("button", { name: "Connect", exact: true }).click();
    await expect.poll(() => page.getByText("Required").count()).toBeGreaterThanOrEqual(4);

    const repo = unique("Repo");
    await page.getByLabel("Name").fill(repo);
    await page.getByLabel("Owner (user or organisation)").fill("acme");
    await page.getByLabel("Repository").fill("platform");
    await page.getByLabel("Access token").fill("ghp_e2e_token");
    await page.getByLabel("When a pull request merges").selectOption("resolved");
    await page.getByRole("button", { name: "Connect", exact: true }).click();
    const secret = page.getByTestId("webhook-secret");
    await secret.waitFor();
    expect((await secret.textContent())?.length ?? 0).toBeGreaterThanOrEqual(32);
    const list = page.getByTestId("integration-list");
    await list.getByText(repo).waitFor();
    await expect.poll(() => list.textContent()).toContain("repository acme/platform");
    await expect.poll(() => list.textContent()).not.toContain("ghp_e2e_token");
    await checkScreen(page, "integrations");
    await page.getByRole("button", { name: "I stored it" }).click();
    await expect.poll(() => secret.count()).toBe(0);

    await page.getByRole("button", { name: `Disable ${repo}` }).click();
    await page.getByRole("button", { name: `Enable ${repo}` }).waitFor();

    // Slack: the app's credentials, then the installation goes to Slack's consent screen.
    const app = unique("Slack");
    await page.getByLabel("Service").selectOption("slack");
    await page.getByLabel("Name").fill(app);
    await page.getByLabel("Slack app client ID").fill("123.456");
    await page.getByLabel("Slack app client secret").fill("e2e-client-secret");
    await page.getByLabel("Slack app signing secret").fill("e2e-signing-secret");
    await page.getByLabel("Default channel ID").fill("CDESK");
    await page.getByRole("button", { name: "Connect", exact: true }).click();
    await list.getByText(app).waitFor();
    await expect.poll(() => list.textContent()).toContain("not installed yet");
    await page.route("https://slack.com/**", (route) => route.fulfill({ status: 200, contentType: "text/html", body: "<title>Slack</title>" }));
    await page.getByRole("button", { name: `Install in Slack: ${app}` }).click();
    await page.waitForURL(/^https:\/\/slack\.com\/oauth\/v2\/authorize\?/);
    const consent = new URL(page.url());
    expect(consent.searchParams.get("client_id")).toBe("123.456");
    expect(consent.searchParams.get("state")?.length ?? 0).toBeGreaterThan(20);
    expect(consent.searchParams.get("redirect_uri")).toMatch(/\/v1\/hooks\/slack\/oauth\/callback$/);

    // Back from Slack without consent: the screen says so.
    await page.goto("/admin/integrations?slack=denied");
    await page.getByText("The Slack installation was cancelled.").waitFor();
    await checkScreen(page, "integrations-returned");

    for (const name of [repo, app]) {
      await page.getByRole("button", { name: `Disconnect ${name}` }).click();
      await expect.poll(async () => (await page.getByTestId("integration-list").count()) === 0 || !(await list.textContent())?.includes(name)).toBe(true);
    }
    expect(errors).toEqual([]);
  });
});
