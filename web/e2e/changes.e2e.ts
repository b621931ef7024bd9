import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { apiCall, apiLogin, checkScreen, launch, openSession, signIn, unique, type Session } from "./support";
import { LIVE_MS, waitSubscribed, watchFrames } from "./live-support";

let browser: Browser;
let agent: Session;
let manager: Session;
let managerToken = "";
let ticketId = "";
const db = unique("Orders DB");
const app = unique("Orders app");
const title = unique("Upgrade the orders app");
const other = unique("Patch the orders database");
const ids: Record<string, string> = {};
// The 15th of next month, 10:00-12:00 (the browser's and this process's time zone).
const now = new Date();
const start = new Date(now.getFullYear(), now.getMonth() + 1, 15, 10, 0);
const end = new Date(now.getFullYear(), now.getMonth() + 1, 15, 12, 0);
const local = (d: Date) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}T${String(d.getHours()).padStart(2, "0")}:00`;

beforeAll(async () => {
  browser = await launch();
  managerToken = await apiLogin("manager@acme.example");
  const classes = await apiCall<{ items: { id: string; key: string }[] }>(managerToken, "GET", "/v1/ci-classes?limit=100");
  const software = classes.items.find((c) => c.key === "software")?.id ?? "";
  for (const name of [db, app]) {
    ids[name] = (await apiCall<{ id: string }>(managerToken, "POST", "/v1/cis", { class_id: software, name, state: "deployed" })).id;
  }
  await apiCall(managerToken, "POST", `/v1/cis/${ids[app]}/relationships`, { type: "depends_on", target_id: ids[db] });
  // The CAB: the tenant's managers approve normal changes.
  const flow = await apiCall<{ id: string }>(managerToken, "POST", "/v1/approvals/flows", {
    name: unique("CAB"),
    stages: [{ name: "CAB", approvers: { role: "manager" } }],
  });
  const settings = await apiCall<{ version: number }>(managerToken, "GET", "/v1/changes/settings");
  await apiCall(managerToken, "PATCH", "/v1/changes/settings", { cab_flow_id: flow.id, version: settings.version });
  // Another change on the database in the same window: the new one collides with it.
  // ... linked to the incident that asks for it.
  const employee = await apiLogin("employee@acme.example");
  ticketId = (await apiCall<{ id: string }>(employee, "POST", "/v1/tickets", { title: unique("Orders are slow"), description: "Since Monday" })).id;
  const agentToken = await apiLogin("agent@acme.example");
  await apiCall(agentToken, "POST", "/v1/changes", {
    title: other,
    ci_ids: [ids[db]],
    ticket_ids: [ticketId],
    planned_start: start.toISOString(),
    planned_end: end.toISOString(),
  });
  agent = await openSession(browser);
  manager = await openSession(browser);
});

afterAll(async () => {
  await browser?.close();
});

describe("change management", () => {
  test("an agent raises a change, sees its collision, assesses the risk and submits it to the CAB", async () => {
    const { page, errors } = agent;
    await signIn(page, "agent@acme.example");
    await page.getByRole("link", { name: "Changes", exact: true }).click();
    await page.waitForURL("**/changes");
    await checkScreen(page, "changes-list");
    await page.getByRole("link", { name: "New change" }).click();
    await page.getByLabel("Title").fill(title);
    await page.getByLabel("Planned start").fill(local(start));
    await page.getByLabel("Planned end").fill(local(end));
    await page.getByLabel("Backout plan").fill("Redeploy the previous release");
    await checkScreen(page, "changes-new");
    await page.getByRole("button", { name: "Create change" }).click();
    await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toContain(title);
    await page.getByLabel("Add a configuration item").selectOption({ label: app });
    await page.getByRole("button", { name: "Add", exact: true }).click();
    await expect.poll(() => page.getByTestId("change-cis").textContent()).toContain(app);
    await expect.poll(() => page.getByTestId("change-warnings").textContent()).toContain(other);
    for (const answer of ["A team or a site", "Partly", "Yes, in minutes", "Often"]) {
      await page.getByLabel(answer, { exact: true }).check();
    }
    await page.getByRole("button", { name: "Save the assessment" }).click();
    await expect.poll(() => page.getByTestId("change-risk").textContent()).toBe("Medium risk (5)");
    await checkScreen(page, "changes-detail");
    await page.getByRole("button", { name: "Move to Assessment" }).click();
    await page.getByRole("button", { name: "Move to Approval" }).click();
    await expect.poll(() => page.getByRole("link", { name: "Approval: Pending" }).count()).toBe(1);
    expect(errors).toEqual([]);
  });

  test("the manager approves it from the inbox; the change is scheduled and on the calendar", async () => {
    const { page, errors } = manager;
    await signIn(page, "manager@acme.example");
    await page.goto("/approvals");
    await page.getByRole("link", { name: new RegExp(title) }).first().click();
    await page.getByRole("button", { name: "Approve" }).click();
    await expect.poll(() => page.getByText("Approved").count()).toBeGreaterThan(0);
    const { page: agentPage } = agent;
    await agentPage.reload();
    await expect.poll(() => agentPage.getByText("Scheduled").count()).toBeGreaterThan(0);
    await page.goto("/changes/calendar");
    await page.getByRole("button", { name: "Next month" }).click();
    await expect.poll(() => page.getByTestId("calendar-rows").textContent()).toContain(title);
    await checkScreen(page, "changes-calendar");
    expect(errors).toEqual([]);
  });

  test("the incident's page shows the change linked to it", async () => {
    const { page, errors } = agent;
    await page.goto(`/tickets/${ticketId}`);
    await expect.poll(() => page.getByTestId("ticket-changes").textContent()).toContain(other);
    await checkScreen(page, "changes-on-ticket");
    expect(errors).toEqual([]);
  });

  test("a manager adds a blackout window in the change settings", async () => {
    const { page, errors } = manager;
    const freeze = unique("Freeze");
    await page.goto("/changes/settings");
    await page.getByLabel("Name", { exact: true }).fill(freeze);
    const from = new Date(now.getFullYear() + 2, 0, 2, 0, 0);
    const to = new Date(now.getFullYear() + 2, 0, 3, 0, 0);
    await page.getByLabel("Starts").fill(local(from));
    await page.getByLabel("Ends").fill(local(to));
    await page.getByRole("button", { name: "Add blackout window" }).click();
    await expect.poll(() => page.getByTestId("blackout-rows").textContent()).toContain(freeze);
    await checkScreen(page, "changes-settings");
    expect(errors).toEqual([]);
  });

  test("a manager adds a weekly blackout in a named time zone; the calendar shows its occurrences", async () => {
    const { page, errors } = manager;
    const name = unique("Saturday batch");
    const first = new Date(now.getFullYear(), now.getMonth() + 1, 1);
    const day = (d: Date) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
    await page.goto("/changes/settings");
    const form = page.getByRole("form", { name: "Add blackout window" });
    await form.getByLabel("Name", { exact: true }).fill(name);
    await form.getByLabel("Repeats").selectOption({ label: "Weekly" });
    await form.getByLabel("Saturday").check();
    await form.getByLabel("Start time").fill("22:00");
    await form.getByLabel("Duration in minutes").fill("60");
    await form.getByLabel("First day").fill(day(first));
    await form.getByLabel("Last day (optional)").fill(day(new Date(first.getFullYear(), first.getMonth(), 7)));
    // A zone that does not exist: the server's error sits beside the input.
    await form.getByLabel("Time zone").fill("Mars/Olympus");
    await form.getByRole("button", { name: "Add blackout window" }).click();
    await expect.poll(() => form.getByLabel("Time zone").getAttribute("aria-invalid")).toBe("true");
    await checkScreen(page, "changes-blackout-recurring-error");
    await form.getByLabel("Time zone").fill("Europe/London");
    await form.getByRole("button", { name: "Add blackout window" }).click();
    await expect.poll(() => page.getByTestId("blackout-rows").textContent()).toContain(`${name}: Every Saturday, 22:00 for 1 h (Europe/London)`);
    await checkScreen(page, "changes-blackout-recurring");
    await page.goto("/changes/calendar");
    await page.getByRole("button", { name: "Next month" }).click();
    await expect.poll(() => page.getByTestId("calendar-rows").textContent()).toContain(name);
    expect(await page.getByTestId("calendar-rows").textContent()).toContain("repeats");
    await page.goto("/changes/settings");
    await page.getByRole("button", { name: `Delete ${name}` }).click();
    await expect.poll(() => page.getByTestId("blackout-rows").textContent()).not.toContain(name);
    expect(errors).toEqual([]);
  });

  test("a manager edits a blackout window: a field error sits by its input, a stale save keeps the edits", async () => {
    const { page, errors } = manager;
    const name = unique("Cutover");
    const renamed = unique("Cutover freeze");
    const from = new Date(now.getFullYear() + 2, 1, 2, 0, 0);
    const to = new Date(now.getFullYear() + 2, 1, 3, 0, 0);
    const made = await apiCall<{ id: string }>(managerToken, "POST", "/v1/changes/blackouts", { name, starts_at: from.toISOString(), ends_at: to.toISOString() });
    await page.goto("/changes/settings");
    await page.getByRole("button", { name: `Edit ${name}` }).click();
    const form = page.getByRole("form", { name: `Edit blackout window ${name}` });
    await form.getByLabel("Name", { exact: true }).fill(renamed);
    // Ends before it starts: the server's 422 names ends_at, shown beside the input.
    await form.getByLabel("Ends").fill(local(new Date(now.getFullYear() + 2, 1, 1, 0, 0)));
    await form.getByRole("button", { name: "Save blackout window" }).click();
    await expect.poll(() => form.getByLabel("Ends").getAttribute("aria-invalid")).toBe("true");
    await checkScreen(page, "changes-blackout-edit-error");
    await form.getByLabel("Ends").fill(local(new Date(now.getFullYear() + 2, 1, 4, 0, 0)));
    // Someone else saves first: the save meets the 412, the edits stay on top of theirs.
    await apiCall(managerToken, "PATCH", `/v1/changes/blackouts/${made.id}`, { name: `${name} (theirs)`, version: 1 });
    await form.getByRole("button", { name: "Save blackout window" }).click();
    await expect.poll(() => form.getByText("This was changed by someone else").count()).toBe(1);
    expect(await form.getByLabel("Name", { exact: true }).inputValue()).toBe(renamed);
    await checkScreen(page, "changes-blackout-edit-stale");
    await form.getByRole("button", { name: "Save blackout window" }).click();
    await expect.poll(() => page.getByTestId("blackout-rows").textContent()).toContain(renamed);
    const after = page.getByRole("form", { name: `Edit blackout window ${renamed}` });
    await expect.poll(() => after.getByRole("status").textContent()).toContain("Blackout window saved.");
    const saved = await apiCall<{ items: { id: string; name: string; version: number }[] }>(managerToken, "GET", "/v1/changes/blackouts?limit=100");
    expect(saved.items.find((b) => b.id === made.id)).toMatchObject({ name: renamed, version: 3 });
    await apiCall(managerToken, "DELETE", `/v1/changes/blackouts/${made.id}`);
    expect(errors).toEqual([]);
  });

  test("a manager edits the risk questionnaire (a stale save keeps the draft; a field error sits by its input) and a change's risk form asks the new question", async () => {
    const { page, errors } = manager;
    const question = unique("Is there a vendor on call");
    await page.goto("/changes/settings");
    await expect.poll(() => page.getByLabel("Question 1 text").count()).toBe(1);
    const before = await page.getByTestId("question-rows").locator(":scope > li").count();
    const n = before + 1;
    await page.getByRole("button", { name: "Add a question" }).click();
    await page.getByLabel(`Question ${n} text`).fill(question);
    await page.getByLabel(`Option 1 of question ${n} label`).fill("Yes, on the bridge");
    await page.getByLabel(`Option 1 of question ${n} score`).fill("0");
    await page.getByLabel(`Option 2 of question ${n} label`).fill("No vendor support");
    await page.getByLabel(`Option 2 of question ${n} score`).fill("2");
    // Keyboard alone: the new question moves up one place and back.
    await page.getByRole("button", { name: `Move question ${n} up` }).focus();
    await page.keyboard.press("Enter");
    await expect.poll(() => page.getByLabel(`Question ${n - 1} text`).inputValue()).toBe(question);
    await page.getByRole("button", { name: `Move question ${n - 1} down` }).focus();
    await page.keyboard.press("Enter");
    await expect.poll(() => page.getByLabel(`Question ${n} text`).inputValue()).toBe(question);
    // Someone else saves first: our save meets the 412 and what we typed stays.
    const current = await apiCall<{ version: number; high_from: number }>(managerToken, "GET", "/v1/changes/settings");
    await apiCall(managerToken, "PATCH", "/v1/changes/settings", { high_from: current.high_from + 1, version: current.version });
    await page.getByRole("button", { name: "Save the questionnaire" }).click();
    await expect.poll(() => page.getByText("Someone else changed the settings").count()).toBe(1);
    expect(await page.getByLabel(`Question ${n} text`).inputValue()).toBe(question);
    await page.getByRole("button", { name: "Load the latest" }).click();
    await expect.poll(() => page.getByTestId("question-rows").locator(":scope > li").count()).toBe(before);
    // A threshold the server refuses: its error beside the input, nothing saved.
    await page.getByRole("button", { name: "Add a question" }).click();
    await page.getByLabel(`Question ${n} text`).fill(question);
    await page.getByLabel(`Option 1 of question ${n} label`).fill("Yes, on the bridge");
    await page.getByLabel(`Option 2 of question ${n} label`).fill("No vendor support");
    await page.getByLabel(`Option 2 of question ${n} score`).fill("2");
    await page.getByLabel("High risk from score").fill("1");
    await page.getByRole("button", { name: "Save the questionnaire" }).click();
    await expect.poll(() => page.getByLabel("High risk from score").getAttribute("aria-invalid")).toBe("true");
    expect(await page.getByLabel("High risk from score").getAttribute("aria-describedby")).toBeTruthy();
    await checkScreen(page, "changes-questionnaire-error");
    await page.getByLabel("High risk from score").fill("8");
    await page.getByRole("button", { name: "Save the questionnaire" }).click();
    await expect.poll(() => page.getByText("Questionnaire saved").count()).toBe(1);
    const saved = await apiCall<{ questions: { text: string; options: { label: string; weight: number }[] }[]; high_from: number }>(managerToken, "GET", "/v1/changes/settings");
    expect(saved.high_from).toBe(8);
    expect(saved.questions.at(-1)).toMatchObject({ text: question, options: [{ label: "Yes, on the bridge", weight: 0 }, { label: "No vendor support", weight: 2 }] });
    await checkScreen(page, "changes-questionnaire");
    // A new change's risk form asks it.
    const draft = await apiCall<{ id: string }>(managerToken, "POST", "/v1/changes", { title: unique("Rotate the vendor keys") });
    await page.goto(`/changes/${draft.id}`);
    await expect.poll(() => page.getByText(question).count()).toBe(1);
    await page.getByLabel("No vendor support", { exact: true }).check();
    expect(errors).toEqual([]);
  });

  test("a manager edits a standard-change template's plan and deactivates it", async () => {
    const { page, errors } = manager;
    const name = unique("Restart the print spooler");
    const tpl = await apiCall<{ id: string }>(managerToken, "POST", "/v1/changes/templates", { name, implementation_plan: "Restart it" });
    await page.goto("/changes/settings");
    await page.getByRole("button", { name: `Edit ${name}` }).click();
    const form = page.getByRole("form", { name: `Edit template ${name}` });
    await form.getByLabel("Backout plan").fill("Start the old spooler");
    await form.getByLabel("Test plan").fill("Print a test page");
    await checkScreen(page, "changes-template-edit");
    await form.getByRole("button", { name: "Save template" }).click();
    await expect.poll(async () => (await apiCall<{ backout_plan: string }>(managerToken, "GET", `/v1/changes/templates/${tpl.id}`)).backout_plan).toBe("Start the old spooler");
    await page.getByRole("button", { name: `Deactivate ${name}` }).click();
    await expect.poll(() => page.getByTestId("template-rows").textContent()).toContain(`${name} (inactive)`);
    await page.getByRole("button", { name: `Delete ${name}` }).click();
    await expect.poll(() => page.getByTestId("template-rows").textContent()).not.toContain(name);
    expect(errors).toEqual([]);
  });

  test("an agent searches the change list by words of the title or description and by number", async () => {
    const { page, errors } = agent;
    await page.goto("/changes");
    const search = page.getByLabel("Search", { exact: true });
    const rows = page.getByTestId("change-rows");
    // Two words of the title, any case, in any order.
    const word = title.split("-").at(-1) ?? "";
    await search.fill(`${word.toUpperCase()} upgrade`);
    await expect.poll(async () => (await rows.locator("tr").allTextContents()).map((r) => r.includes(title))).toEqual([true]);
    const number = (await rows.locator("td").first().textContent()) ?? "";
    await search.fill(word.slice(0, 2));
    await expect.poll(() => page.getByText("Type a change number or a word of 3 letters or more.").count()).toBe(1);
    await search.fill(`${word} nosuchword`);
    await expect.poll(() => page.getByText("No change matches").count()).toBe(1);
    await checkScreen(page, "changes-search-empty");
    await search.fill(number);
    await expect.poll(() => rows.locator("tr").count()).toBe(1);
    expect(await rows.textContent()).toContain(title);
    await checkScreen(page, "changes-search");
    expect(errors).toEqual([]);
  });

  test("the change list and a change's page follow changes made elsewhere, live", async () => {
    const watcher = await openSession(browser);
    const { page, errors } = watcher;
    const frames = watchFrames(page);
    await signIn(page, "agent@acme.example");
    await page.goto("/changes");
    await waitSubscribed(frames, "changes");
    // Someone else raises a change: it appears at the top of the list without a reload.
    const fresh = unique("Replace the load balancer");
    const made = await apiCall<{ id: string; version: number }>(managerToken, "POST", "/v1/changes", { title: fresh });
    await expect.poll(() => page.getByTestId("change-rows").locator("tr").first().textContent(), { timeout: LIVE_MS }).toContain(fresh);
    // ... and moves it while its page is open: the state follows.
    const joins = () => frames.filter((f) => f.type === "ack" && f.action === "subscribe" && f.channel === "changes").length;
    const before = joins();
    await page.getByRole("link", { name: fresh }).click();
    await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toContain(fresh);
    // The list left the room and the page joined it again.
    await expect.poll(joins).toBeGreaterThan(before);
    await apiCall(managerToken, "POST", `/v1/changes/${made.id}/transitions`, { state: "assessment", version: made.version });
    await expect.poll(() => page.getByRole("button", { name: "Move to Approval" }).count(), { timeout: LIVE_MS }).toBe(1);
    expect(frames.some((f) => f.type === "event" && f.event === "change.state_changed" && f.change_id === made.id)).toBe(true);
    expect(errors).toEqual([]);
    await watcher.context.close();
  });

  test("an agent links a change to a ticket from the ticket page and unlinks it", async () => {
    const { page, errors } = agent;
    const employee = await apiLogin("employee@acme.example");
    const ticket = (await apiCall<{ id: string }>(employee, "POST", "/v1/tickets", { title: unique("Orders page errors"), description: "Since the release" })).id;
    const listed = await apiCall<{ items: { number: number; title: string }[] }>(managerToken, "GET", "/v1/changes?limit=50");
    const number = listed.items.find((c) => c.title === title)?.number;
    await page.goto(`/tickets/${ticket}`);
    await expect.poll(() => page.getByText("No change is linked to this ticket.").count()).toBe(1);
    await page.getByRole("button", { name: "Link a change" }).click();
    await expect.poll(() => page.getByLabel("Change to link").locator("option").count()).toBeGreaterThan(1);
    // The search narrows the choice to the change its number names.
    await page.getByLabel("Find a change").fill(`CHG-${number}`);
    await expect.poll(() => page.getByLabel("Change to link").locator("option").count()).toBe(2);
    await page.getByLabel("Change to link").selectOption({ label: `CHG-${number}: ${title}` });
    await page.getByRole("button", { name: "Link", exact: true }).click();
    await expect.poll(() => page.getByTestId("ticket-changes").textContent()).toContain(title);
    await checkScreen(page, "changes-link-on-ticket");
    await page.getByRole("button", { name: `Unlink CHG-${number}` }).click();
    await expect.poll(() => page.getByText("No change is linked to this ticket.").count()).toBe(1);
    expect(errors).toEqual([]);
  });
});
