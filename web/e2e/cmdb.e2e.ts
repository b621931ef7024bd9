import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { apiCall, apiLogin, checkScreen, launch, openSession, signIn, unique, type Session } from "./support";

let browser: Browser;
let agent: Session;
let manager: Session;
let ticketId = "";
const service = unique("Mail service");
const app = unique("Exchange");
const host = unique("Host");
const ids: Record<string, string> = {};

beforeAll(async () => {
  browser = await launch();
  const token = await apiLogin("manager@acme.example");
  const classes = await apiCall<{ items: { id: string; key: string }[] }>(token, "GET", "/v1/ci-classes?limit=100");
  const classId = (key: string) => classes.items.find((c) => c.key === key)?.id ?? "";
  for (const [name, key] of [[service, "business_service"], [app, "software"], [host, "hardware"]] as const) {
    const made = await apiCall<{ id: string }>(token, "POST", "/v1/cis", {
      class_id: classId(key),
      name,
      state: "deployed",
      location: "DC1",
      external_id: name,
      attributes: key === "hardware" ? { cpu: 16 } : {},
    });
    ids[name] = made.id;
  }
  await apiCall(token, "POST", `/v1/cis/${ids[service]}/relationships`, { type: "depends_on", target_id: ids[app] });
  await apiCall(token, "POST", `/v1/cis/${ids[app]}/relationships`, { type: "runs_on", target_id: ids[host] });
  const employee = await apiLogin("employee@acme.example");
  const ticket = await apiCall<{ id: string }>(employee, "POST", "/v1/tickets", { title: unique("Mail is slow"), description: "Since this morning" });
  ticketId = ticket.id;
  agent = await openSession(browser);
  manager = await openSession(browser);
});

afterAll(async () => {
  await browser?.close();
});

