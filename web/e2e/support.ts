import { mkdirSync, readFileSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { expect } from "vitest";

/** The stack scripts/e2e_stack.py started for this run. */
export const BASE_URL = process.env.E2E_BASE_URL ?? "";
export const PASSWORD = process.env.E2E_PASSWORD ?? "demo-password-123";
if (!BASE_URL) throw new Error("E2E_BASE_URL is not set: run through scripts/e2e_stack.py (make web-test)");

const here = dirname(fileURLToPath(import.meta.url));
export const SCREENSHOTS = join(here, "screenshots");
mkdirSync(SCREENSHOTS, { recursive: true });

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

export function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: CHROMIUM_ARGS,
  });
}

export interface Session {
  context: BrowserContext;
  page: Page;
  /** Console errors and uncaught exceptions (CSP violations land here too). */
  errors: string[];
}

/** A fresh browser profile (its own cookies), at a desktop size unless told otherwise. */
export async function openSession(browser: Browser, viewport = { width: 1280, height: 860 }): Promise<Session> {
  const context = await browser.newContext({ baseURL: BASE_URL, viewport, reducedMotion: "reduce" });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("console", (message) => {
    if (message.type() !== "error") return;
    const text = message.text();
    // A refused request is logged by the browser as well as handled by the app.
    if (/Failed to load resource: the server responded with a status of (401|404|409|412|422)/.test(text)) return;
    // Realtime is another issue's (7); its absence only slows updates, which poll anyway.
    if (/WebSocket connection to .* failed/.test(text)) return;
    errors.push(text);
  });
  page.on("pageerror", (error) => errors.push(String(error)));
  return { context, page, errors };
}

export async function signIn(page: Page, email: string, password = PASSWORD): Promise<void> {
  await page.goto("/login");
  await page.getByLabel("E-mail").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL((url) => !url.pathname.startsWith("/login"));
}

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[]; failureSummary?: string }[];
}

/** axe-core in the page (evaluated through the debugging protocol, so the app's CSP stays
 * on); serious and critical violations fail the test. */
export async function axe(page: Page, label: string): Promise<void> {
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const result = await (window as unknown as { axe: { run: (ctx: Document, opts: object) => Promise<{ violations: AxeViolation[] }> } }).axe.run(document, {
      runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"] },
    });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map((n) => ({ target: n.target, failureSummary: n.failureSummary })) }));
  });
  const bad = violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  expect(bad, `${label}: axe violations\n${JSON.stringify(bad, null, 2)}`).toEqual([]);
}

export async function setTheme(page: Page, theme: "light" | "dark"): Promise<void> {
  // Switched with transitions off and the styles recomputed before they come back: under
  // reduced motion every property still transitions for 0.01 ms (index.css), and on a busy
  // machine axe once read a heading mid-way (the old theme's text on the new background).
  // (Through the CSSOM: the app's CSP, style-src 'self', refuses an inserted <style>.)
  await page.evaluate((t) => {
    const sheet = Array.from({ length: document.styleSheets.length }, (_, i) => document.styleSheets.item(i)).find((s) => {
      try {
        return s !== null && s.cssRules !== null;
      } catch {
        return false;
      }
    });
    const at = sheet ? sheet.insertRule("*, *::before, *::after { transition: none !important; }", sheet.cssRules.length) : -1;
    localStorage.setItem("sd-theme", t);
    document.documentElement.dataset.theme = t;
    document.querySelectorAll("*").forEach((el) => void getComputedStyle(el).color);
    if (sheet && at >= 0) sheet.deleteRule(at);
  }, theme);
  await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(() => done(null)))));
}

/** axe in both themes and a screenshot of each (web/e2e/screenshots/<name>-<theme>.png). */
export async function checkScreen(page: Page, name: string): Promise<void> {
  for (const theme of ["light", "dark"] as const) {
    await setTheme(page, theme);
    await axe(page, `${name} (${theme})`);
    await page.screenshot({ path: join(SCREENSHOTS, `${name}-${theme}.png`), fullPage: true });
  }
  await setTheme(page, "light");
}

/** Direct API calls for setting a scene (a category, a second ticket); the UI is what is tested. */
export async function apiLogin(email: string, password = PASSWORD): Promise<string> {
  const response = await fetch(`${BASE_URL}/v1/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email, password }),
  });
  if (!response.ok) throw new Error(`login ${email}: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { access_token: string }).access_token;
}

export async function apiCall<T>(token: string, method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${BASE_URL}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: body === undefined ? null : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

export function unique(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
}

/** The sign-up link (its path and #token), read from the caught e-mail (outbox → e-mail
 * queue → mail catcher) as the person would read it in their inbox. */
export async function signupLink(email: string): Promise<string> {
  const dir = process.env.E2E_MAIL_DIR ?? "";
  expect(dir, "E2E_MAIL_DIR is set by scripts/e2e_stack.py").not.toBe("");
  for (let i = 0; i < 60; i++) {
    let names: string[] = [];
    try {
      names = readdirSync(dir).filter((n) => n.includes("signup.requested") && n.includes(email));
    } catch {
      names = [];
    }
    for (const name of names) {
      // Quoted-printable may break and escape the link.
      const flat = readFileSync(join(dir, name), "utf8").replace(/=\r?\n/g, "").replace(/=3D/g, "=");
      const link = /https?:\/\/[^\s"<>]*\/signup\/confirm#token=[A-Za-z0-9_-]+/.exec(flat)?.[0];
      if (link) return new URL(link).pathname + new URL(link).hash;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`no sign-up e-mail for ${email}`);
}

/** A POST without a session (sign-up and its confirmation). */
export async function publicPost<T>(path: string, body: unknown): Promise<T> {
  const response = await fetch(`${BASE_URL}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  const text = await response.text();
  if (!response.ok) throw new Error(`POST ${path}: ${response.status} ${text}`);
  return JSON.parse(text) as T;
}

/** A fresh organisation through the public sign-up and its e-mailed confirmation, for a test
 * whose settings are nobody else's business: its slug and its admin's e-mail and token. */
export async function newOrganisation(prefix: string): Promise<{ slug: string; adminEmail: string; adminToken: string }> {
  const slug = unique(prefix);
  const adminEmail = `ada@${slug}.example`;
  await publicPost("/v1/signup", { organization_name: `Org ${slug}`, slug, name: "Ada Admin", email: adminEmail, password: PASSWORD });
  const token = new URLSearchParams((await signupLink(adminEmail)).split("#")[1]).get("token");
  await publicPost("/v1/signup/confirm", { token });
  return { slug, adminEmail, adminToken: await apiLogin(adminEmail) };
}
