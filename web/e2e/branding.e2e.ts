import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { BASE_URL, apiCall, apiLogin, checkScreen, launch, openSession, signIn, unique } from "./support";

/** Branding (issue 20 item 5): an admin sets the name, colours, logo and welcome on the
 * settings screen with a live preview; the app shows them at once (CSS custom properties
 * read at run time, no rebuild, no reload) and the next e-mail carries them. */

let browser: Browser;
let admin = "";
const display = unique("Acme Support");
const welcome = "Welcome to the Acme service desk.\nCall 555-0100 if the network is down.";
// A 1x1 PNG.
const PNG = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==", "base64");

interface Caught {
  name: string;
  to: string;
  subject: string;
}

async function mailFor(token: string, to: string, subject: string): Promise<{ name: string; raw: string }> {
  for (let waited = 0; waited < 30_000; waited += 500) {
    const page = await apiCall<{ items: Caught[] }>(token, "GET", "/v1/dev/mail?limit=100");
    const found = page.items.find((m) => m.to.includes(to) && m.subject.includes(subject));
    if (found) {
      const response = await fetch(`${BASE_URL}/v1/dev/mail/${encodeURIComponent(found.name)}`, { headers: { authorization: `Bearer ${token}` } });
      const raw = (await response.text()).replace(/=\r?\n/g, "").replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
      return { name: found.name, raw };
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`no mail to ${to} about ${subject}`);
}

async function resetBranding(): Promise<void> {
  const response = await fetch(`${BASE_URL}/v1/settings/branding`, { headers: { authorization: `Bearer ${admin}` } });
  const etag = response.headers.get("etag") ?? "";
  await fetch(`${BASE_URL}/v1/settings/branding`, {
    method: "PUT",
    headers: { authorization: `Bearer ${admin}`, "content-type": "application/json", "if-match": etag },
    body: "{}",
  });
}

beforeAll(async () => {
  browser = await launch();
  admin = await apiLogin("admin@acme.example");
  await resetBranding();
});
afterAll(async () => {
  await resetBranding();
  await browser?.close();
});

describe("branding", () => {
  test("set on the settings screen, shown by the app without a rebuild, carried by the next e-mail", async () => {
    const { page, errors } = await openSession(browser);
    await signIn(page, "admin@acme.example");
    await page.goto("/admin/settings");
    await page.getByRole("heading", { name: "Branding" }).waitFor();
    await checkScreen(page, "settings-branding");

    // Too little contrast: said on the field, nothing saved.
    await page.getByLabel("Primary colour").fill("#7aa7ff");
    await page.getByRole("button", { name: "Save branding" }).click();
    await expect.poll(() => page.getByText(/needs 4\.5:1/).count()).toBeGreaterThan(0);

    await page.getByLabel("Display name").fill(display);
    await page.getByLabel("Primary colour").fill("#0b5cad");
    await page.getByLabel("Accent colour").fill("#c2410c");
    await page.getByLabel("Portal welcome text").fill(welcome);
    await page.getByLabel("Logo").setInputFiles({ name: "logo.png", mimeType: "image/png", buffer: PNG });
    await page.getByText("Logo uploaded: save to use it.").waitFor();
    // The preview follows the form before anything is saved.
    await expect.poll(() => page.getByTestId("branding-preview").textContent()).toContain(display);
    await page.getByRole("button", { name: "Save branding" }).click();
    await expect.poll(() => page.getByText("Saved.", { exact: true }).count()).toBe(1);

    // The shell, in the same page: no reload, no rebuild.
    await expect.poll(() => page.getByTestId("brand-name").textContent()).toBe(display);
    const accent = () => page.evaluate(() => getComputedStyle(document.documentElement).getPropertyValue("--sd-accent").trim());
    await expect.poll(accent).toBe("#0b5cad");
    const logo = page.getByRole("img", { name: `${display} logo` });
    await expect.poll(() => logo.evaluate((img) => (img as HTMLImageElement).naturalWidth)).toBe(1);
    await checkScreen(page, "settings-branding-saved");

    // A requester's portal: the name, the colour and the welcome.
    const employee = await openSession(browser);
    await signIn(employee.page, "employee@acme.example");
    await employee.page.goto("/requests");
    await expect.poll(() => employee.page.getByTestId("portal-welcome").textContent()).toBe(welcome);
    await expect.poll(() => employee.page.getByTestId("brand-name").textContent()).toBe(display);
    const button = employee.page.getByRole("main").getByRole("link", { name: "New request" });
    await expect.poll(() => button.evaluate((el) => getComputedStyle(el).backgroundColor)).toBe("rgb(11, 92, 173)");
    await checkScreen(employee.page, "portal-branded");
    expect(employee.errors).toEqual([]);
    await employee.context.close();

    // The next e-mail: a reply to the employee's request.
    const title = unique("Branded mail");
    const ticket = await apiCall<{ id: string }>(await apiLogin("employee@acme.example"), "POST", "/v1/tickets", { title });
    await apiCall(await apiLogin("agent@acme.example"), "POST", `/v1/tickets/${ticket.id}/comments`, { body: "On it." });
    const mail = await mailFor(admin, "employee@acme.example", `New reply: ${title}`);
    expect(mail.raw).toContain(display);
    expect(mail.raw).toContain("background:#0b5cad");
    expect(mail.raw).toContain("border-top:4px solid #c2410c");
    const src = /<img src="([^"]+\/v1\/branding\/acme\/logo\?v=[^"]+)"/.exec(mail.raw)?.[1] ?? "";
    expect(src).not.toBe("");
    // The logo address works for a mail client: no session, an image at the end.
    const fetched = await fetch(src.replace(/^https?:\/\/[^/]+/, BASE_URL));
    expect(fetched.status).toBe(200);
    expect(Buffer.from(await fetched.arrayBuffer()).equals(PNG)).toBe(true);
    // And in the dev mail viewer.
    await page.goto(`/dev/mail/${encodeURIComponent(mail.name)}`);
    await expect.poll(() => page.getByTestId("mail-html").textContent()).toContain(display);
    expect(errors).toEqual([]);
    await page.context().close();
  });

  test("the public branding shows only public fields", async () => {
    const response = await fetch(`${BASE_URL}/v1/branding/acme`);
    expect(response.status).toBe(200);
    expect(Object.keys((await response.json()) as object).sort()).toEqual(["accent_color", "display_name", "logo_url", "primary_color", "self_registration", "welcome_text"]);
  });
});