describe("the CMDB", () => {
  test("an agent finds a CI, reads it as a graph and as a table, and sees its impact", async () => {
    const { page, errors } = agent;
    await signIn(page, "agent@acme.example");
    await page.getByRole("link", { name: "CMDB" }).click();
    await page.waitForURL("**/cmdb");
    await page.getByRole("searchbox", { name: "Search" }).fill(host);
    await expect.poll(() => page.getByTestId("ci-rows").getByRole("row").count()).toBe(1);
    await checkScreen(page, "cmdb-list");
    await page.getByRole("link", { name: host }).click();
    await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe(host);
    await expect.poll(() => page.getByRole("img", { name: `Relationship graph of ${host}` }).count()).toBe(1);
    await expect.poll(() => page.getByTestId("impact-services").textContent()).toContain(service);
    await checkScreen(page, "cmdb-detail");
    await page.getByLabel("Show relationships as").selectOption("table");
    await expect.poll(() => page.getByTestId("relationship-table").textContent()).toContain("runs on");
    await page.getByLabel("Direction").selectOption("down");
    await expect.poll(() => page.getByTestId("ci-impact").textContent()).toContain("No business service reached");
    expect(errors).toEqual([]);
  });

  test("on a ticket, the agent links the CI and sees the affected service", async () => {
    const { page, errors } = agent;
    await page.goto(`/tickets/${ticketId}`);
    await expect.poll(() => page.getByRole("heading", { level: 1 }).count()).toBe(1);
    await page.getByRole("searchbox", { name: "Link a configuration item" }).fill(host);
    await page.getByTestId("ci-candidates").getByRole("button", { name: "Link" }).click();
    await expect.poll(() => page.getByTestId("ticket-cis").textContent()).toContain(host);
    await expect.poll(() => page.getByTestId("affected-services").textContent()).toContain(service);
    await checkScreen(page, "cmdb-ticket");
    expect(errors).toEqual([]);
  });

  test("a manager checks a CSV (a row fails), then imports the rows that pass", async () => {
    const { page, errors } = manager;
    await signIn(page, "manager@acme.example");
    await page.goto("/cmdb/import");
    const tag = unique("imp");
    const csv = `external_id,name,class,state\r\n${tag}-1,${tag} one,hardware,in_stock\r\n${tag}-2,${tag} two,nope,\r\n`;
    await page.getByLabel("CSV file").setInputFiles({ name: "cis.csv", mimeType: "text/csv", buffer: Buffer.from(csv) });
    await page.getByRole("button", { name: "Check the file" }).click();
    await expect.poll(() => page.getByTestId("import-summary").textContent()).toContain("2 rows: 1 new, 0 changed, 0 unchanged, 1 failing");
    await expect.poll(() => page.getByTestId("import-errors").textContent()).toContain("no class with key");
    await checkScreen(page, "cmdb-import");
    await page.getByLabel("Import the rows that pass, skip the others").check();
    await page.getByRole("button", { name: "Import 1 rows" }).click();
    await expect.poll(() => page.getByTestId("import-done").textContent()).toContain("1 new");
    expect(errors).toEqual([]);
  });
  test("a manager imports a CSV over the synchronous limit through a job: upload, check, import", async () => {
    // Signed in by the test above: signing in again races the login page's redirect of a
    // signed-in session (the form detaches under the click).
    const { page, errors } = manager;
    await page.goto("/cmdb/import");
    const tag = unique("big");
    const pad = (c: string) => c.repeat(150);
    const rows = [`${tag}-bad,${tag} bad,nope,,,,`];
    // ~670 bytes a row: 9,600 rows pass 6 MB, the synchronous import's limit.
    for (let i = 0; i < 9600; i += 1) rows.push(`${tag}-${i},${tag} ${i} ${pad("n")},hardware,in_stock,${pad("l")},${pad("s")}${i},${pad("a")}${i}`);
    const csv = `external_id,name,class,state,location,serial,asset_tag\r\n${rows.join("\r\n")}\r\n`;
    expect(csv.length).toBeGreaterThan(6 * 1024 * 1024);
    await page.getByLabel("CSV file").setInputFiles({ name: "big.csv", mimeType: "text/csv", buffer: Buffer.from(csv) });
    await expect.poll(() => page.getByTestId("import-large").textContent()).toContain("in the background");
    await page.getByRole("button", { name: "Check the file" }).click();
    await expect
      .poll(() => page.getByTestId("import-summary").textContent(), { timeout: 120_000, interval: 1000 })
      .toContain("9601 rows: 9600 new, 0 changed, 0 unchanged, 1 failing");
    await expect.poll(() => page.getByTestId("import-errors").textContent()).toContain("no class with key");
    await checkScreen(page, "cmdb-import-job");
    await page.getByLabel("Import the rows that pass, skip the others").check();
    // The import reuses the dry run's upload: no second job asked for, no second upload.
    const posts: string[] = [];
    const onRequest = (request: { method: () => string; url: () => string }) => {
      if (request.method() === "POST") posts.push(new URL(request.url()).pathname);
    };
    page.on("request", onRequest);
    await page.getByRole("button", { name: "Import 9600 rows" }).click();
    await expect.poll(() => page.getByTestId("import-done").textContent(), { timeout: 120_000, interval: 1000 }).toContain("9600 new");
    page.off("request", onRequest);
    expect(posts.filter((path) => !path.startsWith("/v1/") || path === "/v1/cis/imports")).toEqual([]);
    expect(posts.filter((path) => /^\/v1\/cis\/imports\/[^/]+\/import$/.test(path))).toHaveLength(1);
    const token = await apiLogin("manager@acme.example");
    const jobs = await apiCall<{ items: { status: string; dry_run: boolean; report: { created: number } | null }[] }>(token, "GET", "/v1/cis/imports?limit=2");
    expect(jobs.items.map((j) => [j.status, j.dry_run, j.report?.created])).toEqual([
      ["done", false, 9600],
      ["done", true, 9600],
    ]);
    expect(errors).toEqual([]);
  }, 300_000);
  test("a manager defines a class with an attribute, creates a CI of it, edits it, relates it and is refused a cycle", async () => {
    const { page, errors } = manager;
    const className = unique("Switch class");
    const key = `sw_${Date.now().toString(36)}`;
    const name = unique("Core switch");
    await page.goto("/admin/ci-classes");
    await expect.poll(() => page.getByTestId("ci-classes").textContent()).toContain("hardware");
    await checkScreen(page, "cmdb-classes");
    await page.getByRole("link", { name: "New class" }).click();
    await page.getByRole("textbox", { name: "Key" }).fill(key);
    await page.getByRole("textbox", { name: "Name", exact: true }).fill(className);
    await page.getByRole("button", { name: "Add a field" }).click();
    await page.getByRole("textbox", { name: "Field name" }).fill("ports");
    await page.getByLabel("Kind").selectOption("integer");
    await page.getByRole("checkbox", { name: "Required" }).check();
    await checkScreen(page, "cmdb-class-editor");
    await page.getByRole("button", { name: "Create class" }).click();
    await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe(className);

    await page.goto("/cmdb");
    await page.getByRole("link", { name: "New CI" }).click();
    await page.waitForURL("**/cmdb/new");
    // The list (with its own Class filter) stays on screen until the form's chunk arrives.
    await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe("New configuration item");
    await page.getByLabel("Class").selectOption({ label: className });
    await expect.poll(() => page.getByRole("form", { name: "New configuration item" }).textContent()).toContain("Ports");
    await page.getByRole("textbox", { name: "Name", exact: true }).fill(name);
    // A required attribute left empty is refused next to its input, before anything is sent.
    await page.getByRole("button", { name: "Create configuration item" }).click();
    await expect.poll(() => page.getByText("Please correct the marked fields").count()).toBeGreaterThan(0);
    await page.getByRole("spinbutton", { name: "Ports" }).fill("48");
    await page.getByRole("searchbox", { name: "Owner" }).fill("agent2@");
    await page.getByRole("button", { name: /^Choose Avery Agent/ }).click();
    await expect.poll(() => page.getByTestId("picked-user").textContent()).toContain("Avery Agent");
    await checkScreen(page, "cmdb-new");
    await page.getByRole("button", { name: "Create configuration item" }).click();
    await page.waitForURL(/\/cmdb\/[0-9a-f-]{36}$/);
    await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe(name);
    await expect.poll(() => page.getByTestId("ci-attributes").textContent()).toContain("Ports48");
    await expect.poll(() => page.getByTestId("ci-attributes").textContent()).toContain("Avery Agent");
    const ciId = page.url().split("/").pop() ?? "";

    await page.getByRole("button", { name: "Edit", exact: true }).click();
    await page.getByRole("textbox", { name: "Location" }).fill("DC2 rack 4");
    await page.getByLabel("State").selectOption("in_stock");
    await page.getByRole("button", { name: "Save changes" }).click();
    await expect.poll(() => page.getByText("Saved.", { exact: true }).count()).toBe(1);
    await page.getByRole("button", { name: "Close" }).click();
    await expect.poll(() => page.getByTestId("ci-attributes").textContent()).toContain("DC2 rack 4");
    await expect.poll(() => page.getByTestId("ci-history").textContent()).toContain("location");

    // It depends on the host; the host may then not depend on it (a cycle).
    await page.getByRole("searchbox", { name: "Related configuration item" }).fill(host);
    await page.getByRole("button", { name: `Choose ${host}` }).click();
    await page.getByRole("button", { name: "Add relationship" }).click();
    await page.getByLabel("Show relationships as").selectOption("table");
    await expect.poll(() => page.getByTestId("relationship-table").textContent()).toContain(host);
    await checkScreen(page, "cmdb-edit-detail");
    await page.goto(`/cmdb/${ids[host]}`);
    await page.getByRole("searchbox", { name: "Related configuration item" }).fill(name);
    await page.getByRole("button", { name: `Choose ${name}` }).click();
    await page.getByRole("button", { name: "Add relationship" }).click();
    await expect.poll(() => page.getByText("already depends_on this CI (directly or not)").count()).toBe(1);
    await checkScreen(page, "cmdb-cycle");
    const token = await apiLogin("manager@acme.example");
    const relationships = await apiCall<{ items: unknown[] }>(token, "GET", `/v1/cis/${ciId}/relationships`);
    expect(relationships.items).toHaveLength(1);

    // Who uses it (the same picker), and the relationship removed from the table.
    await page.goto(`/cmdb/${ciId}`);
    await page.getByRole("searchbox", { name: "Link a person" }).fill("agent@");
    await page.getByRole("button", { name: /^Choose Alex Agent/ }).click();
    await expect.poll(() => page.getByTestId("ci-users").textContent()).toContain("Alex Agent");
    await page.getByLabel("Show relationships as").selectOption("table");
    await page.getByRole("button", { name: `Remove relationship: depends on ${host}` }).click();
    await expect.poll(() => page.getByText("No relationships").count()).toBe(1);
    await page.getByRole("button", { name: "Unlink Alex Agent" }).click();
    await expect.poll(() => page.getByText("Nobody linked").count()).toBe(1);
    expect(errors).toEqual([]);
  });
});
