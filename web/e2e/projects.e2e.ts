import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { apiCall, apiLogin, checkScreen, launch, openSession, signIn, unique, type Session } from "./support";

/**
 * Projects and tasks (issue 24): the board (a keyboard move, a blocked move moved anyway, a
 * stale move reloaded, drag and drop), the timeline (critical path, arrows, the table, a
 * rescheduling preview), a task's dependency that would close a cycle, a task made
 * from a ticket, a change's plan made into tasks from its page, a task's notification in
 * the assignee's bell that opens the task, the settings (columns reordered by keyboard, a
 * member added through the person picker), a task's files and My tasks.
 */

interface Task {
  id: string;
  start_date?: string | null;
  key: string;
  version: number;
  column_id: string;
}
interface Project {
  id: string;
  key: string;
  columns: { id: string; name: string; category: string }[];
}

let browser: Browser;
let manager: Session;
let token = "";
let project: Project;
const tasks: Record<string, Task> = {};
const name = unique("Network refresh");
const key = `N${Math.random().toString(36).slice(2, 7).toUpperCase().replace(/[^A-Z0-9]/g, "X")}`;
const today = new Date().toISOString().slice(0, 10);

async function task(title: string, estimate: number): Promise<Task> {
  return apiCall<Task>(token, "POST", `/v1/projects/${project.id}/tasks`, { title, estimate_days: estimate });
}

async function fresh(id: string): Promise<Task> {
  return apiCall<Task>(token, "GET", `/v1/projects/${project.id}/tasks/${id}`);
}

beforeAll(async () => {
  browser = await launch();
  token = await apiLogin("manager@acme.example");
  project = await apiCall<Project>(token, "POST", "/v1/projects", { name, key, description: "Switches and firewalls", start_date: today });
  // Survey → Order → Install is the long chain (the critical path); Label hangs off Survey.
  tasks.survey = await task("Survey the racks", 2);
  tasks.order = await task("Order the switches", 3);
  tasks.install = await task("Install the switches", 2);
  tasks.label = await task("Label the cables", 1);
  const dep = (p: Task, s: Task) => apiCall(token, "POST", `/v1/projects/${project.id}/dependencies`, { predecessor_id: p.id, successor_id: s.id });
  await dep(tasks.survey, tasks.order);
  await dep(tasks.order, tasks.install);
  await dep(tasks.survey, tasks.label);
  manager = await openSession(browser);
  await signIn(manager.page, "manager@acme.example");
});

afterAll(async () => {
  await browser?.close();
});

const column = (category: string, nameIs?: string) => project.columns.find((c) => c.category === category && (!nameIs || c.name === nameIs));

