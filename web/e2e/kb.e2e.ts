import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { BASE_URL, apiCall, apiLogin, checkScreen, launch, openSession, unique, signIn, type Session } from "./support";

// The knowledge base in the browser (issue 18): the requester's help centre (tree, search
// with highlights, article, vote), deflection on the new-request form, the agent's
// suggested articles with "insert link into reply", and the editor's workflow with
// versions. Articles for the scene are made through the API; the UI is what is tested.

interface Article {
  id: string;
  title: string;
  state: string;
  version: number;
  helpful_count: number;
  published_version: number;
}

let browser: Browser;
let employee: Session;
let agent: Session;
let manager: Session;
let managerToken = "";
const tag = Math.random().toString(36).slice(2, 8);
// An error code as people paste it: keyword search must find it exactly.
const code = `0x8007${Math.floor(Math.random() * 0xffff).toString(16).padStart(4, "0")}`;
const parentName = unique("Building access");
const childName = unique("Badges");
const publicTitle = `Badge reader rejects card ${tag}`;
const internalTitle = `Runbook re-enrol badge ${tag}`;
const draftTitle = `Badge reader draft ${tag}`;
let publicId = "";
let internalId = "";
let childId = "";

async function publish(token: string, body: Record<string, unknown>): Promise<Article> {
  const made = await apiCall<Article>(token, "POST", "/v1/kb/articles", body);
  const submitted = await apiCall<Article>(token, "POST", `/v1/kb/articles/${made.id}/submit`, { version: made.version });
  return apiCall<Article>(token, "POST", `/v1/kb/articles/${made.id}/publish`, { version: submitted.version });
}

beforeAll(async () => {
  browser = await launch();
  managerToken = await apiLogin("manager@acme.example");
  const parent = await apiCall<{ id: string }>(managerToken, "POST", "/v1/kb/categories", { name: parentName, position: 0 });
  const child = await apiCall<{ id: string }>(managerToken, "POST", "/v1/kb/categories", {
    name: childName,
    parent_id: parent.id,
    description: "Door badges and readers",
  });
  childId = child.id;
  publicId = (
    await publish(managerToken, {
      title: publicTitle,
      summary: "A red light on the reader means the badge needs re-enrolling.",
      body: `## What you see\n\nThe reader blinks red and shows error \`${code}\`.\n\n## What to do\n\n1. Hold the badge flat against the reader for two seconds.\n2. Still red? Ask reception to re-enrol it.\n`,
      tags: ["badge", "door"],
      audience: "public",
      category_id: child.id,
    })
  ).id;
  internalId = (
    await publish(managerToken, {
      title: internalTitle,
      summary: "Staff only.",
      body: `Open the access console and re-enrol the badge. Error \`${code}\` in the log.`,
      audience: "internal",
      category_id: child.id,
    })
  ).id;
  await apiCall(managerToken, "POST", "/v1/kb/articles", {
    title: draftTitle,
    body: `Not ready: \`${code}\``,
    audience: "public",
    category_id: child.id,
  });
  employee = await openSession(browser);
  agent = await openSession(browser);
  manager = await openSession(browser);
});

afterAll(async () => {
  await browser?.close();
});

