import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { LIVE_MS, sleep, unread, userId, waitLive, waitSubscribed, watchFrames, watchListCalls, type Frame } from "./live-support";
import { apiCall, apiLogin, checkScreen, launch, openSession, signIn, unique, type Session } from "./support";

/**
 * The scenario of issue 9, live: nothing here reloads a page or waits for a poll. While
 * the socket is open the app does not poll (queues keep a 2-minute safety net), so what
 * shows up within LIVE_MS came from a push; the frames each page received are checked too.
 */

let browser: Browser;
let employee: Session;
let agent: Session;
let agent2: Session;
let employeeFrames: Frame[];
let agentFrames: Frame[];
let agent2Frames: Frame[];
let agentListCalls: number[];
let teamId = "";
let ticketId = "";
let ticketUrl = "";
const categoryName = unique("Live hardware");
const title = unique("Docking station is dead");
const reply = "Thanks, we are on it: try another USB-C port meanwhile.";
const note = "Firmware 2.1 bricks these docks. Do not tell them yet.";

beforeAll(async () => {
  browser = await launch();
  // A team the agents belong to, and a category that routes to it: new requests in it are
  // announced on the team's channel.
  const manager = await apiLogin("manager@acme.example");
  const team = await apiCall<{ id: string }>(manager, "POST", "/v1/teams", { name: unique("Live desk") });
  teamId = team.id;
  for (const email of ["agent@acme.example", "agent2@acme.example"]) {
    await apiCall(manager, "PUT", `/v1/teams/${teamId}/members/${await userId(manager, email)}`);
  }
  const category = await apiCall<{ id: string }>(manager, "POST", "/v1/categories", { name: categoryName, description: "Docks and screens", default_team_id: teamId });
  // Service levels for this category only: the badges have something to show and refresh.
  await apiCall(manager, "POST", "/v1/sla-policies", {
    name: unique("Live docks SLA"),
    position: 100 + Math.floor(Math.random() * 9000),
    conditions: { category_ids: [category.id] },
    first_response_minutes: 60,
    next_response_minutes: 120,
    resolution_minutes: 480,
  });
  employee = await openSession(browser);
  agent = await openSession(browser);
  agent2 = await openSession(browser);
  employeeFrames = watchFrames(employee.page);
  agentFrames = watchFrames(agent.page);
  agent2Frames = watchFrames(agent2.page);
  agentListCalls = watchListCalls(agent.page);
});

afterAll(async () => {
  await browser?.close();
});

