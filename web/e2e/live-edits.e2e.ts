import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { LIVE_MS, waitLive, waitSubscribed, watchFrames, type Frame } from "./live-support";
import { apiCall, apiLogin, checkScreen, launch, openSession, signIn, unique, type Session } from "./support";

/**
 * Issue 20 item 7's acceptance: two agents, each in a browser context of their own, on the
 * same ticket. Each sees the other there (presence), and sees the other's field edits,
 * comment edits and deletions and files appear without a reload. Then the queue's
 * productivity tools (item 8): bulk actions, saved views, the shortcuts dialog.
 */

let browser: Browser;
let alex: Session;
let avery: Session;
let alexFrames: Frame[];
let averyFrames: Frame[];
let ticketId = "";
let ticketUrl = "";
const loads = new Map<Page, number>();
const title = unique("Projector flickers");

function countLoads(page: Page): void {
  loads.set(page, 0);
  page.on("load", () => loads.set(page, (loads.get(page) ?? 0) + 1));
}

beforeAll(async () => {
  browser = await launch();
  const admin = await apiLogin("admin@acme.example");
  const ticket = await apiCall<{ id: string }>(admin, "POST", "/v1/tickets", { title, description: "Room 4.12, since Monday." });
  ticketId = ticket.id;
  ticketUrl = `/tickets/${ticketId}`;
  alex = await openSession(browser);
  avery = await openSession(browser);
  alexFrames = watchFrames(alex.page);
  averyFrames = watchFrames(avery.page);
});

afterAll(async () => {
  await browser?.close();
});

// A join is pushed at once (the page's load included), well before the next 20 s heartbeat
// could repair a lost one: under JOIN_MS proves the push, not the beat.
const JOIN_MS = 10_000;

describe("live edits between two agents", () => {
  test("each sees the other on the ticket, viewing then editing", async () => {
    await signIn(alex.page, "agent@acme.example");
    await signIn(avery.page, "agent2@acme.example");
    for (const [s, frames] of [
      [alex, alexFrames],
      [avery, averyFrames],
    ] as const) {
      await s.page.goto(ticketUrl);
      await waitLive(s.page);
      await waitSubscribed(frames, `ticket:${ticketId}`);
      countLoads(s.page);
    }
    const hint = (p: Page) => p.getByTestId("presence-hint").textContent();
    await expect.poll(() => hint(alex.page), { timeout: JOIN_MS, interval: 100 }).toBe("Avery Agent is also viewing this ticket");
    await expect.poll(() => hint(avery.page), { timeout: JOIN_MS, interval: 100 }).toBe("Alex Agent is also viewing this ticket");
    await avery.page.getByRole("textbox", { name: "Reply" }).focus();
    await expect.poll(() => hint(alex.page), { timeout: LIVE_MS, interval: 100 }).toBe("Avery Agent is also editing this ticket");
    await checkScreen(alex.page, "agent-ticket-presence");
    await avery.page.getByRole("heading", { name: title }).click(); // focus leaves the field
    await expect.poll(() => hint(alex.page), { timeout: LIVE_MS, interval: 100 }).toBe("Avery Agent is also viewing this ticket");
    // Requesters never hear of presence: only staff frames carry it.
    expect(alex.errors).toEqual([]);
    expect(avery.errors).toEqual([]);
  });

  test("a field edit shows on the other agent's screen without a reload", async () => {
    await alex.page.getByLabel("Priority", { exact: true }).selectOption("critical");
    await alex.page.getByLabel("Tags").fill("projector, room-4");
    await alex.page.getByRole("button", { name: "Save changes" }).click();
    await expect.poll(() => avery.page.getByLabel("Priority", { exact: true }).inputValue(), { timeout: LIVE_MS, interval: 100 }).toBe("critical");
    await expect.poll(() => avery.page.getByLabel("Tags").inputValue(), { timeout: LIVE_MS, interval: 100 }).toBe("projector, room-4");
    const pushed = averyFrames.find((f) => f.type === "event" && f.event === "ticket.updated" && f.ticket_id === ticketId);
    expect((pushed?.data as { fields?: string[] } | undefined)?.fields).toEqual(["priority", "tags"]);
    expect(loads.get(avery.page)).toBe(0);
  });

  test("a comment, its edit and its deletion show on the other agent's screen without a reload", async () => {
    await alex.page.getByRole("textbox", { name: "Reply" }).fill("Swapping the HDMI cable first.");
    await alex.page.getByRole("button", { name: "Send reply" }).click();
    await expect.poll(() => avery.page.getByText("Swapping the HDMI cable first.").count(), { timeout: LIVE_MS, interval: 100 }).toBe(1);
    await alex.page.getByRole("button", { name: "Edit your message" }).click();
    await alex.page.getByRole("textbox", { name: "Edit your message" }).fill("Swapping the projector lamp instead.");
    await alex.page.getByRole("button", { name: "Save", exact: true }).click();
    await expect.poll(() => avery.page.getByText("Swapping the projector lamp instead.").count(), { timeout: LIVE_MS, interval: 100 }).toBe(1);
    expect(await avery.page.getByText("Swapping the HDMI cable first.").count()).toBe(0);
    await alex.page.getByRole("button", { name: "Delete this message" }).click();
    await alex.page.getByRole("dialog", { name: "Delete this message?" }).getByRole("button", { name: "Delete", exact: true }).click();
    await expect.poll(() => avery.page.getByText("This message was deleted.").count(), { timeout: LIVE_MS, interval: 100 }).toBe(1);
    expect(loads.get(avery.page)).toBe(0);
  });

  test("a file attached by one agent appears in the other's Files without a reload", async () => {
    await alex.page.getByTestId("file-input").setInputFiles({ name: "flicker.txt", mimeType: "text/plain", buffer: Buffer.from("50 Hz flicker\n".repeat(50)) });
    await expect.poll(() => alex.page.getByRole("button", { name: "Download flicker.txt" }).count(), { timeout: 15_000, interval: 200 }).toBe(1);
    await expect.poll(() => avery.page.getByRole("button", { name: "Download flicker.txt" }).count(), { timeout: LIVE_MS, interval: 100 }).toBe(1);
    expect(averyFrames.some((f) => f.type === "event" && f.event === "attachment.added" && f.ticket_id === ticketId)).toBe(true);
    expect(loads.get(avery.page)).toBe(0);
    expect(loads.get(alex.page)).toBe(0);
    expect(alex.errors).toEqual([]);
    expect(avery.errors).toEqual([]);
  });

  test("leaving the ticket clears the presence hint on the other screen", async () => {
    // In the app (the page unmounts: it says "left"), and by closing the page (the socket's
    // $disconnect says it for the connection).
    await avery.page.getByRole("link", { name: "← Queues" }).click();
    await expect.poll(() => alex.page.getByTestId("presence-hint").textContent(), { timeout: LIVE_MS, interval: 100 }).toBe("");
    await avery.page.goto(ticketUrl);
    await expect.poll(() => alex.page.getByTestId("presence-hint").textContent(), { timeout: JOIN_MS, interval: 100 }).toBe("Avery Agent is also viewing this ticket");
    await avery.page.goto("/queues/all");
    await expect.poll(() => alex.page.getByTestId("presence-hint").textContent(), { timeout: LIVE_MS, interval: 100 }).toBe("");
  });
});

