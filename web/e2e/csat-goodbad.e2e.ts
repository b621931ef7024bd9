import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { BASE_URL, apiCall, apiLogin, checkScreen, launch, openSession, signIn, unique } from "./support";

/** The good/bad survey scale (issue 19, item 6): the admin picks it on the settings page
 * (with a delay of 0, so the survey goes out at once); a resolved ticket mails two links,
 * Good and Bad; the Bad link opens the survey signed out with "Bad" chosen, and only the
 * button records it (stored as 1); the requester's portal and the agent's sidebar say
 * "Bad". axe in both themes on each page. The scale is set back to 1–5 afterwards. */

let browser: Browser;
const title = unique("Thumbs");
let ticketId = "";

interface Caught {
  name: string;
  to: string;
  subject: string;
}

const LINK = /https?:\/\/[^\s"<>]*\/csat\/[A-Za-z0-9_-]+\?rating=[1-5]/g;

/** The survey mail (not the "resolved" notification, which names the ticket too). */
async function surveyMail(admin: string, to: string): Promise<string> {
  for (let waited = 0; waited < 30_000; waited += 500) {
    const page = await apiCall<{ items: Caught[] }>(admin, "GET", "/v1/dev/mail?limit=100");
    for (const mail of page.items.filter((m) => m.to.includes(to) && m.subject.includes(title))) {
      const response = await fetch(`${BASE_URL}/v1/dev/mail/${encodeURIComponent(mail.name)}`, { headers: { authorization: `Bearer ${admin}` } });
      const raw = (await response.text()).replace(/=\r?\n/g, "").replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
      if (raw.match(LINK)) return raw;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`no survey mail to ${to}`);
}

async function setScale(scale: "1-5" | "good-bad"): Promise<void> {
  const admin = await apiLogin("admin@acme.example");
  const read = await fetch(`${BASE_URL}/v1/settings/csat`, { headers: { authorization: `Bearer ${admin}` } });
  const current = (await read.json()) as Record<string, unknown>;
  const put = await fetch(`${BASE_URL}/v1/settings/csat`, {
    method: "PUT",
    headers: { authorization: `Bearer ${admin}`, "content-type": "application/json", "if-match": read.headers.get("etag") ?? "*" },
    body: JSON.stringify({ ...current, scale, delay_minutes: 0 }),
  });
  if (!put.ok) throw new Error(`csat settings: ${put.status} ${await put.text()}`);
}

beforeAll(async () => {
  browser = await launch();
});

afterAll(async () => {
  await setScale("1-5");
  await browser?.close();
});

describe("the good/bad survey", () => {
  test("the admin chooses the good/bad scale and a delay on the settings page", async () => {
    const { page, errors } = await openSession(browser);
    await signIn(page, "admin@acme.example");
    await page.goto("/admin/settings");
    const card = page.getByRole("region", { name: "Satisfaction surveys" });
    await expect.poll(() => card.getByLabel("Rating scale").isVisible()).toBe(true);
    await card.getByLabel("Minutes to wait before sending").fill("99999");
    await card.getByRole("button", { name: "Save survey settings" }).click();
    await expect.poll(() => card.getByText("a whole number from 0 to 10080").count()).toBe(1);
    await card.getByLabel("Rating scale").selectOption("good-bad");
    await card.getByLabel("Minutes to wait before sending").fill("0");
    await card.getByRole("button", { name: "Save survey settings" }).click();
    await expect.poll(() => card.getByText("Saved.", { exact: true }).count()).toBe(1);
    await checkScreen(page, "csat-settings-good-bad");
    const admin = await apiLogin("admin@acme.example");
    const saved = await apiCall<{ scale: string; delay_minutes: number }>(admin, "GET", "/v1/settings/csat");
    expect([saved.scale, saved.delay_minutes]).toEqual(["good-bad", 0]);
    expect(errors).toEqual([]);
  });

  test("two links; the Bad one opens the survey signed out and the button records it", async () => {
    const person = await apiLogin("employee@acme.example");
    ticketId = (await apiCall<{ id: string }>(person, "POST", "/v1/tickets", { title })).id;
    const agent = await apiLogin("agent@acme.example");
    for (const to of ["in_progress", "resolved"]) {
      await apiCall(agent, "POST", `/v1/tickets/${ticketId}/transitions`, { to });
    }
    const raw = await surveyMail(await apiLogin("admin@acme.example"), "employee@acme.example");
    const links = [...new Set(raw.match(LINK) ?? [])];
    expect(links.map((l) => l.slice(-1)).sort()).toEqual(["1", "5"]);
    const bad = links.find((l) => l.endsWith("rating=1")) ?? "";

    const { page, errors } = await openSession(browser);
    await page.goto(new URL(bad).pathname + new URL(bad).search);
    await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe("How did we do?");
    await expect.poll(() => page.getByLabel("Bad").isChecked()).toBe(true);
    expect(await page.getByLabel("Good").isChecked()).toBe(false);
    expect(await page.getByRole("radio").count()).toBe(2);
    await checkScreen(page, "csat-survey-good-bad");
    expect((await apiCall<{ answered: boolean }>(agent, "GET", `/v1/tickets/${ticketId}/csat`)).answered).toBe(false);

    await page.getByLabel("Comment (optional)").fill("Took three days");
    await page.getByRole("button", { name: "Send my rating" }).click();
    await expect.poll(() => page.getByText("Thank you").count()).toBeGreaterThan(0);
    expect(await page.getByText(/You rated .*: Bad\./).count()).toBe(1);
    await checkScreen(page, "csat-thanks-good-bad");
    const stored = await apiCall<{ rating: number; scale: string }>(agent, "GET", `/v1/tickets/${ticketId}/csat`);
    expect([stored.rating, stored.scale]).toEqual([1, "good-bad"]);
    expect(errors).toEqual([]);
  });

  test("the requester's portal and the agent's sidebar say Bad", async () => {
    for (const [email, name] of [
      ["employee@acme.example", "csat-portal-good-bad"],
      ["agent@acme.example", "csat-agent-good-bad"],
    ] as const) {
      const { page, errors } = await openSession(browser);
      await signIn(page, email);
      await page.goto(`/tickets/${ticketId}`);
      const card = page.getByRole("region", { name: "Satisfaction" });
      await expect.poll(() => card.textContent()).toContain("Bad");
      expect(await card.textContent()).not.toContain("/5");
      expect(await card.textContent()).toContain("Took three days");
      await checkScreen(page, name);
      expect(errors).toEqual([]);
    }
  });
});