describe("projects", () => {
  test("the menu leads to the projects; the board moves a card by keyboard and announces it", async () => {
    const { page, errors } = manager;
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Projects", exact: true }).click();
    await page.waitForURL("**/projects");
    await expect.poll(() => page.getByTestId("project-rows").textContent()).toContain(name);
    await checkScreen(page, "projects-list");
    await page.getByRole("link", { name }).click();
    await expect.poll(() => page.getByTestId("task-card").count()).toBe(4);
    await checkScreen(page, "projects-board");
    // Keyboard alone: Survey (first in To do) goes down one place through its Move menu.
    await page.getByRole("button", { name: `Move ${tasks.survey?.key}` }).focus();
    await page.keyboard.press("Enter");
    await page.getByRole("menuitem", { name: "Down one place" }).focus();
    await page.keyboard.press("Enter");
    await expect.poll(() => page.getByTestId("board-announcer").textContent()).toContain(`Moved ${tasks.survey?.key} to To do, position 2 of 4.`);
    const todo = page.getByRole("region", { name: /^To do/ });
    await expect.poll(() => todo.getByTestId("task-card").nth(1).getAttribute("data-task-key")).toBe(tasks.survey?.key);
    // ... and right, to In progress: nothing blocks it.
    await page.getByRole("button", { name: `Move ${tasks.survey?.key}` }).focus();
    await page.keyboard.press("Enter");
    await page.getByRole("menuitem", { name: "Right to In progress" }).focus();
    await page.keyboard.press("Enter");
    await expect.poll(() => page.getByTestId("board-announcer").textContent()).toContain(`Moved ${tasks.survey?.key} to In progress`);
    expect((await fresh(tasks.survey?.id ?? "")).column_id).toBe(column("in_progress", "In progress")?.id);
    expect(errors).toEqual([]);
  });

  test("a blocked move lists its blockers and offers to move anyway; a stale one reloads and says so", async () => {
    const { page, errors } = manager;
    // Install waits for Order (open): into In progress is refused with the blocker named.
    await page.getByRole("button", { name: `Move ${tasks.install?.key}` }).click();
    await page.getByRole("menuitem", { name: "To In progress", exact: true }).click();
    const dialog = page.getByRole("dialog", { name: `${tasks.install?.key} is blocked` });
    await dialog.waitFor();
    expect(await page.getByTestId("blockers").textContent()).toContain(tasks.order?.key);
    await checkScreen(page, "projects-board-blocked");
    await dialog.getByRole("button", { name: "Move anyway" }).click();
    await expect.poll(() => page.getByTestId("board-announcer").textContent()).toContain("despite its blockers");
    expect((await fresh(tasks.install?.id ?? "")).column_id).toBe(column("in_progress", "In progress")?.id);
    // Someone else edits Label just before our move reaches the server (the project's
    // realtime room would otherwise bring their version first): a 412, the board reloads
    // and says so.
    await page.route(
      "**/move",
      async (route) => {
        const label = await fresh(tasks.label?.id ?? "");
        await apiCall(token, "PATCH", `/v1/projects/${project.id}/tasks/${label.id}`, { title: "Label every cable", version: label.version });
        await route.continue();
      },
      { times: 1 },
    );
    await page.getByRole("button", { name: `Move ${tasks.label?.key}` }).click();
    await page.getByRole("menuitem", { name: "To the top" }).click();
    await expect.poll(() => page.getByText(`${tasks.label?.key} was changed by someone else`).count()).toBe(1);
    await expect.poll(() => page.getByRole("link", { name: /Label every cable/ }).count()).toBe(1);
    expect(errors).toEqual([]);
  });

  test("a card dragged onto another moves before it", async () => {
    const { page, errors } = manager;
    await page.reload();
    // To do holds Order and Label (whose stale move did not happen): Label dropped on Order goes first.
    const todo = page.getByRole("region", { name: /^To do/ });
    await expect.poll(() => todo.getByTestId("task-card").first().getAttribute("data-task-key")).toBe(tasks.order?.key);
    await page.locator(`[data-task-key="${tasks.label?.key}"]`).dragTo(page.locator(`[data-task-key="${tasks.order?.key}"]`));
    await expect.poll(() => page.getByTestId("board-announcer").textContent()).toContain(`Moved ${tasks.label?.key} to To do, position 1 of 2.`);
    await expect.poll(() => todo.getByTestId("task-card").first().getAttribute("data-task-key")).toBe(tasks.label?.key);
    const listed = await apiCall<{ items: { key: string }[] }>(token, "GET", `/v1/projects/${project.id}/tasks?column_id=${column("todo")?.id}`);
    expect(listed.items.map((x) => x.key)).toEqual([tasks.label?.key, tasks.order?.key]);
    expect(errors).toEqual([]);
  });

  test("the timeline shows the critical path (outlined and named), the arrows, a table, and previews a reschedule", async () => {
    const { page, errors } = manager;
    // The arrows come with the schedule's window: the whole dependency list is never asked.
    const listed: string[] = [];
    const watch = (request: { url: () => string }) => {
      if (/\/v1\/projects\/[^/]+\/dependencies(\?|$)/.test(request.url())) listed.push(request.url());
    };
    page.on("request", watch);
    await page.getByRole("tab", { name: "Timeline" }).click();
    await expect.poll(() => page.getByTestId("timeline-bar").count()).toBe(4);
    await expect.poll(() => page.getByTestId("timeline-arrow").count()).toBe(3);
    expect(await page.getByTestId("timeline-stub").count()).toBe(0);
    const critical = await page.locator('[data-testid="timeline-bar"][data-critical="true"]').evaluateAll((bars) => bars.map((b) => b.getAttribute("data-key")));
    expect(critical.sort()).toEqual([tasks.survey?.key, tasks.order?.key, tasks.install?.key].sort());
    const summary = (await page.getByTestId("timeline-summary").textContent()) ?? "";
    expect(summary).toContain(`Critical path: ${tasks.survey?.key} → ${tasks.order?.key} → ${tasks.install?.key}`);
    expect(await page.getByTestId("timeline-chart").getByText("critical", { exact: true }).count()).toBe(3);
    await checkScreen(page, "projects-timeline");
    // The chart shows eight weeks (the server answers their rows only) and moves: twelve
    // weeks on, nothing; back, the four bars. The summary stays the whole project's.
    const window = page.getByTestId("timeline-window");
    expect(await window.textContent()).toContain(`From ${today} to `);
    await page.getByRole("button", { name: "Later" }).click();
    await page.getByRole("button", { name: "Later" }).click();
    await page.getByRole("button", { name: "Later" }).click();
    await expect.poll(() => page.getByText("No task falls in these dates.").count()).toBe(1);
    expect(await window.getAttribute("role")).toBe("status");
    expect(await page.getByTestId("timeline-summary").textContent()).toBe(summary);
    for (let i = 0; i < 3; i++) await page.getByRole("button", { name: "Earlier" }).click();
    await expect.poll(() => page.getByTestId("timeline-bar").count()).toBe(4);
    await expect.poll(() => page.getByTestId("timeline-arrow").count()).toBe(3);
    page.off("request", watch);
    expect(listed).toEqual([]);
    await page.getByRole("button", { name: "Table" }).click();
    const table = page.getByTestId("timeline-table");
    await table.waitFor();
    expect(await table.getByRole("row", { name: new RegExp(tasks.order?.key ?? "") }).textContent()).toContain("Yes");
    await checkScreen(page, "projects-timeline-table");
    // Survey five days later: a preview of what moves (its dependants follow it in the
    // schedule), then applied.
    const later = new Date(Date.now() + 5 * 86_400_000).toISOString().slice(0, 10);
    await page.getByLabel("Task", { exact: true }).selectOption({ label: `${tasks.survey?.key} Survey the racks` });
    await page.getByLabel("New start date").fill(later);
    await page.getByRole("button", { name: "Preview" }).click();
    const preview = page.getByTestId("reschedule-preview");
    await expect.poll(() => preview.textContent()).toContain(`${tasks.survey?.key}`);
    expect(await preview.textContent()).toContain(`→ ${later}`);
    await checkScreen(page, "projects-reschedule-preview");
    await page.getByRole("button", { name: "Apply" }).click();
    await expect.poll(() => page.getByText(/Rescheduled \d+ tasks?\./).count()).toBe(1);
    expect((await fresh(tasks.survey?.id ?? "")).start_date).toBe(later);
    const schedule = await apiCall<{ tasks: { task_id: string; earliest_start: string }[] }>(token, "GET", `/v1/projects/${project.id}/schedule`);
    expect((schedule.tasks.find((x) => x.task_id === tasks.order?.id)?.earliest_start ?? "") > later).toBe(true);
    expect(errors).toEqual([]);
  });

  test("a dependency that would close a cycle is refused at its field", async () => {
    const { page, errors } = manager;
    await page.goto(`/projects/${project.id}/tasks/${tasks.survey?.id}`);
    await page.getByLabel("Waits for task").selectOption({ label: `${tasks.install?.key} Install the switches` });
    await page.getByRole("button", { name: "Add dependency" }).click();
    await expect.poll(() => page.getByLabel("Waits for task").getAttribute("aria-invalid")).toBe("true");
    expect(await page.getByLabel("Waits for task").getAttribute("aria-describedby")).toBeTruthy();
    await checkScreen(page, "projects-task-cycle");
    // The checklist and a comment, while here.
    await page.getByLabel("New item").fill("Photograph every rack");
    await page.getByRole("button", { name: "Add item" }).click();
    await expect.poll(() => page.getByTestId("checklist").textContent()).toContain("Photograph every rack");
    await page.getByLabel("Comment", { exact: true }).fill("Racks 3 and 4 are full");
    await page.getByRole("button", { name: "Add comment" }).click();
    await expect.poll(() => page.getByTestId("task-comments").textContent()).toContain("Racks 3 and 4 are full");
    expect(errors).toEqual([]);
  });

  test("a task's files: uploaded through the ticket's pipeline, downloaded, removed (announced)", async () => {
    const { page, errors } = manager;
    await page.goto(`/projects/${project.id}/tasks/${tasks.order?.id}`);
    const files = page.getByRole("region", { name: "Files" });
    await files.getByText("No files.").waitFor();
    await files.getByTestId("file-input").setInputFiles({ name: "quote.txt", mimeType: "text/plain", buffer: Buffer.from("48 ports, 2 uplinks\n".repeat(20)) });
    await expect.poll(() => files.getByRole("list", { name: "Files" }).textContent()).toContain("quote.txt");
    await checkScreen(page, "projects-task-files");
    const link = page.waitForResponse((r) => r.url().includes("/download") && r.request().method() === "GET");
    const popup = page.context().waitForEvent("page");
    await files.getByRole("button", { name: "Download quote.txt" }).click();
    expect((await link).status()).toBe(200);
    await (await popup).close();
    await files.getByRole("button", { name: "Remove quote.txt" }).click();
    await expect.poll(() => files.getByRole("status").textContent()).toBe("quote.txt removed");
    await files.getByText("No files.").waitFor();
    const listed = await apiCall<{ items: unknown[] }>(token, "GET", `/v1/projects/${project.id}/tasks/${tasks.order?.id}/attachments`);
    expect(listed.items).toEqual([]);
    expect(errors).toEqual([]);
  });

  test("a task made from a ticket is on the ticket's page", async () => {
    const { page, errors } = manager;
    const employee = await apiLogin("employee@acme.example");
    const subject = unique("Switch in room 2 is failing");
    const ticket = await apiCall<{ id: string }>(employee, "POST", "/v1/tickets", { title: subject, description: "Lights blink amber" });
    await page.goto(`/tickets/${ticket.id}`);
    await expect.poll(() => page.getByText("No task is linked to this ticket.").count()).toBe(1);
    await page.getByRole("button", { name: "Create task from ticket" }).click();
    await page.getByLabel(/^Project/).selectOption({ label: `${project.key}: ${name}` });
    await page.getByRole("button", { name: "Create task", exact: true }).click();
    await expect.poll(() => page.getByTestId("ticket-tasks").textContent()).toContain(subject);
    await checkScreen(page, "projects-on-ticket");
    await page.getByTestId("ticket-tasks").getByRole("link").first().click();
    await expect.poll(() => page.getByTestId("task-tickets").textContent()).toContain(subject);
    expect(errors).toEqual([]);
  });
  test("a task's notification in the assignee's bell opens the task", async () => {
    const agentToken = await apiLogin("agent@acme.example");
    const me = await apiCall<{ user: { id: string } }>(agentToken, "GET", "/v1/me");
    await apiCall(token, "PUT", `/v1/projects/${project.id}/members/${me.user.id}`, { role: "member" });
    const title = unique("Patch the core switch");
    const assigned = await apiCall<Task>(token, "POST", `/v1/projects/${project.id}/tasks`, { title, assignee_id: me.user.id });
    const agent = await openSession(browser);
    try {
      await signIn(agent.page, "agent@acme.example");
      const { page, errors } = agent;
      const item = page.getByTestId("notification-item").filter({ hasText: assigned.key });
      // The outbox delivers it a moment later: the bell reads the latest each time it opens.
      await expect
        .poll(async () => {
          await page.getByTestId("notification-bell").click();
          const found = await item.count();
          if (!found) await page.keyboard.press("Escape");
          return found;
        })
        .toBe(1);
      await checkScreen(page, "projects-task-notification");
      await item.click();
      await page.waitForURL(`**/projects/${project.id}/tasks/${assigned.id}`);
      await expect.poll(() => page.getByRole("heading", { name: new RegExp(title) }).count()).toBeGreaterThan(0);
      expect(errors).toEqual([]);
    } finally {
      await agent.context.close();
    }
  });
  test("a change's implementation plan becomes chained tasks from its page, which links to them", async () => {
    const { page, errors } = manager;
    const change = await apiCall<{ id: string }>(token, "POST", "/v1/changes", {
      title: unique("Replace the core switch"),
      implementation_plan: "1. Drain the uplinks\n2. Swap the chassis\n3. Restore the uplinks",
    });
    await page.goto(`/changes/${change.id}`);
    const section = page.getByRole("region", { name: "Tasks" });
    await section.getByRole("button", { name: "Plan as tasks" }).click();
    await section.getByLabel(/^Project/).selectOption({ label: `${project.key}: ${name}` });
    await section.getByRole("button", { name: "Create tasks" }).click();
    await expect.poll(() => page.getByTestId("change-tasks").getByRole("link").count()).toBe(3);
    expect(await section.getByRole("status").textContent()).toBe("Created 3 tasks from the plan.");
    await checkScreen(page, "projects-on-change");
    // The steps are chained finish-to-start, in the plan's order.
    const links = await page.getByTestId("change-tasks").getByRole("link").allTextContents();
    expect(links.map((l) => l.split(": ")[1])).toEqual(["Drain the uplinks", "Swap the chassis", "Restore the uplinks"]);
    const made = await apiCall<{ items: { id: string; title: string }[] }>(token, "GET", `/v1/projects/${project.id}/tasks?limit=100`);
    const ids = Object.fromEntries(made.items.map((x) => [x.title, x.id]));
    const deps = await apiCall<{ predecessor_id: string; successor_id: string }[] | { items: { predecessor_id: string; successor_id: string }[] }>(token, "GET", `/v1/projects/${project.id}/dependencies`);
    const edges = (Array.isArray(deps) ? deps : deps.items).map((d) => `${d.predecessor_id}>${d.successor_id}`);
    expect(edges).toContain(`${ids["Drain the uplinks"]}>${ids["Swap the chassis"]}`);
    expect(edges).toContain(`${ids["Swap the chassis"]}>${ids["Restore the uplinks"]}`);
    await page.getByTestId("change-tasks").getByRole("link").first().click();
    await page.waitForURL(`**/projects/${project.id}/tasks/${ids["Drain the uplinks"]}`);
    expect(errors).toEqual([]);
  });

  test("settings: the details saved (said and kept), a column moved by keyboard (the focus follows it), a member added through the person picker", async () => {
    const { page, errors } = manager;
    await page.goto(`/projects/${project.id}`);
    await page.getByRole("tab", { name: "Settings" }).click();
    // The details: saving says so in a live region, and the message outlives the re-render
    // that the new version (and the project room's push of it) brings.
    const details = page.getByRole("region", { name: "Details" });
    await details.getByLabel("Description").fill("Switches, firewalls and the uplinks");
    await details.getByRole("button", { name: "Save details" }).click();
    await expect.poll(() => details.getByRole("status").textContent()).toBe("Saved");
    await expect.poll(async () => (await apiCall<{ description: string }>(token, "GET", `/v1/projects/${project.id}`)).description).toBe("Switches, firewalls and the uplinks");
    await page.waitForTimeout(1500);
    expect(await details.getByRole("status").textContent()).toBe("Saved");
    expect(await details.getByText("Saved", { exact: true }).isVisible()).toBe(true);
    expect(await details.getByLabel("Description").inputValue()).toBe("Switches, firewalls and the uplinks");
    const first = page.getByLabel("Column 1 name");
    await first.waitFor();
    const [one, two] = [await first.inputValue(), await page.getByLabel("Column 2 name").inputValue()];
    await page.getByRole("button", { name: "Move column 1 right" }).focus();
    await page.keyboard.press("Enter");
    await expect.poll(() => page.getByLabel("Column 1 name").inputValue()).toBe(two);
    expect(await page.getByLabel("Column 2 name").inputValue()).toBe(one);
    await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute("aria-label"))).toBe("Move column 2 right");
    expect(await page.getByRole("region", { name: "Columns" }).getByRole("status").textContent()).toContain(`${one} is now column 2 of`);
    await page.getByRole("button", { name: "Save columns" }).click();
    const order = async () => (await apiCall<Project>(token, "GET", `/v1/projects/${project.id}`)).columns.slice(0, 2).map((c) => c.name);
    await expect.poll(order).toEqual([two, one]);
    // The editor is drawn afresh from the saved version, and still says it was saved.
    await expect.poll(() => page.getByText("Columns saved").count()).toBe(1);
    // A member through the person picker: typed, chosen, added as a viewer.
    const members = page.getByRole("region", { name: "Members" });
    await members.getByRole("searchbox", { name: "Person" }).fill("admin@acme");
    await members.getByRole("button", { name: /^Choose .*/ }).first().click();
    await members.getByLabel("Role", { exact: true }).selectOption({ label: "Viewer" });
    await checkScreen(page, "projects-settings");
    await members.getByRole("button", { name: "Add member" }).click();
    await expect.poll(() => page.getByTestId("member-rows").textContent()).toContain("admin@acme.example");
    const listed = await apiCall<{ user: { email: string }; role: string }[] | { items: { user: { email: string }; role: string }[] }>(token, "GET", `/v1/projects/${project.id}/members`);
    const rows = Array.isArray(listed) ? listed : listed.items;
    expect(rows.find((m) => m.user.email === "admin@acme.example")?.role).toBe("viewer");
    expect(errors).toEqual([]);
  });

  test("My tasks lists the caller's tasks across projects and leads to them", async () => {
    const { page, errors } = manager;
    const me = await apiCall<{ user: { id: string } }>(token, "GET", "/v1/me");
    const title = unique("Order spare optics");
    const mine = await apiCall<Task>(token, "POST", `/v1/projects/${project.id}/tasks`, { title, assignee_id: me.user.id });
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "My tasks", exact: true }).click();
    await page.waitForURL("**/projects/my-tasks");
    await expect.poll(() => page.getByTestId("my-task-rows").textContent()).toContain(title);
    // Another's task is not listed.
    expect(await page.getByTestId("my-task-rows").textContent()).not.toContain("Patch the core switch");
    await checkScreen(page, "projects-my-tasks");
    await page.getByLabel("Open tasks only").uncheck();
    await expect.poll(() => page.getByTestId("my-task-rows").textContent()).toContain(title);
    await page.getByRole("link", { name: title }).click();
    await page.waitForURL(`**/projects/${project.id}/tasks/${mine.id}`);
    expect(errors).toEqual([]);
  });

});
