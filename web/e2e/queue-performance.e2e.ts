import type { Browser } from "playwright-core";
import { afterAll, beforeAll, expect, test } from "vitest";
import { apiCall, apiLogin, launch, openSession, signIn, unique } from "./support";

let browser: Browser;
beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
});

test("a queue of 100 tickets renders at once, without long main-thread tasks", async () => {
  const employee = await apiLogin("employee2@acme.example");
  const word = unique("printer").replace("-", "");
  for (let i = 0; i < 100; i++) {
    await apiCall(employee, "POST", "/v1/tickets", { title: `${word} jam number ${i}`, description: "Paper everywhere." });
  }
  const { page, errors, context } = await openSession(browser);
  await signIn(page, "agent@acme.example");
  await page.addInitScript(() => {
    const w = window as unknown as { longTasks: number[] };
    w.longTasks = [];
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) w.longTasks.push(entry.duration);
    }).observe({ type: "longtask", buffered: true });
  });
  const started = Date.now();
  await page.goto(`/queues/all?status=any&q=${word}`);
  await expect.poll(() => page.locator("[data-row-link]").count(), { timeout: 20_000 }).toBe(100);
  const elapsed = Date.now() - started;
  const longTasks = await page.evaluate(() => (window as unknown as { longTasks: number[] }).longTasks);
  const longest = Math.max(0, ...longTasks);
  console.log(`queue of 100: rows after ${elapsed} ms (load included); long tasks ${longTasks.length}, longest ${longest.toFixed(0)} ms`);

  // Keyboard: End jumps to the last row, k moves up one.
  await page.locator("[data-row-link]").first().focus();
  await page.keyboard.press("End");
  expect(await page.evaluate(() => document.activeElement?.textContent)).toContain("jam number 0");
  await page.keyboard.press("k");
  expect(await page.evaluate(() => document.activeElement?.textContent)).toContain("jam number 1");
  // Generous for a shared two-core machine; the figure above is what to watch.
  expect(longest).toBeLessThan(400);
  expect(errors).toEqual([]);
  await context.close();
});
