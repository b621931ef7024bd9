import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { apiCall, apiLogin, checkScreen, launch, openSession, signIn, unique, type Session } from "./support";

let browser: Browser;
let manager: Session;
let employee: Session;
let ticketId = "";
const title = unique("New laptop");
const flowName = unique("Hardware approval");

beforeAll(async () => {
  browser = await launch();
  const managerToken = await apiLogin("manager@acme.example");
  const flow = await apiCall<{ id: string }>(managerToken, "POST", "/v1/approvals/flows", {
    name: flowName,
    stages: [{ name: "Managers", rule: "any", approvers: { role: "manager" }, due_hours: 24 }],
  });
  const category = await apiCall<{ id: string }>(managerToken, "POST", "/v1/categories", {
    name: unique("Hardware requests"),
    approval_flow_id: flow.id,
  });
  const employeeToken = await apiLogin("employee@acme.example");
  const ticket = await apiCall<{ id: string; status: string }>(employeeToken, "POST", "/v1/tickets", {
    title,
    description: "Mine broke this morning",
    category_id: category.id,
  });
  expect(ticket.status).toBe("pending_approval");
  ticketId = ticket.id;
  manager = await openSession(browser);
  employee = await openSession(browser);
});

afterAll(async () => {
  await browser?.close();
});

describe("approvals", () => {
  test("the requester sees their request waiting for approval", async () => {
    const { page, errors } = employee;
    await signIn(page, "employee@acme.example");
    await page.goto(`/tickets/${ticketId}`);
    const card = page.getByRole("region", { name: "Approval" });
    await expect.poll(() => card.count()).toBe(1);
    await expect.poll(() => card.getByText("Pending").count()).toBeGreaterThan(0);
    await checkScreen(page, "approval-on-request");
    expect(errors).toEqual([]);
  });

  test("a manager finds it in My approvals, reads it and approves it; the request opens", async () => {
    const { page, errors } = manager;
    await signIn(page, "manager@acme.example");
    await page.getByRole("link", { name: "Approvals" }).click();
    await page.waitForURL("**/approvals");
    const item = page.getByRole("link", { name: new RegExp(title) });
    await expect.poll(() => item.count()).toBe(1);
    await checkScreen(page, "approvals-inbox");
    await item.click();
    await page.waitForURL(/\/approvals\/[0-9a-f-]{36}$/);
    await expect.poll(() => page.getByText("Mine broke this morning").count()).toBe(1);
    await checkScreen(page, "approval-detail");
    // A rejection needs its reason.
    await page.getByRole("button", { name: "Reject" }).click();
    await expect.poll(() => page.getByText("give the reason for the rejection").count()).toBe(1);
    await page.getByRole("textbox", { name: "Comment" }).fill("Approved, the old one is out of warranty");
    await page.getByRole("button", { name: "Approve" }).click();
    await expect.poll(() => page.getByText("Approved, the old one is out of warranty").count()).toBe(1);
    await expect.poll(() => page.getByRole("button", { name: "Approve" }).count()).toBe(0);
    await expect.poll(async () => {
      const token = await apiLogin("employee@acme.example");
      return (await apiCall<{ status: string }>(token, "GET", `/v1/tickets/${ticketId}`)).status;
    }).toBe("open");
    expect(errors).toEqual([]);
  });

  test("a manager edits approval flows in the administration", async () => {
    const { page, errors } = manager;
    await page.goto("/admin/approval-flows");
    await expect.poll(() => page.getByText(flowName, { exact: true }).count()).toBe(1);
    await checkScreen(page, "approval-flows");
    await page.getByRole("button", { name: "New approval flow" }).click();
    const twoStep = unique("Two-step");
    await page.getByRole("textbox", { name: "Name", exact: true }).fill(twoStep);
    await page.getByRole("button", { name: "Add a stage" }).click();
    await page.getByLabel("Everyone with the role").first().selectOption("manager");
    await page.getByLabel("Everyone with the role").nth(1).selectOption("admin");
    // Named approvers by search, as removable chips; the flow stores their ids.
    await page.getByRole("searchbox", { name: "Approvers of stage 2" }).fill("agent2@");
    await page.getByRole("button", { name: /^Choose Avery Agent/ }).click();
    await page.getByRole("searchbox", { name: "Approvers of stage 2" }).fill("agent@");
    await page.getByRole("button", { name: /^Choose Alex Agent/ }).click();
    await page.getByRole("button", { name: "Remove Avery Agent" }).click();
    await expect.poll(() => page.getByTestId("picked-user").allTextContents()).toEqual([expect.stringContaining("Alex Agent")]);
    await checkScreen(page, "approval-flow-editor");
    await page.getByRole("button", { name: "Save" }).click();
    await expect.poll(() => page.getByText("Approval → Stage 2").count()).toBeGreaterThan(0);
    const token = await apiLogin("manager@acme.example");
    const flows = await apiCall<{ items: { name: string; stages: { approvers: { users: string[] } }[] }[] }>(token, "GET", "/v1/approvals/flows?limit=100");
    const saved = flows.items.find((f) => f.name === twoStep);
    const alex = await apiCall<{ items: { id: string }[] }>(token, "GET", "/v1/users?q=agent%40&limit=1");
    expect(saved?.stages[1]?.approvers.users).toEqual([alex.items[0]?.id]);
    expect(errors).toEqual([]);
  });
});
