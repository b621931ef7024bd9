import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { apiCall, apiLogin, checkScreen, launch, openSession, signIn, unique, type Session } from "./support";

// Issue 20, points 1-2: ticket types, the category tree, problems with their incidents.
let browser: Browser;
let session: Session;
let adminToken = "";
let agentToken = "";
const parentName = unique("Hardware");
const childName = unique("Laptops");
const spareName = unique("Spare");
const typeKey = `e2e_${Date.now().toString(36)}`;
const typeName = unique("Access request");
let problem: { id: string; number: string } = { id: "", number: "" };
let incident: { id: string; number: string } = { id: "", number: "" };

interface Made {
  id: string;
  number: string;
}

beforeAll(async () => {
  browser = await launch();
  session = await openSession(browser);
  adminToken = await apiLogin("admin@acme.example");
  agentToken = await apiLogin("agent@acme.example");
  const parent = await apiCall<{ id: string }>(adminToken, "POST", "/v1/categories", { name: parentName });
  await apiCall(adminToken, "POST", "/v1/categories", { name: childName, parent_id: parent.id, default_type: "service_request" });
  await apiCall(adminToken, "POST", "/v1/categories", { name: spareName });
  problem = await apiCall<Made>(agentToken, "POST", "/v1/tickets", { title: unique("Mail server disk full"), type: "problem" });
  incident = await apiCall<Made>(agentToken, "POST", "/v1/tickets", { title: unique("Cannot send mail") });
  await apiCall(agentToken, "POST", `/v1/tickets/${problem.id}/links`, { target_id: incident.id, kind: "problem_of" });
});

afterAll(async () => {
  await browser?.close();
});

async function openSection(page: Page, name: string): Promise<void> {
  await page.getByRole("navigation", { name: "Administration" }).getByRole("link", { name, exact: true }).click();
  await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe(name);
}

