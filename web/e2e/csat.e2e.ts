import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { BASE_URL, apiCall, apiLogin, checkScreen, launch, openSession, signIn, unique } from "./support";

/** The satisfaction survey (issue 19, item 6): a resolved ticket mails the requester five
 * links; one opens the survey signed out with its rating chosen, and only the button
 * records it; the agent then reads the rating on the ticket. The mail is the one the stack
 * really sent, read back from the dev mail catcher. */

let browser: Browser;
const title = unique("Survey");
let ticketId = "";
let raw = "";

interface Caught {
  name: string;
  to: string;
  subject: string;
}

async function surveyMail(admin: string, to: string): Promise<string> {
  let found: Caught | undefined;
  for (let waited = 0; !found && waited < 30_000; waited += 500) {
    const page = await apiCall<{ items: Caught[] }>(admin, "GET", "/v1/dev/mail?limit=100");
    found = page.items.find((m) => m.to.includes(to) && m.subject.includes(title));
    if (!found) await new Promise((resolve) => setTimeout(resolve, 500));
  }
  if (!found) throw new Error(`no survey mail to ${to}`);
  const response = await fetch(`${BASE_URL}/v1/dev/mail/${encodeURIComponent(found.name)}`, { headers: { authorization: `Bearer ${admin}` } });
  return (await response.text()).replace(/=\r?\n/g, "").replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

beforeAll(async () => {
  browser = await launch();
  const person = await apiLogin("employee@acme.example");
  ticketId = (await apiCall<{ id: string }>(person, "POST", "/v1/tickets", { title })).id;
  const agent = await apiLogin("agent@acme.example");
  for (const to of ["in_progress", "resolved"]) {
    await apiCall(agent, "POST", `/v1/tickets/${ticketId}/transitions`, { to });
  }
  raw = await surveyMail(await apiLogin("admin@acme.example"), "employee@acme.example");
});

afterAll(async () => {
  await browser?.close();
});

describe("the satisfaction survey", () => {
  test("a link opens the survey signed out, rating chosen; the button records it once", async () => {
    const links = [...new Set(raw.match(/https?:\/\/[^\s"<>]*\/csat\/[A-Za-z0-9_-]+\?rating=[1-5]/g) ?? [])];
    expect(links).toHaveLength(5);
    const four = links.find((l) => l.endsWith("rating=4")) ?? "";
    const { page, errors } = await openSession(browser);
    await page.goto(new URL(four).pathname + new URL(four).search);
    await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe("How did we do?");
    await expect.poll(() => page.getByLabel("4 – Satisfied").isChecked()).toBe(true);
    await checkScreen(page, "csat-survey");
    // Opening it recorded nothing.
    const agent = await apiLogin("agent@acme.example");
    expect((await apiCall<{ answered: boolean }>(agent, "GET", `/v1/tickets/${ticketId}/csat`)).answered).toBe(false);

    await page.getByLabel("Comment (optional)").fill("Fixed in minutes");
    await page.getByRole("button", { name: "Send my rating" }).click();
    await expect.poll(() => page.getByText("Thank you").count()).toBeGreaterThan(0);
    await checkScreen(page, "csat-thanks");
    // The same link again: answered.
    await page.goto(new URL(links[0] ?? "").pathname);
    await expect.poll(() => page.getByText("You rated").count()).toBeGreaterThan(0);
    expect(errors).toEqual([]);
  });

  test("with a delay the agent sees when the survey is scheduled", async () => {
    const admin = await apiLogin("admin@acme.example");
    const setDelay = async (delay_minutes: number) => {
      const read = await fetch(`${BASE_URL}/v1/settings/csat`, { headers: { authorization: `Bearer ${admin}` } });
      const current = (await read.json()) as Record<string, unknown>;
      const put = await fetch(`${BASE_URL}/v1/settings/csat`, {
        method: "PUT",
        headers: { authorization: `Bearer ${admin}`, "content-type": "application/json", "if-match": read.headers.get("etag") ?? "*" },
        body: JSON.stringify({ ...current, delay_minutes }),
      });
      if (!put.ok) throw new Error(`csat settings: ${put.status} ${await put.text()}`);
    };
    await setDelay(120);
    try {
      const person = await apiLogin("employee@acme.example");
      const later = (await apiCall<{ id: string }>(person, "POST", "/v1/tickets", { title: unique("Delayed survey") })).id;
      const agent = await apiLogin("agent@acme.example");
      for (const to of ["in_progress", "resolved"]) {
        await apiCall(agent, "POST", `/v1/tickets/${later}/transitions`, { to });
      }
      // The e-mail consumer writes the waiting survey; the ticket then says when it goes out.
      let due: string | null = null;
      for (let waited = 0; !due && waited < 30_000; waited += 500) {
        due = (await apiCall<{ csat_survey_scheduled_for: string | null }>(agent, "GET", `/v1/tickets/${later}`)).csat_survey_scheduled_for;
        if (!due) await new Promise((resolve) => setTimeout(resolve, 500));
      }
      expect(due).not.toBeNull();
      const minutes = (Date.parse(due ?? "") - Date.now()) / 60_000;
      expect(minutes).toBeGreaterThan(100);
      expect(minutes).toBeLessThanOrEqual(120);

      const { page, errors } = await openSession(browser);
      await signIn(page, "agent@acme.example");
      await page.goto(`/tickets/${later}`);
      const card = page.getByRole("region", { name: "Satisfaction" });
      await expect.poll(() => card.textContent(), { timeout: 20_000 }).toContain("Survey scheduled for");
      expect(await card.locator("time").getAttribute("datetime")).toBe(due);
      await checkScreen(page, "csat-agent-scheduled");
      // The requester sees no survey before the mail.
      expect((await apiCall<{ csat_survey_scheduled_for: string | null }>(person, "GET", `/v1/tickets/${later}`)).csat_survey_scheduled_for).toBeNull();
      expect(errors).toEqual([]);
    } finally {
      await setDelay(0);
    }
  });

  test("the agent reads the rating in the ticket's sidebar", async () => {
    const { page, errors } = await openSession(browser);
    await signIn(page, "agent@acme.example");
    await page.goto(`/tickets/${ticketId}`);
    const card = page.getByRole("region", { name: "Satisfaction" });
    await expect.poll(() => card.textContent()).toContain("4/5");
    expect(await card.textContent()).toContain("Fixed in minutes");
    await checkScreen(page, "csat-agent");
    expect(errors).toEqual([]);
  });
});