describe("live, without reloads", () => {
  test("a new request appears in the agent's Unassigned queue as it is filed, not at the next poll", async () => {
    await signIn(agent.page, "agent@acme.example");
    await agent.page.goto("/queues/unassigned");
    await waitLive(agent.page);
    const ack = await waitSubscribed(agentFrames, `team:${teamId}`);

    await signIn(employee.page, "employee@acme.example");
    await employee.page.goto("/requests/new");
    await employee.page.getByRole("radio", { name: new RegExp(categoryName) }).check();
    await employee.page.getByRole("button", { name: "Continue" }).click();
    await employee.page.getByLabel("Subject").fill(title);
    await employee.page.getByLabel("Description").fill("No picture on either screen since this morning.");
    await employee.page.getByRole("button", { name: "Submit request" }).click();
    await employee.page.waitForURL("**/tickets/*");
    const filed = Date.now();
    ticketUrl = new URL(employee.page.url()).pathname;
    ticketId = ticketUrl.split("/").at(-1) ?? "";

    await expect.poll(() => agent.page.getByTestId("queue-rows").textContent(), { timeout: LIVE_MS, interval: 100 }).toContain(title);
    console.log(`new request in Unassigned ${Date.now() - filed} ms after it was filed`);
    // It came by the team channel, and the queue had not polled since it subscribed.
    const pushed = agentFrames.find((f) => f.type === "event" && f.event === "ticket.created" && f.ticket_id === ticketId);
    expect(pushed?.channels).toContain(`team:${teamId}`);
    expect(agentListCalls.filter((t) => t > ack.at + 1_000 && t < (pushed?.at ?? 0))).toEqual([]);
    expect(agent.errors).toEqual([]);
    expect(employee.errors).toEqual([]);
  });

  test("the requester sees a status change live", async () => {
    await waitLive(employee.page);
    await waitSubscribed(employeeFrames, `ticket:${ticketId}`);
    await agent.page.locator("[data-row-link]", { hasText: title }).click();
    await agent.page.waitForURL(`**${ticketUrl}`);
    await waitSubscribed(agentFrames, `ticket:${ticketId}`);
    await agent.page.getByRole("button", { name: "Take it" }).click();
    await expect.poll(() => agent.page.getByRole("button", { name: "Take it" }).count()).toBe(0);
    await agent.page.getByLabel("Status", { exact: true }).selectOption("in_progress");
    await agent.page.getByRole("button", { name: "Save changes" }).click();
    await expect.poll(() => employee.page.getByText("In progress").count(), { timeout: LIVE_MS, interval: 100 }).toBeGreaterThan(0);
  });

  test("the requester sees the agent typing a reply, then the reply, without a reload", async () => {
    const before = await unread(employee.page);
    await agent.page.getByRole("textbox", { name: "Reply" }).fill(reply);
    await expect
      .poll(() => employee.page.getByTestId("typing-indicator").textContent(), { timeout: LIVE_MS, interval: 100 })
      .toBe("Alex Agent is typing…");
    await checkScreen(employee.page, "request-detail-typing");

    await agent.page.getByRole("button", { name: "Send reply" }).click();
    await expect.poll(() => employee.page.getByTestId("public-reply").count(), { timeout: LIVE_MS, interval: 100 }).toBe(1);
    expect(await employee.page.getByText(reply).count()).toBe(1);
    // Their message is here, so they are no longer typing it.
    await expect.poll(() => employee.page.getByTestId("typing-indicator").textContent(), { timeout: LIVE_MS }).toBe("");
    // The reply is in the requester's inbox too: the bell counts it without a reload.
    await expect.poll(() => unread(employee.page), { timeout: 8_000, interval: 200 }).toBeGreaterThan(before);
    expect(employee.errors).toEqual([]);
  });

  test("staff see an internal note being written and then the note; the requester sees neither", async () => {
    await signIn(agent2.page, "agent2@acme.example");
    await agent2.page.goto(ticketUrl);
    await waitLive(agent2.page);
    await waitSubscribed(agent2Frames, `ticket:${ticketId}`);
    await sleep(2_300); // the server takes one typing frame per ticket every 2 s

    await agent.page.getByRole("tab", { name: "Internal note" }).click();
    await agent.page.getByRole("textbox", { name: "Internal note" }).fill(note);
    await expect
      .poll(() => agent2.page.getByTestId("typing-indicator").textContent(), { timeout: LIVE_MS, interval: 100 })
      .toBe("Alex Agent is writing an internal note…");
    expect(await employee.page.getByTestId("typing-indicator").textContent()).toBe("");
    await checkScreen(agent2.page, "agent-ticket-typing-note");

    await agent.page.getByRole("button", { name: "Add internal note" }).click();
    await expect.poll(() => agent2.page.getByTestId("internal-note").count(), { timeout: LIVE_MS, interval: 100 }).toBe(1);
    await sleep(1_500); // time for anything that would leak to arrive
    expect(await employee.page.getByTestId("internal-note").count()).toBe(0);
    expect(await employee.page.getByText(note).count()).toBe(0);
    expect(await employee.page.getByTestId("typing-indicator").textContent()).toBe("");
    // Not hidden by the page: it never reached the requester's socket.
    expect(employeeFrames.filter((f) => f.type === "typing" && f.visibility !== "public")).toEqual([]);
    expect(employeeFrames.filter((f) => f.type === "event" && String(f.event).startsWith("comment.internal"))).toEqual([]);
    expect(agent.errors).toEqual([]);
    expect(agent2.errors).toEqual([]);
  });

  test("the agent sees the requester typing and their answer, and the bell counts it", async () => {
    const before = await unread(agent.page);
    await employee.page.getByRole("textbox", { name: "Reply" }).fill("Tried another port: still nothing.");
    await expect
      .poll(() => agent.page.getByTestId("typing-indicator").textContent(), { timeout: LIVE_MS, interval: 100 })
      .toBe("Erin Employee is typing…");
    const badges = () => agent.page.getByTestId("sla-badges").textContent();
    expect(await badges()).toContain("First response met");
    expect(await badges()).not.toContain("Next response");
    await employee.page.getByRole("button", { name: "Send reply" }).click();
    await expect.poll(() => agent.page.getByText("Tried another port").count(), { timeout: LIVE_MS, interval: 100 }).toBe(1);
    // Their question starts the next-response clock: the badges follow the push, in words.
    await expect.poll(badges, { timeout: LIVE_MS, interval: 100 }).toMatch(/Next response due in \d/);
    await expect.poll(() => agent2.page.getByTestId("sla-badges").textContent(), { timeout: LIVE_MS, interval: 100 }).toContain("Next response due in");
    expect(await badges()).not.toContain("next_response");
    await expect.poll(() => unread(agent.page), { timeout: 8_000, interval: 200 }).toBeGreaterThan(before);
    expect(agent.errors).toEqual([]);
  });

  test("the agent edits, then deletes, their reply: the requester's screen follows live", async () => {
    const { page } = agent;
    await page.getByRole("button", { name: "Edit your message" }).click();
    await page.getByRole("textbox", { name: "Edit your message" }).fill("Thanks, we are on it: a new dock is on its way.");
    await page.getByRole("button", { name: "Save", exact: true }).click();
    await expect
      .poll(() => employee.page.getByText("a new dock is on its way").count(), { timeout: LIVE_MS, interval: 100 })
      .toBe(1);
    await expect.poll(() => employee.page.getByText("(edited)").count()).toBe(1);

    await page.getByRole("button", { name: "Delete this message" }).click();
    const dialog = page.getByRole("dialog", { name: "Delete this message?" });
    await expect.poll(() => dialog.isVisible()).toBe(true);
    await checkScreen(page, "agent-delete-comment-dialog");
    await dialog.getByRole("button", { name: "Delete", exact: true }).click();
    await expect
      .poll(() => employee.page.getByText("This message was deleted.").count(), { timeout: LIVE_MS, interval: 100 })
      .toBe(1);
    expect(await employee.page.getByText("a new dock is on its way").count()).toBe(0);
    // The requester cannot edit or delete what the agent wrote; their own message they can.
    expect(await employee.page.getByRole("button", { name: "Edit your message" }).count()).toBe(1);
    expect(agent.errors).toEqual([]);
    expect(employee.errors).toEqual([]);
  });

  test("the requester's notification centre: the latest in the bell, mark all read clears the badge", async () => {
    const { page, errors } = employee;
    expect(await unread(page)).toBeGreaterThan(0);
    await page.getByTestId("notification-bell").click();
    await expect.poll(() => page.getByTestId("notification-item").count()).toBeGreaterThan(0);
    expect(await page.getByTestId("notification-item").first().textContent()).toContain("Unread");
    await checkScreen(page, "notifications-menu");
    await page.getByRole("menuitem", { name: "Mark all as read" }).click();
    await expect.poll(() => unread(page)).toBe(0);
    expect(await page.getByTestId("unread-badge").count()).toBe(0);

    await page.goto("/notifications");
    await expect.poll(() => page.getByTestId("notification-row").count()).toBeGreaterThan(0);
    expect(await page.getByText("You are all caught up.").count()).toBe(1);
    await checkScreen(page, "notifications-page");
    expect(errors).toEqual([]);
  });

  test("the agent marks one notification read on the page, then all of them", async () => {
    const { page, errors } = agent;
    await page.goto("/notifications");
    await page.getByRole("button", { name: "Unread", exact: true }).click();
    await expect.poll(() => page.getByTestId("notification-row").count()).toBeGreaterThan(0);
    await checkScreen(page, "notifications-page-unread");
    const before = await unread(page);
    await page.getByRole("button", { name: /^Mark as read: / }).first().click();
    await expect.poll(() => unread(page)).toBe(before - 1);
    await page.getByRole("button", { name: "Mark all as read" }).click();
    await expect.poll(() => unread(page)).toBe(0);
    await expect.poll(() => page.getByText("Nothing unread").count()).toBe(1);
    expect(errors).toEqual([]);
  });
});
