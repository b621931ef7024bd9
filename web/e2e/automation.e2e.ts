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
    await editor.getByLabel("Action 1 tags").fill("robot");

    await editor.getByRole("button", { name: "Dry run" }).click();
    await expect.poll(() => page.getByTestId("dry-run").textContent()).toContain("1 ticket(s) match now");
    await checkScreen(page, "automation-editor");

    await editor.getByRole("button", { name: "Create rule" }).click();
    await expect.poll(() => page.getByTestId("automation-rows").textContent()).toContain(name);

    // A bad regex is refused, naming the field.
    await editor.getByLabel("Name").fill(unique("Bad regex"));
    await editor.getByRole("button", { name: "Add condition" }).click();
    await editor.getByLabel("Condition 1 test").selectOption("matches");
    await editor.getByLabel("Condition 1 value").fill("(a)\\1");
    await editor.getByLabel("Action 1 tags").fill("x");
    await editor.getByRole("button", { name: "Create rule" }).click();
    await expect.poll(() => page.getByText("conditions.all.0.value").count()).toBeGreaterThan(0);
    // ... and next to the input that holds it.
    await expect.poll(() => editor.getByLabel("Condition 1 value").getAttribute("aria-invalid")).toBe("true");

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

  test("every test and action the API takes, nested groups, and each 422 on its input", async () => {
    const { page, errors } = await openSession(browser); // runs alone too (-t)
    await signIn(page, "admin@acme.example");
    const token = await apiLogin("admin@acme.example");
    const site = unique("site").replace(/-/g, "_");
    await apiCall(token, "POST", "/v1/categories", {
      name: unique("Seats"),
      fields_schema: { type: "object", properties: { seats: { type: "integer" }, [site]: { type: "string" } } },
    });
    const hook = await apiCall<{ id: string }>(token, "POST", "/v1/webhooks", { url: "http://127.0.0.1:9/never", event_types: ["sla.escalation"] });
    const macro = await apiCall<{ id: string; name: string }>(token, "POST", "/v1/macros", {
      name: unique("Rule macro"),
      scope: "tenant",
      actions: [{ type: "add_tags", tags: ["from-macro"] }],
    });

    await page.goto("/admin/automations");
    await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe("Automation");
    const editor = page.getByRole("region", { name: "New rule" });
    const label = (text: string) => editor.getByLabel(text, { exact: true });
    const name = unique("Everything");
    await editor.getByLabel("Name").fill(name); // "Name *": required
    await editor.getByLabel("Active", { exact: true }).uncheck();
    await label("Loop limit").fill("3");
    await label("Trigger").selectOption("updated");
    await label("Trigger 1: only when these fields change").fill(`priority, custom_fields.${site}`);
    await editor.getByRole("button", { name: "Add trigger" }).click();
    await label("Trigger 2").selectOption("commented");
    await label("Trigger 2: comment visibility").selectOption("public");
    await label("Trigger 2: comment by").selectOption("requester");

    // 1: a custom number; 2: a group (any) of business hours tests; 3: a status list; 4: a change.
    await editor.getByRole("button", { name: "Add condition", exact: true }).click();
    await label("Condition 1 field").selectOption("custom");
    await label("Condition 1 custom field key").fill("nosuchkey");
    await label("Condition 1 test").selectOption("gte");
    await label("Condition 1 value").fill("5");
    await editor.getByRole("button", { name: "Add group", exact: true }).click();
    await expect.poll(() => label("Match 2").inputValue()).toBe("any");
    await editor.getByRole("button", { name: "Add condition to group 2" }).click();
    await label("Condition 2.1 field").selectOption("hours_since_status_change");
    await label("Condition 2.1 test").selectOption("gte");
    await label("Condition 2.1 value").fill("40");
    await editor.getByLabel("Condition 2.1: business hours").check();
    await editor.getByRole("button", { name: "Add condition to group 2" }).click();
    await label("Condition 2.2 field").selectOption("business_hours_now");
    await label("Condition 2.2 value").selectOption("false");
    await editor.getByRole("button", { name: "Add condition", exact: true }).click();
    await label("Condition 3 field").selectOption("status");
    await label("Condition 3 test").selectOption("in");
    await label("Condition 3 values").selectOption(["new", "open"]);
    await editor.getByRole("button", { name: "Add condition", exact: true }).click();
    await label("Condition 4 field").selectOption("priority");
    await label("Condition 4 test").selectOption("changed_to");
    await label("Condition 4 value").selectOption("high");

    await label("Action 1").selectOption("set_field");
    await label("Action 1 field").selectOption("custom");
    await label("Action 1 custom field key").fill(site);
    await label("Action 1 value").fill("paris");
    const addAction = editor.getByRole("button", { name: "Add action" });
    await addAction.click();
    await label("Action 2").selectOption("assign");
    await label("Action 2 assignee").selectOption("rule");
    await label("Action 2 strategy").selectOption("least_open");
    await addAction.click();
    await label("Action 3").selectOption("notify");
    await editor.getByRole("group", { name: "Action 3 recipients" }).getByLabel("The requester").check();
    await label("Action 3 subject").fill("Rule saw {{ticket.number}}");
    await label("Action 3 text").fill("Hello {{requester.first_name}}");
    await addAction.click();
    await label("Action 4").selectOption("webhook"); // no webhook chosen yet
    await addAction.click();
    await label("Action 5").selectOption("apply_macro");
    await label("Action 5 macro").selectOption(macro.id);
    await addAction.click();
    await label("Action 6").selectOption("reply");
    await label("Action 6 text").fill("See {{ticket.nope}}");
    await checkScreen(page, "automation-editor-full");

    // The request's shape first: the missing webhook, on its select.
    const create = editor.getByRole("button", { name: "Create rule" });
    await create.click();
    await expect.poll(() => label("Action 4 webhook").getAttribute("aria-invalid")).toBe("true");
    await label("Action 4 webhook").selectOption(hook.id);
    // Then every reference and template problem at once, each on its own input.
    await create.click();
    await expect.poll(() => label("Condition 1 custom field key").getAttribute("aria-invalid")).toBe("true");
    await expect.poll(() => label("Action 6 text").getAttribute("aria-invalid")).toBe("true");
    expect(await label("Action 4 webhook").getAttribute("aria-invalid")).toBeNull();
    await checkScreen(page, "automation-editor-errors");
    await label("Condition 1 custom field key").fill("seats");
    await label("Action 6 text").fill("See {{ticket.url}}");
    await create.click();
    await expect.poll(() => page.getByTestId("automation-rows").textContent()).toContain(name);

    const rules = await apiCall<{ name: string; [k: string]: unknown }[]>(token, "GET", "/v1/automations");
    const saved = rules.find((r) => r.name === name)!;
    expect(saved).toMatchObject({
      kind: "event",
      active: false,
      loop_limit: 3,
      triggers: [
        { event: "updated", fields: ["priority", `custom_fields.${site}`] },
        { event: "commented", visibility: "public", by: "requester" },
      ],
      conditions: {
        all: [
          { field: "custom_fields.seats", op: "gte", value: 5 },
          {
            any: [
              { field: "hours_since_status_change", op: "gte", value: 40, business: true },
              { field: "business_hours_now", op: "is", value: false },
            ],
          },
          { field: "status", op: "in", value: ["new", "open"] },
          { field: "priority", op: "changed_to", value: "high" },
        ],
      },
      actions: [
        { type: "set_field", field: `custom_fields.${site}`, value: "paris" },
        { type: "assign", assignee_rule: "least_open" },
        { type: "notify", to: ["requester"], subject: "Rule saw {{ticket.number}}", body: "Hello {{requester.first_name}}" },
        { type: "webhook", webhook_id: hook.id },
        { type: "apply_macro", macro_id: macro.id },
        { type: "reply", body: "See {{ticket.url}}" },
      ],
      problems: [],
    });

    // Edit it: the form comes back as saved; a change is a PATCH.
    const row = page.getByTestId("automation-rows").getByRole("listitem").filter({ hasText: name });
    await row.getByRole("button", { name: `Edit ${name}` }).click();
    const edit = page.getByRole("region", { name: `Edit rule: ${name}` });
    await expect.poll(() => edit.getByLabel("Condition 2.1 value", { exact: true }).inputValue()).toBe("40");
    expect(await edit.getByLabel("Condition 2.1: business hours").isChecked()).toBe(true);
    expect(await edit.getByLabel("Action 5 macro", { exact: true }).inputValue()).toBe(macro.id);
    await edit.getByLabel("Condition 2.1 value", { exact: true }).fill("80");
    await edit.getByRole("button", { name: "Save rule" }).click();
    await expect.poll(async () => {
      const again = await apiCall<{ name: string; conditions: { all: { any?: { value: unknown }[] }[] } }[]>(token, "GET", "/v1/automations");
      return again.find((r) => r.name === name)?.conditions.all[1]?.any?.[0]?.value;
    }).toBe(80);
    expect(errors).toEqual([]);
  });
});