describe("the queue's productivity tools", () => {
  test("bulk: select rows (mouse and keyboard), add a tag, see per-row results", async () => {
    const admin = await apiLogin("admin@acme.example");
    const tag = unique("bulk").toLowerCase();
    const titles = [unique("Bulk one"), unique("Bulk two")];
    for (const t of titles) await apiCall(admin, "POST", "/v1/tickets", { title: t });
    const { page } = avery;
    await page.goto("/queues/all?q=Bulk");
    for (const t of titles) await expect.poll(() => page.getByTestId("queue-rows").textContent(), { timeout: 10_000 }).toContain(t);
    const rowOf = (t: string) => page.locator("tr", { hasText: t });
    await rowOf(titles[0]!).getByRole("checkbox").check();
    await rowOf(titles[1]!).locator("[data-row-link]").focus();
    await page.keyboard.press("x");
    await expect.poll(() => page.getByTestId("bulk-bar").textContent()).toContain("2 selected");
    await page.getByLabel("Bulk action", { exact: true }).selectOption("add_tags");
    await page.getByLabel("Tags").fill(tag);
    await checkScreen(page, "queue-bulk-bar");
    await page.getByRole("button", { name: "Apply to 2" }).click();
    await expect.poll(() => page.getByTestId("bulk-result").textContent(), { timeout: 10_000 }).toContain("2 done");
    const tagged = await apiCall<{ items: { title: string }[] }>(admin, "GET", `/v1/tickets?tag=${tag}`);
    expect(tagged.items.map((i) => i.title).sort()).toEqual([...titles].sort());
    expect(avery.errors).toEqual([]);
  });

  test("saved views: save the current filters, find them in the sidebar, open and clear", async () => {
    const { page } = avery;
    const name = unique("Critical open");
    await page.goto("/queues/all?priority=critical");
    await page.getByLabel("Save these filters as").fill(name);
    await page.getByRole("button", { name: "Save view" }).click();
    const link = page.getByTestId("saved-views").getByRole("link", { name });
    await expect.poll(() => link.count(), { timeout: 10_000 }).toBe(1);
    await page.goto("/queues/mine");
    await page.getByTestId("saved-views").getByRole("link", { name }).click();
    await expect.poll(() => page.getByTestId("active-view").textContent()).toContain(`Saved view: ${name}`);
    await expect.poll(() => page.getByTestId("queue-rows").textContent(), { timeout: 10_000 }).toContain(title);
    await checkScreen(page, "queue-saved-view");
    await page.getByRole("button", { name: `Delete view ${name}` }).click();
    await expect.poll(() => page.getByTestId("saved-views").getByRole("link", { name }).count()).toBe(0);
    expect(avery.errors).toEqual([]);
  });

  test("? opens the keyboard shortcuts, Escape closes them", async () => {
    const { page } = avery;
    await page.goto("/queues/all");
    await page.getByRole("heading", { name: "Queues" }).click();
    await page.keyboard.press("?");
    const dialog = page.getByRole("dialog", { name: "Keyboard shortcuts" });
    await expect.poll(() => dialog.isVisible()).toBe(true);
    expect(await dialog.getByText("Select or unselect the ticket for a bulk action").count()).toBe(1);
    await checkScreen(page, "shortcuts-help");
    await page.keyboard.press("Escape");
    await expect.poll(() => dialog.isVisible()).toBe(false);
    expect(avery.errors).toEqual([]);
  });
});