describe("the help centre", () => {
  test("a requester browses the tree, searches an error code, reads and votes", async () => {
    const { page, errors } = employee;
    await signIn(page, "employee@acme.example");
    await page.getByRole("link", { name: "Help centre" }).click();
    await page.waitForURL("**/help");
    await expect.poll(() => page.getByRole("link", { name: childName }).count()).toBe(1);
    await checkScreen(page, "help-centre");

    await page.getByRole("link", { name: childName }).click();
    const list = page.getByRole("list", { name: "Articles" });
    await expect.poll(() => list.textContent()).toContain(publicTitle);
    // Internal articles and drafts are not the requester's to see.
    expect(await list.textContent()).not.toContain(internalTitle);
    expect(await list.textContent()).not.toContain(draftTitle);
    expect(await page.getByRole("navigation", { name: "Breadcrumb" }).textContent()).toContain(parentName);

    await page.getByLabel("Search the help centre").fill(code);
    const results = page.getByRole("list", { name: "Search results" });
    await expect.poll(() => results.textContent(), { timeout: 15_000 }).toContain(publicTitle);
    expect(await results.locator("mark", { hasText: code }).count()).toBeGreaterThan(0);
    expect(await results.textContent()).not.toContain(internalTitle);
    expect(await results.textContent()).not.toContain(draftTitle);
    expect(new URL(page.url()).searchParams.get("q")).toBe(code);
    await checkScreen(page, "help-search");

    await results.getByRole("link", { name: publicTitle }).click();
    await page.waitForURL(`**/help/articles/${publicId}`);
    await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe(publicTitle);
    // The API's rendering of the Markdown: headings and a list, the code as code.
    const body = page.getByTestId("article-body");
    await expect.poll(() => body.getByRole("heading", { name: "What to do" }).count()).toBe(1);
    expect(await body.locator("ol > li").count()).toBe(2);
    expect(await body.locator("code", { hasText: code }).count()).toBe(1);
    await checkScreen(page, "help-article");

    await page.getByRole("button", { name: "Yes" }).click();
    await expect.poll(() => page.getByText("Thanks for letting us know.").count()).toBe(1);
    expect(await page.getByRole("button", { name: "Yes" }).getAttribute("aria-pressed")).toBe("true");
    const counted = await apiCall<Article>(managerToken, "GET", `/v1/kb/articles/${publicId}`);
    expect(counted.helpful_count).toBe(1);

    // An internal article by its address is simply not there for a requester.
    await page.goto(`/help/articles/${internalId}`);
    await expect.poll(() => page.getByText("Article not found").count()).toBe(1);
    expect(errors).toEqual([]);
  });

  test("typing a new request's subject offers articles; 'this solved it' files nothing", async () => {
    const { page, errors } = employee;
    const token = await apiLogin("employee@acme.example");
    const before = await apiCall<{ solved: number }>(managerToken, "GET", "/v1/kb/search/report");
    await page.goto("/requests/new");
    await page.getByRole("radio", { name: /Something else/ }).check();
    await page.getByRole("button", { name: "Continue" }).click();
    await page.getByLabel("Subject").fill(publicTitle);
    const offer = page.getByTestId("deflection");
    await expect.poll(() => offer.getByRole("button", { name: publicTitle }).count(), { timeout: 15_000 }).toBe(1);
    expect(await offer.textContent()).not.toContain(internalTitle);
    await checkScreen(page, "new-request-deflection");

    await offer.getByRole("button", { name: publicTitle }).click();
    expect(await offer.getByRole("button", { name: publicTitle }).getAttribute("aria-expanded")).toBe("true");
    await expect.poll(() => offer.getByTestId("article-body").textContent()).toContain("Hold the badge flat");
    await offer.getByRole("button", { name: "This solved my problem" }).click();
    await expect.poll(() => page.getByText("Glad that helped.").count()).toBe(1);
    await checkScreen(page, "new-request-solved");

    const mine = await apiCall<{ items: { title: string }[] }>(token, "GET", "/v1/tickets?limit=100");
    expect(mine.items.map((t) => t.title)).not.toContain(publicTitle);
    await expect
      .poll(async () => (await apiCall<{ solved: number }>(managerToken, "GET", "/v1/kb/search/report")).solved)
      .toBe(before.solved + 1);
    // The typed subject is not waiting in a draft for next time.
    await page.goto("/requests/new");
    await page.getByRole("radio", { name: /Something else/ }).check();
    await page.getByRole("button", { name: "Continue" }).click();
    expect(await page.getByLabel("Subject").inputValue()).toBe("");
    expect(errors).toEqual([]);
  });
});

describe("the agent's side panel", () => {
  test("suggests articles for the open ticket and inserts a link into the reply", async () => {
    const { page, errors } = agent;
    const employeeToken = await apiLogin("employee@acme.example");
    const ticket = await apiCall<{ id: string }>(employeeToken, "POST", "/v1/tickets", {
      title: publicTitle,
      description: "The door reader by the lifts blinks red at my badge.",
    });
    await signIn(page, "agent@acme.example");
    await page.goto(`/tickets/${ticket.id}`);
    const panel = page.getByTestId("suggested-articles");
    await expect.poll(() => panel.getByRole("link", { name: publicTitle }).count(), { timeout: 15_000 }).toBe(1);
    // The reply starts in the internal-note tab, so the link must bring the reply back.
    await page.getByRole("tab", { name: "Internal note" }).click();
    await page.getByRole("textbox", { name: "Internal note" }).fill("Checked the reader log.");
    await panel.getByRole("button", { name: `Insert link into reply: ${publicTitle}` }).click();
    const reply = page.getByLabel("Reply", { exact: true });
    const link = `[${publicTitle}](<${BASE_URL}/help/articles/${publicId}>)`;
    await expect.poll(() => reply.inputValue()).toBe(link);
    await expect.poll(() => page.evaluate(() => document.activeElement?.tagName)).toBe("TEXTAREA");
    await checkScreen(page, "agent-suggested-articles");

    await reply.press("Home");
    await page.keyboard.type("Hello, this should sort it:\n");
    await page.getByRole("button", { name: "Send reply" }).click();
    await expect
      .poll(async () => {
        const comments = await apiCall<{ items: { body: string; visibility: string }[] }>(
          employeeToken,
          "GET",
          `/v1/tickets/${ticket.id}/comments`,
        );
        return comments.items.map((c) => c.body);
      })
      .toContain(`Hello, this should sort it:\n${link}`);
    // The internal note's draft is still there, untouched.
    await page.getByRole("tab", { name: "Internal note" }).click();
    expect(await page.getByRole("textbox", { name: "Internal note" }).inputValue()).toBe("Checked the reader log.");
    expect(errors).toEqual([]);
  });
});

