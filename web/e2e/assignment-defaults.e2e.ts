import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { BASE_URL, apiCall, apiLogin, checkScreen, launch, openSession, signIn, unique } from "./support";

/** Assignment defaults in the ticket settings (issue 20 point 6): a default team for new
 * tickets that name none, and assignment on an agent's first public reply. */

let browser: Browser;
let admin = "";

async function resetTicketSettings(): Promise<void> {
  const response = await fetch(`${BASE_URL}/v1/settings/tickets`, { headers: { authorization: `Bearer ${admin}` } });
  const etag = response.headers.get("etag") ?? "";
  const current = (await response.json()) as Record<string, unknown>;
  await fetch(`${BASE_URL}/v1/settings/tickets`, {
    method: "PUT",
    headers: { authorization: `Bearer ${admin}`, "content-type": "application/json", "if-match": etag },
    body: JSON.stringify({ ...current, default_team_id: null, assign_on_first_reply: false }),
  });
}

beforeAll(async () => {
  browser = await launch();
  admin = await apiLogin("admin@acme.example");
});
afterAll(async () => {
  await resetTicketSettings();
  await browser?.close();
});

describe("assignment defaults", () => {
  test("a default team and assignment on first reply, set on the settings screen", async () => {
    const team = await apiCall<{ id: string; name: string }>(admin, "POST", "/v1/teams", { name: unique("Front desk"), assignment_strategy: "manual" });
    // The agent works in the team (agents see their teams' tickets).
    const agent = await apiLogin("agent@acme.example");
    const me = await apiCall<{ user: { id: string } }>(agent, "GET", "/v1/me");
    await apiCall(admin, "PUT", `/v1/teams/${team.id}/members/${me.user.id}`);
    const { page, errors } = await openSession(browser);
    await signIn(page, "admin@acme.example");
    await page.goto("/admin/settings");
    await page.getByLabel("Default team").selectOption({ label: team.name });
    await page.getByLabel(/Assign a ticket to the agent who sends its first public reply/).check();
    await page.getByRole("button", { name: "Save ticket settings" }).click();
    await expect.poll(() => page.getByText("Saved.", { exact: true }).count()).toBeGreaterThan(0);
    await checkScreen(page, "settings-assignment-defaults");
    expect(errors).toEqual([]);
    await page.context().close();

    const employee = await apiLogin("employee@acme.example");
    const ticket = await apiCall<{ id: string; team_id: string | null; assignee_id: string | null }>(employee, "POST", "/v1/tickets", { title: unique("Defaults") });
    expect(ticket.team_id).toBe(team.id);
    expect(ticket.assignee_id).toBeNull();
    await apiCall(agent, "POST", `/v1/tickets/${ticket.id}/comments`, { body: "On it", visibility: "public" });
    const read = await apiCall<{ assignee_id: string | null }>(agent, "GET", `/v1/tickets/${ticket.id}`);
    expect(read.assignee_id).toBe(me.user.id);
  });
});
