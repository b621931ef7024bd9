import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { apiCall, apiLogin, checkScreen, launch, openSession, signIn, unique, type Session } from "./support";

let browser: Browser;
let admin: Session;

beforeAll(async () => {
  browser = await launch();
  admin = await openSession(browser);
});

afterAll(async () => {
  await browser?.close();
});

describe("an admin automates the desk", () => {
  test("rule list, editor with dry run, run log, active toggle; axe in both themes", async () => {
    const { page, errors } = admin;
    const marker = unique("robot").toLowerCase();
    const employee = await apiLogin("employee@acme.example");
    await apiCall(employee, "POST", "/v1/tickets", { title: `${marker} before the rule` });

    await signIn(page, "admin@acme.example");
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Admin" }).click();
    await page.getByRole("navigation", { name: "Administration" }).getByRole("link", { name: "Automation", exact: true }).click();
    await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe("Automation");

    const editor = page.getByRole("region", { name: "New rule" });
    const name = unique("Tag robots");
    await editor.getByLabel("Name").fill(name);
    await editor.getByLabel("Trigger").selectOption("created");
    await editor.getByRole("button", { name: "Add condition" }).click();
    await editor.getByLabel("Condition 1 field").selectOption("title");
    await editor.getByLabel("Condition 1 test").selectOption("contains");
    await editor.getByLabel("Condition 1 value").fill(marker);
    await editor.getByLabel("Action 1", { exact: true }).selectOption("add_tags");
    await editor.getByLabel("Action 1 value").fill("robot");

    await editor.getByRole("button", { name: "Dry run" }).click();
    await expect.poll(() => page.getByTestId("dry-run").textContent()).toContain("1 ticket match now");
    await checkScreen(page, "automation-editor");

    await editor.getByRole("button", { name: "Create rule" }).click();
    await expect.poll(() => page.getByTestId("automation-rows").textContent()).toContain(name);

    // A bad regex is refused, naming the field.
    await editor.getByLabel("Name").fill(unique("Bad regex"));
    await editor.getByRole("button", { name: "Add condition" }).click();
    await editor.getByLabel("Condition 1 test").selectOption("matches");
    await editor.getByLabel("Condition 1 value").fill("(a)\\1");
    await editor.getByLabel("Action 1 value").fill("x");
    await editor.getByRole("button", { name: "Create rule" }).click();
    await expect.poll(() => page.getByText("conditions.all.0.value").count()).toBeGreaterThan(0);

    const made = await apiCall<{ tags: string[] }>(employee, "POST", "/v1/tickets", { title: `${marker} after the rule` });
    expect(made.tags).toContain("robot");

    const row = page.getByTestId("automation-rows").getByRole("listitem").filter({ hasText: name });
    await row.getByRole("button", { name: "Run log" }).click();
    await expect.poll(() => page.getByTestId("run-rows").textContent()).toContain("fired");
    await row.getByLabel(`Active: ${name}`).click();
    await expect.poll(() => row.getByLabel(`Active: ${name}`).isChecked()).toBe(false);
    await checkScreen(page, "automation-list");
    expect(errors).toEqual([]);
  });
});
