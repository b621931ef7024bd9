import { createHmac } from "node:crypto";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { PASSWORD, apiCall, apiLogin, checkScreen, launch, newOrganisation, openSession, publicPost, unique } from "./support";

/** Two-step verification (issue 21 point 4): enrolment in My profile, sign-in with a code
 * and with a recovery code, and an organisation that requires it of its staff. */

let browser: Browser;

beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
});

function base32(text: string): Buffer {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const ch of text.replace(/=+$/, "").toUpperCase()) bits += alphabet.indexOf(ch).toString(2).padStart(5, "0");
  const bytes = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(bytes);
}

/** RFC 6238 (SHA-1, 6 digits, 30 s), ``steps`` periods from now: what the app would show. */
function totp(secret: string, steps = 0): string {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 30000) + steps));
  const mac = createHmac("sha1", base32(secret)).update(counter).digest();
  const offset = mac[mac.length - 1]! & 0xf;
  const value = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return value.toString().padStart(6, "0");
}

async function passwordStep(page: Page, email: string): Promise<void> {
  await page.goto("/login");
  await page.getByLabel("E-mail").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
}

describe("two-step verification", () => {
  test("enrol in My profile, then sign in with a code, and with a recovery code once", async () => {
    const email = `${unique("mfa")}@acme.example`;
    await apiCall(await apiLogin("admin@acme.example"), "POST", "/v1/users", { email, name: "Tess Totp", role: "agent", password: PASSWORD });

    const first = await openSession(browser);
    let page = first.page;
    await passwordStep(page, email);
    await page.waitForURL((url) => !url.pathname.startsWith("/login"));
    await page.goto("/settings/profile");
    await page.getByRole("button", { name: "Set up two-step verification" }).click();
    const secret = (await page.getByTestId("mfa-secret").textContent()) ?? "";
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(await page.getByTestId("mfa-uri").textContent()).toContain(`otpauth://totp/`);
    const qr = page.getByRole("img", { name: "QR code of the key for your authenticator app" });
    // The QR code draws (an SVG the API made, shown as an image).
    await expect.poll(() => qr.evaluate((img) => (img as HTMLImageElement).naturalWidth)).toBeGreaterThan(100);
    await checkScreen(page, "mfa-enrol");
    await page.getByLabel(/^Code the app shows now/).fill("000000" === totp(secret) ? "111111" : "000000");
    await page.getByRole("button", { name: "Turn on" }).click();
    await page.getByText("That code is not right").waitFor();
    await page.getByLabel(/^Code the app shows now/).fill(totp(secret));
    await page.getByRole("button", { name: "Turn on" }).click();
    await page.getByTestId("recovery-codes").waitFor();
    const codes = (await page.getByTestId("recovery-codes").locator("li").allTextContents()).map((c) => c.trim());
    expect(codes).toHaveLength(10);
    await checkScreen(page, "mfa-recovery-codes");
    await page.getByRole("button", { name: "I saved them" }).click();
    await page.getByText("Two-step verification is on.").waitFor();
    await expect.poll(() => page.getByTestId("recovery-codes").count()).toBe(0);
    // Signing out, then in again: the password, then the code.
    await page.getByRole("button", { name: /Account/ }).click();
    await page.getByRole("menuitem", { name: "Sign out" }).click();
    await page.waitForURL((url) => url.pathname === "/login");
    expect(first.errors).toEqual([]);

    await passwordStep(page, email);
    await page.getByRole("heading", { name: "Two-step verification" }).waitFor();
    await checkScreen(page, "mfa-sign-in");
    // The enrolment used this period's code: the next one (the app's clock may be a step off).
    await page.getByLabel(/^Code from the app/).fill(totp(secret, 1));
    await page.getByRole("button", { name: "Verify" }).click();
    await page.waitForURL((url) => !url.pathname.startsWith("/login"));
    await first.context.close();

    // A recovery code, once.
    const second = await openSession(browser);
    page = second.page;
    await passwordStep(page, email);
    await page.getByRole("button", { name: "Use a recovery code instead" }).click();
    await page.getByLabel(/^Recovery code/).fill(codes[0]!);
    await checkScreen(page, "mfa-recovery-sign-in");
    await page.getByRole("button", { name: "Verify" }).click();
    await page.waitForURL((url) => !url.pathname.startsWith("/login"));
    await page.goto("/settings/profile");
    await page.getByText("Recovery codes left: 9.").waitFor();
    // New codes, after the password again: shown once; every earlier code stops working.
    const renew = page.getByRole("form", { name: "New recovery codes" });
    await renew.getByLabel(/^Current password/).fill(PASSWORD);
    await renew.getByRole("button", { name: "Make new codes" }).click();
    await page.getByTestId("recovery-codes").waitFor();
    const renewed = (await page.getByTestId("recovery-codes").locator("li").allTextContents()).map((c) => c.trim());
    expect(renewed).toHaveLength(10);
    expect(renewed.filter((c) => codes.includes(c))).toEqual([]);
    await checkScreen(page, "mfa-new-recovery-codes");
    await page.getByRole("button", { name: "I saved them" }).click();
    await page.getByText("Your new recovery codes are the only ones that work now.").waitFor();
    await page.getByText("Recovery codes left: 10.").waitFor();
    await page.getByRole("button", { name: /Account/ }).click();
    await page.getByRole("menuitem", { name: "Sign out" }).click();
    await page.waitForURL((url) => url.pathname === "/login");
    await passwordStep(page, email);
    await page.getByRole("button", { name: "Use a recovery code instead" }).click();
    // A code of the first set no longer works (used or not).
    await page.getByLabel(/^Recovery code/).fill(codes[1]!);
    await page.getByRole("button", { name: "Verify" }).click();
    await page.getByText(/That did not work/).waitFor();
    expect(new URL(page.url()).pathname).toBe("/login");
    expect(second.errors.filter((e) => !e.includes("401"))).toEqual([]);
    await second.context.close();
  });

  test("an organisation that requires it: staff set it up at sign-in; an admin resets it", async () => {
    // A fresh organisation (its policy is nobody else's business).
    const { slug, adminEmail, adminToken } = await newOrganisation("sec");
    const agentEmail = `gus@${slug}.example`;
    await apiCall(adminToken, "POST", "/v1/users", { email: agentEmail, name: "Gus Agent", role: "agent", password: PASSWORD });

    const admin = await openSession(browser);
    await passwordStep(admin.page, adminEmail);
    await admin.page.waitForURL((url) => !url.pathname.startsWith("/login"));
    await admin.page.goto("/admin/settings");
    const box = admin.page.getByLabel("Require two-step verification for agents, managers and admins");
    await box.check();
    await admin.page.getByRole("button", { name: "Save security settings" }).click();
    await expect.poll(async () => (await apiCall<{ require_mfa_for_staff: boolean }>(adminToken, "GET", "/v1/settings/security")).require_mfa_for_staff).toBe(true);
    await checkScreen(admin.page, "security-settings");

    const agent = await openSession(browser);
    await passwordStep(agent.page, agentEmail);
    await agent.page.getByRole("heading", { name: "Set up two-step verification" }).waitFor();
    await checkScreen(agent.page, "mfa-required-enrolment");
    await agent.page.getByRole("button", { name: "Set it up" }).click();
    const secret = (await agent.page.getByTestId("mfa-secret").textContent()) ?? "";
    await agent.page.getByLabel(/^Code the app shows now/).fill(totp(secret));
    await agent.page.getByRole("button", { name: "Turn on" }).click();
    await agent.page.getByTestId("recovery-codes").waitFor();
    await agent.page.getByRole("button", { name: "I saved them" }).click();
    await agent.page.waitForURL((url) => !url.pathname.startsWith("/login"));
    await expect.poll(() => agent.page.getByRole("button", { name: /Account: Gus Agent/ }).count()).toBe(1);
    expect(agent.errors).toEqual([]);
    await agent.context.close();

    // The admin resets it (the agent lost the phone): the next sign-in sets it up again.
    await admin.page.goto("/admin/users");
    await admin.page.getByRole("button", { name: "Reset 2-step" }).click();
    await admin.page.getByRole("button", { name: "Reset two-step verification of Gus Agent" }).click();
    await admin.page.getByText("Gus Agent signs in with the password alone now").waitFor();
    const again = await publicPost<{ mfa_enrolment_required?: boolean }>("/v1/auth/login", { email: agentEmail, password: PASSWORD });
    expect(again.mfa_enrolment_required).toBe(true);
    expect(admin.errors).toEqual([]);
    await admin.context.close();
  });
});