describe("writing articles", () => {
  const title = `Reset the door PIN ${tag}`;
  let articlePath = "";

  test("an agent writes a draft with a preview and submits it for review", async () => {
    const { page, errors } = agent;
    await page.goto("/");
    await page.getByRole("link", { name: "Knowledge base" }).click();
    await page.waitForURL("**/kb");
    await expect.poll(() => page.getByTestId("kb-article-row").count()).toBeGreaterThan(0);
    await checkScreen(page, "kb-articles");

    await page.getByRole("link", { name: "New article" }).click();
    await page.getByRole("button", { name: "Create draft" }).click();
    await expect.poll(() => page.getByText("Give the article a title.").count()).toBe(1);
    await page.getByLabel("Title").fill(title);
    await page.getByLabel("Summary").fill("Forgot the PIN for the side door? Reset it yourself.");
    await page.getByLabel("Category").selectOption(childId);
    await page.getByLabel("Audience").selectOption("public");
    await page.getByLabel("Tags").fill("Door, PIN, door");
    await page.getByLabel("Body (Markdown)").fill("## Steps\n\n1. Open **My account**.\n2. Choose *Door PIN*.\n");
    await checkScreen(page, "kb-new-article");
    await page.getByRole("button", { name: "Create draft" }).click();
    await page.waitForURL(/\/kb\/articles\/[0-9a-f-]{36}$/);
    articlePath = new URL(page.url()).pathname;
    await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe(title);
    expect(await page.getByLabel("Tags").inputValue()).toBe("door, pin");

    await page.getByRole("tab", { name: "Preview" }).click();
    const preview = page.getByRole("region", { name: "Preview" });
    await expect.poll(() => preview.getByRole("heading", { name: "Steps" }).count()).toBe(1);
    expect(await preview.locator("strong", { hasText: "My account" }).count()).toBe(1);
    await checkScreen(page, "kb-editor-preview");

    await page.getByRole("button", { name: "Submit for review" }).click();
    const workflow = page.getByRole("region", { name: "Workflow" });
    await expect.poll(() => workflow.textContent()).toContain("In review");
    // Review is required (the default): an agent cannot publish.
    expect(await workflow.getByRole("button", { name: "Publish" }).count()).toBe(0);
    expect(errors).toEqual([]);
  });

  test("a manager publishes it from the review queue and the requester can read it", async () => {
    const { page, errors } = manager;
    await signIn(page, "manager@acme.example");
    await page.getByRole("link", { name: "Knowledge base" }).click();
    await page.getByRole("link", { name: "Review queue" }).click();
    await page.waitForURL("**/kb?state=in_review");
    await expect.poll(() => page.getByRole("link", { name: title }).count()).toBe(1);
    await checkScreen(page, "kb-review-queue");
    await page.getByRole("link", { name: title }).click();
    await page.waitForURL(`**${articlePath}`);
    const workflow = page.getByRole("region", { name: "Workflow" });
    await workflow.getByRole("button", { name: "Publish" }).click();
    await expect.poll(() => workflow.textContent()).toContain("Published version 1");

    const reader = employee.page;
    await reader.goto(`/help/articles/${articlePath.split("/").pop()}`);
    await expect.poll(() => reader.getByRole("heading", { level: 1 }).textContent()).toBe(title);
    expect(errors).toEqual([]);
    expect(employee.errors).toEqual([]);
  });

  test("an edit republishes as version 2; the diff shows it and version 1 comes back", async () => {
    const { page, errors } = manager;
    await page.getByRole("tab", { name: "Write" }).click();
    await page.getByLabel("Body (Markdown)").fill("## Steps\n\n1. Open **My account**.\n2. Choose *Door PIN*.\n3. Enter the code sent by text.\n");
    await page.getByRole("button", { name: "Save changes" }).click();
    await expect.poll(() => page.getByText("All changes saved.").count()).toBe(1);
    const versions = page.getByRole("region", { name: "Versions" });
    await expect.poll(() => versions.getByRole("list", { name: "Published versions" }).getByRole("listitem").count()).toBe(2);
    const diff = versions.getByLabel("Changes from version 1 to 2");
    await expect.poll(() => diff.textContent()).toContain("+3. Enter the code sent by text.");
    // The summary above the diff counts what the API's unified diff holds.
    const id = articlePath.split("/").pop() ?? "";
    const api = await apiCall<{ diff: string }>(managerToken, "GET", `/v1/kb/articles/${id}/versions/1/diff/2`);
    const added = api.diff.split("\n").filter((l) => l.startsWith("+") && !l.startsWith("+++"));
    const removed = api.diff.split("\n").filter((l) => l.startsWith("-") && !l.startsWith("---"));
    expect(added).toContain("+3. Enter the code sent by text.");
    expect(await versions.getByRole("status").textContent()).toBe(
      `${added.length} ${added.length === 1 ? "line" : "lines"} added, ${removed.length} removed`,
    );
    await checkScreen(page, "kb-versions");

    await versions.getByRole("button", { name: "Restore version 1" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Restore" }).click();
    await expect.poll(() => page.getByLabel("Body (Markdown)").inputValue()).not.toContain("Enter the code");
    // A manager's restore of a published article publishes it again: version 3.
    await expect.poll(() => versions.getByRole("list", { name: "Published versions" }).getByRole("listitem").count()).toBe(3);
    const reader = employee.page;
    await reader.reload();
    await expect.poll(() => reader.getByTestId("article-body").textContent()).not.toContain("Enter the code");
    expect(errors).toEqual([]);
  });

  test("categories: a manager adds one under another, and cannot delete one in use", async () => {
    const { page, errors } = manager;
    const name = unique("Parking");
    await page.goto("/kb/categories");
    await expect.poll(() => page.getByTestId("kb-category-row").count()).toBeGreaterThan(1);
    await page.getByRole("textbox", { name: "Name" }).fill(name);
    await page.getByLabel("Inside").selectOption({ label: parentName });
    await page.getByRole("button", { name: "Add category" }).click();
    await expect.poll(() => page.getByRole("link", { name }).count()).toBe(1);
    await checkScreen(page, "kb-categories");
    await page.getByRole("button", { name: `Delete ${childName}` }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Delete category" }).click();
    await expect.poll(() => page.getByTestId("kb-category-row").filter({ hasText: childName }).locator(".text-danger-text").count()).toBe(1);
    expect(await apiCall<{ id: string }>(managerToken, "GET", `/v1/kb/categories/${childId}`)).toHaveProperty("id", childId);
    expect(errors).toEqual([]);
  });
});

describe("knowledge base settings", () => {
  test("an admin turns review off: an agent may then publish a draft; back on, only submit", async () => {
    const admin = await openSession(browser);
    const { page, errors } = admin;
    await signIn(page, "admin@acme.example");
    await page.goto("/admin/settings");
    const review = page.getByLabel("Articles are reviewed before they are published");
    await expect.poll(() => review.count()).toBe(1);
    expect(await review.isChecked()).toBe(true);
    await checkScreen(page, "settings-kb");
    await review.uncheck();
    await page.getByRole("button", { name: "Save knowledge base settings" }).click();
    await expect.poll(() => page.getByRole("region", { name: "Knowledge base" }).getByText("Saved.", { exact: true }).count()).toBe(1);

    const agentToken = await apiLogin("agent@acme.example");
    const draft = await apiCall<Article>(agentToken, "POST", "/v1/kb/articles", { title: unique("Self-published") });
    const workflow = agent.page.getByRole("region", { name: "Workflow" });
    await agent.page.goto(`/kb/articles/${draft.id}`);
    await expect.poll(() => workflow.getByRole("button", { name: "Publish" }).count()).toBe(1);

    await review.check();
    await page.getByRole("button", { name: "Save knowledge base settings" }).click();
    await expect.poll(async () => (await apiCall<{ require_review: boolean }>(agentToken, "GET", "/v1/settings/kb")).require_review).toBe(true);
    await agent.page.reload();
    await expect.poll(() => workflow.getByRole("button", { name: "Submit for review" }).count()).toBe(1);
    expect(await workflow.getByRole("button", { name: "Publish" }).count()).toBe(0);
    expect(errors).toEqual([]);
    expect(agent.errors).toEqual([]);
  });
});
