import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { checkScreen, launch, openSession, signIn, unique, type Session } from "./support";

let browser: Browser;
let manager: Session;

beforeAll(async () => {
  browser = await launch();
  manager = await openSession(browser);
});

afterAll(async () => {
  await browser?.close();
});

// The stack's scheduled discovery ticks every minute (local/dev.py): a queued run waits for it.
const TICK_MS = 150_000;

describe("AWS discovery", () => {
  test(
    "a manager adds a source, copies its trust policy, runs it now and watches the run end",
    async () => {
      const { page, errors } = manager;
      await signIn(page, "manager@acme.example");
      await page.goto("/admin/aws-discovery");
      await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe("AWS discovery");
      await checkScreen(page, "admin-aws-discovery");

      const form = page.getByRole("form", { name: "New discovery source" });
      const name = unique("Production account");
      await form.getByLabel("Name").fill(name);
      await form.getByLabel("Role ARN").fill("arn:aws:iam::123456789012:role/admin");
      await form.getByRole("button", { name: "Add source" }).click();
      await expect.poll(() => form.getByText("An IAM role ARN whose name starts with servicedesk-discovery").count()).toBe(1);
      await expect.poll(() => form.getByText("Choose at least one region").count()).toBe(1);

      const account = String(Date.now()).slice(-12).padStart(12, "1");
      await form.getByLabel("Role ARN").fill(`arn:aws:iam::${account}:role/servicedesk-discovery`);
      await form.getByRole("checkbox", { name: "eu-west-1" }).check();
      await form.getByRole("checkbox", { name: "ec2:instance" }).check();
      await form.getByRole("button", { name: "Add source" }).click();

      const setup = page.getByRole("region", { name: `Set up the role of ${name}` });
      await expect.poll(() => setup.count()).toBe(1);
      const externalId = (await setup.getByTestId("external-id").textContent()) ?? "";
      expect(externalId).toMatch(/^[0-9a-f]{64}$/);
      const policy = JSON.parse((await setup.getByTestId("trust-policy").textContent()) ?? "{}");
      expect(policy.Statement[0].Condition.StringEquals["sts:ExternalId"]).toBe(externalId);
      await checkScreen(page, "admin-aws-discovery-source");

      const sources = page.getByTestId("discovery-sources");
      await page.getByRole("button", { name: `Run now: ${name}` }).click();
      await expect.poll(() => page.getByText(`A run of ${name} is queued; it starts within a minute.`).count()).toBe(1);
      const runs = page.getByTestId("discovery-runs");
      await expect.poll(() => runs.getByText("Queued").count()).toBe(1);
      // A second run while one is queued: refused, and said so on the row.
      await page.getByRole("button", { name: `Run now: ${name}` }).click();
      await expect.poll(() => sources.getByText("this source is already being discovered", { exact: false }).count()).toBeGreaterThan(0);

      // The empty account answers: the run succeeds with nothing found.
      await expect.poll(() => runs.getByText("Succeeded").count(), { timeout: TICK_MS, interval: 2000 }).toBe(1);
      expect(await runs.textContent()).toContain("0 found: 0 new");
      // The refusal was about the run that has now ended: it leaves the row.
      await expect.poll(() => sources.getByText("this source is already being discovered", { exact: false }).count(), { timeout: 15_000 }).toBe(0);

      // Edit: hourly; then disable from the list.
      await setup.getByLabel("Runs").selectOption("hourly");
      await setup.getByRole("button", { name: "Save source" }).click();
      await expect.poll(() => setup.getByText("Source saved.").count()).toBe(1);
      await page.getByRole("button", { name: `Disable ${name}` }).click();
      await expect.poll(() => page.getByRole("button", { name: `Enable ${name}` }).count()).toBe(1);
      await checkScreen(page, "admin-aws-discovery-runs");

      // Delete asks first; cancelling keeps the source, confirming removes it and its panels.
      await page.getByRole("button", { name: `Delete ${name}` }).click();
      const dialog = page.getByRole("dialog", { name: `Delete the source ${name}?` });
      await expect.poll(() => dialog.isVisible()).toBe(true);
      await checkScreen(page, "admin-aws-discovery-delete");
      await dialog.getByRole("button", { name: "Cancel" }).click();
      await expect.poll(() => dialog.isVisible()).toBe(false);
      expect(await sources.getByText(name, { exact: true }).count()).toBe(1);
      await page.getByRole("button", { name: `Delete ${name}` }).click();
      await dialog.getByRole("button", { name: "Delete", exact: true }).click();
      await expect.poll(() => page.getByRole("status").filter({ hasText: `Source ${name} deleted.` }).count()).toBe(1);
      await expect.poll(() => page.getByRole("button", { name: `Delete ${name}` }).count()).toBe(0);
      expect(await setup.count()).toBe(0);
      expect(errors).toEqual([]);
    },
    TICK_MS + 90_000,
  );
});