describe("ticket types and the category tree", () => {
  test("an admin adds, renames, reorders and archives ticket types", async () => {
    const { page, errors } = session;
    await signIn(page, "admin@acme.example");
    await page.goto("/admin/users");
    await openSection(page, "Ticket types");
    const rows = page.getByTestId("type-rows");
    await expect.poll(() => rows.textContent()).toContain("service_request");
    const add = page.getByRole("region", { name: "Add a type" });
    await add.getByLabel("Key").fill(typeKey);
    await add.getByLabel("Name").fill(typeName);
    await add.getByRole("button", { name: "Add type" }).click();
    await expect.poll(() => rows.textContent()).toContain(typeKey);
    // Rename it.
    const name = page.getByLabel(`Name of ${typeKey}`);
    await name.fill(`${typeName} (renamed)`);
    await page.getByRole("button", { name: `Rename ${typeKey}` }).click();
    await expect.poll(() => name.inputValue()).toBe(`${typeName} (renamed)`);
    // Move it up one place.
    const keys = async () => (await rows.locator("tr td:first-child").allTextContents()).map((t) => t.trim());
    const before = await keys();
    await page.getByRole("button", { name: `Move ${typeName} (renamed) up` }).click();
    await expect.poll(async () => (await keys()).indexOf(typeKey)).toBe(before.indexOf(typeKey) - 1);
    // Incident cannot be archived: the server says why.
    const incidentName = (await page.getByLabel("Name of incident").inputValue()) || "Incident";
    await page.getByRole("button", { name: `Archive ${incidentName}` }).click();
    await expect.poll(() => page.getByRole("alert").first().textContent()).toContain("cannot be archived");
    await page.getByRole("button", { name: `Archive ${typeName} (renamed)` }).click();
    await expect.poll(() => page.getByRole("button", { name: `Restore ${typeName} (renamed)` }).count()).toBe(1);
    await checkScreen(page, "admin-ticket-types");
    expect(errors).toEqual([]);
  });

  test("a manager sees the category tree, moves, archives and deletes with reassignment", async () => {
    const { page, errors } = session;
    await page.goto("/admin/categories");
    const rows = page.getByTestId("category-rows");
    await expect.poll(() => rows.textContent()).toContain(childName);
    const child = rows.locator("tr", { hasText: childName });
    expect(await child.getAttribute("data-depth")).toBe("1");
    expect(await child.textContent()).toContain("Service request");
    // Archive the parent: its child is archived too; then restore both.
    await page.getByRole("button", { name: `Archive ${parentName}` }).click();
    await expect.poll(() => child.textContent()).toContain("Archived");
    await page.getByRole("button", { name: `Restore ${parentName}` }).click();
    await expect.poll(() => child.textContent()).toContain("Active");
    // Edit: the parent select lists the tree, not the category's own subtree.
    await child.getByRole("link", { name: childName }).click();
    await expect.poll(() => page.getByLabel("Parent category").inputValue()).not.toBe("");
    await expect.poll(() => page.getByLabel("Default type").inputValue()).toBe("service_request");
    await checkScreen(page, "admin-category-tree-edit");
    await page.goto("/admin/categories");
    // Delete the parent (and its child), moving their tickets to the spare category.
    await page.getByRole("button", { name: `Delete ${parentName}` }).click();
    const dialog = page.getByRole("dialog");
    await expect.poll(() => dialog.textContent()).toContain("1 sub-categories");
    await dialog.getByLabel("Move its tickets to").selectOption({ label: spareName });
    await checkScreen(page, "admin-category-delete");
    await dialog.getByRole("button", { name: "Delete" }).click();
    await expect.poll(() => rows.textContent()).not.toContain(parentName);
    expect(await rows.textContent()).not.toContain(childName);
    await checkScreen(page, "admin-category-tree");
    expect(errors).toEqual([]);
  });

  test("an agent sees a problem with its incidents, retypes a ticket and filters the queue by type", async () => {
    const { page, errors } = await openSession(browser);
    await signIn(page, "agent@acme.example");
    await page.goto(`/tickets/${problem.id}`);
    const incidents = page.getByRole("region", { name: /Incidents/ });
    await expect.poll(() => page.getByTestId("incident-count").textContent()).toBe("(1)");
    await expect.poll(() => incidents.textContent()).toContain(incident.number);
    await checkScreen(page, "agent-problem-incidents");
    // Retype the incident's sibling: a question.
    const other = await apiCall<Made>(agentToken, "POST", "/v1/tickets", { title: unique("How do I") });
    await page.goto(`/tickets/${other.id}`);
    await page.getByLabel("Type", { exact: true }).selectOption("question");
    await page.getByRole("button", { name: "Save changes" }).click();
    await expect.poll(() => page.getByTestId("ticket-type").textContent()).toBe("Question");
    // The queue, filtered to problems.
    await page.goto("/queues/all");
    await page.getByLabel("Type", { exact: true }).selectOption("problem");
    await expect.poll(() => page.getByTestId("queue-rows").textContent()).toContain(problem.number);
    expect(await page.getByTestId("queue-rows").textContent()).not.toContain(other.number);
    expect(errors).toEqual([]);
  });

  test("an employee picks from the category tree", async () => {
    const { page, errors } = await openSession(browser);
    const top = await apiCall<{ id: string }>(adminToken, "POST", "/v1/categories", { name: unique("Devices") });
    const sub = unique("Phones");
    await apiCall(adminToken, "POST", "/v1/categories", { name: sub, parent_id: top.id });
    await signIn(page, "employee@acme.example");
    await page.goto("/requests/new");
    const tree = page.getByTestId("category-tree");
    await expect.poll(() => tree.textContent()).toContain(sub);
    expect(await tree.locator("label", { hasText: sub }).getAttribute("data-depth")).toBe("1");
    await checkScreen(page, "portal-category-tree");
    expect(errors).toEqual([]);
  });
});
