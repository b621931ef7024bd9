import { deflateSync } from "node:zlib";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { PASSWORD, apiCall, apiLogin, checkScreen, launch, openSession, signIn, unique } from "./support";

/** My profile, the organisation switcher and ticket invitations (issue 20 item 6). */

let browser: Browser;

beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
});

/** A new person in Acme (and in Globex too when asked), with the demo password. */
async function person(prefix: string, role = "requester", alsoGlobex = false): Promise<{ email: string; id: string }> {
  const email = `${unique(prefix)}@acme.example`;
  const created = await apiCall<{ id: string }>(await apiLogin("admin@acme.example"), "POST", "/v1/users", { email, name: "Pat Person", role, password: PASSWORD });
  if (alsoGlobex) await apiCall(await apiLogin("admin@globex.example"), "POST", "/v1/users", { email, name: "Pat Person", role: "agent", password: PASSWORD });
  return { email, id: created.id };
}

/** A real PNG (grey, 8 bits) of that size: bigger than an avatar may be. */
function png(width: number, height: number): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (bytes: Buffer) => {
    let c = 0xffffffff;
    for (const b of bytes) c = (crcTable[(c ^ b) & 0xff] ?? 0) ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (kind: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(kind, "ascii"), data]);
    const out = Buffer.alloc(body.length + 8);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc(body), body.length + 4);
    return out;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth; colour type 0 (grey)
  const rows = Buffer.alloc((width + 1) * height, 0x80);
  for (let y = 0; y < height; y++) rows[y * (width + 1)] = 0;
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk("IHDR", header), chunk("IDAT", deflateSync(rows)), chunk("IEND", Buffer.alloc(0))]);
}

describe("my profile", () => {
  test("a time zone changes every date shown; the locale their format", async () => {
    const me = await person("tz");
    const token = await apiLogin(me.email);
    const ticket = await apiCall<{ id: string }>(token, "POST", "/v1/tickets", { title: unique("Dates") });
    const { page, errors } = await openSession(browser);
    await signIn(page, me.email);

    await page.goto(`/tickets/${ticket.id}`);
    const opened = page.getByText(/^Opened /);
    await opened.waitFor();
    const before = await opened.textContent();

    await page.getByRole("button", { name: /Account/ }).click();
    await page.getByRole("menuitem", { name: "My profile" }).click();
    await page.waitForURL("**/settings/profile");
    await checkScreen(page, "profile");
    await page.getByLabel("Time zone").selectOption("Pacific/Kiritimati");
    await page.getByLabel("Date and number format").selectOption("de-DE");
    await expect.poll(() => page.getByTestId("date-sample").textContent()).toContain("16.01.2030"); // 14:30 UTC is the next day at UTC+14
    await page.getByRole("button", { name: "Save profile" }).click();
    await expect.poll(() => page.getByText("Saved.", { exact: true }).count()).toBe(1);

    await page.goBack();
    await page.waitForURL(`**/tickets/${ticket.id}`);
    await opened.waitFor();
    const after = await opened.textContent();
    expect(after).not.toBe(before);
    expect(after).toMatch(/\d{2}\.\d{2}\.\d{4}/);
    // It holds after a reload: the profile is the server's.
    await page.reload();
    await expect.poll(() => page.getByText(/^Opened /).textContent()).toBe(after);
    expect(errors).toEqual([]);
    await page.context().close();
  });

  test("an avatar: refused when not an image, shown beside the name once set, initials again when removed", async () => {
    // A 1x1 PNG.
    const tiny = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==", "base64");
    const me = await person("av");
    const { page, errors } = await openSession(browser);
    await signIn(page, me.email);
    await page.goto("/settings/profile");
    await page.getByRole("heading", { name: "Picture" }).waitFor();
    const card = page.getByRole("region", { name: "Picture" });
    await expect.poll(() => card.getByTestId("avatar-initials").textContent()).toBe("PP");
    await page.getByLabel("Choose a picture").setInputFiles({ name: "me.svg", mimeType: "image/svg+xml", buffer: Buffer.from("<svg/>") });
    await expect.poll(() => page.getByText("A picture must be a PNG, JPEG or WebP image.").count()).toBe(1);
    await page.getByLabel("Choose a picture").setInputFiles({ name: "me.png", mimeType: "image/png", buffer: tiny });
    await page.getByText("Picture saved.").waitFor();
    const image = card.getByTestId("avatar-image");
    await expect.poll(() => image.evaluate((img) => (img as HTMLImageElement).naturalWidth)).toBe(1);
    // A large picture is made 256 pixels at most a side in the browser before it is sent
    // (the API refuses a bigger one from its header).
    await page.getByLabel("Choose a picture").setInputFiles({ name: "big.png", mimeType: "image/png", buffer: png(1200, 600) });
    await page.getByText("Picture saved.").waitFor();
    await expect.poll(() => image.evaluate((img) => [(img as HTMLImageElement).naturalWidth, (img as HTMLImageElement).naturalHeight])).toEqual([256, 128]);
    await checkScreen(page, "profile-avatar");

    // Staff see it beside the person's name on their ticket and their messages.
    const token = await apiLogin(me.email);
    const title = unique("Avatar");
    const ticket = await apiCall<{ id: string }>(token, "POST", "/v1/tickets", { title });
    await apiCall(token, "POST", `/v1/tickets/${ticket.id}/comments`, { body: "Hello" });
    const agent = await openSession(browser);
    await signIn(agent.page, "agent@acme.example");
    await agent.page.goto(`/tickets/${ticket.id}`);
    const reply = agent.page.getByTestId("public-reply").first();
    await expect.poll(() => reply.getByTestId("avatar-image").count()).toBe(1);
    // And on the queue's rows (requester and assignee columns).
    await agent.page.goto("/queues/all");
    const row = agent.page.getByRole("row").filter({ hasText: title });
    await expect.poll(() => row.getByTestId("avatar-image").count()).toBe(1);
    await checkScreen(agent.page, "queue-avatars");
    // Assigned: the portal names who handles the request, with their picture or initials.
    await apiCall(await apiLogin("agent@acme.example"), "POST", `/v1/tickets/${ticket.id}/assign`, { assignee_id: (await apiCall<{ user: { id: string } }>(await apiLogin("agent@acme.example"), "GET", "/v1/me")).user.id });
    expect(agent.errors).toEqual([]);
    await agent.context.close();
    await page.goto(`/tickets/${ticket.id}`);
    const handled = page.getByTestId("handled-by");
    await handled.waitFor();
    await page.getByTestId("public-reply").first().waitFor();
    await expect.poll(async () => (await handled.getByTestId("avatar-initials").count()) + (await handled.getByTestId("avatar-image").count())).toBe(1);
    await expect.poll(() => page.getByTestId("public-reply").first().getByTestId("avatar-image").count()).toBe(1);
    await checkScreen(page, "portal-avatars");
    await page.goto("/settings/profile");
    await page.getByRole("heading", { name: "Picture" }).waitFor();

    await page.getByRole("button", { name: "Remove the picture" }).click();
    await page.getByText("Picture removed.").waitFor();
    await expect.poll(() => card.getByTestId("avatar-initials").count()).toBe(1);
    expect(errors).toEqual([]);
    await page.context().close();
  });

  test("a password change needs the current one and keeps this session", async () => {
    const me = await person("pw");
    const { page, errors } = await openSession(browser);
    await signIn(page, me.email);
    await page.goto("/settings/profile");
    await page.getByLabel(/^Current password/).fill("not-the-password-1");
    await page.getByLabel(/^New password/).fill("a-brand-new-passphrase-77");
    await page.getByLabel(/^Repeat the new password/).fill("a-brand-new-passphrase-77");
    await page.getByRole("button", { name: "Change password" }).click();
    await expect.poll(() => page.getByText("not the account's current password").count()).toBe(1);
    await page.getByLabel(/^Current password/).fill(PASSWORD);
    await page.getByRole("button", { name: "Change password" }).click();
    await page.getByText("Password changed. Your other sessions have ended.").waitFor();
    await page.goto("/requests");
    await page.getByRole("heading", { name: "My requests" }).waitFor();
    expect(await apiLogin(me.email, "a-brand-new-passphrase-77")).not.toBe("");
    expect(errors).toEqual([]);
    await page.context().close();
  });
});

describe("the organisation switcher", () => {
  test("shows organisations by name, at sign-in and in the shell", async () => {
    const me = await person("orgs", "requester", true);
    const { page, errors } = await openSession(browser);
    await page.goto("/login");
    await page.getByLabel("E-mail").fill(me.email);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    const choice = page.getByLabel(/^Organisation/);
    await choice.waitFor();
    expect(await choice.locator("option").allTextContents()).toEqual(expect.arrayContaining(["Acme", "Globex"]));
    await choice.selectOption({ label: "Acme" });
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL((url) => !url.pathname.startsWith("/login"));

    const switcher = page.getByRole("combobox", { name: "Organisation" });
    await switcher.waitFor();
    expect(await switcher.locator("option").allTextContents()).toEqual(["Acme", "Globex"]);
    await checkScreen(page, "org-switcher");
    await switcher.selectOption({ label: "Globex" });
    await expect.poll(() => page.getByTestId("brand-name").textContent()).toBe("Globex");
    await page.waitForURL("**/queues/mine"); // an agent in Globex
    // The first sign-in answers 400 naming `tenant` (the account has two): the browser logs
    // it (or not, by timing); nothing else may be logged.
    expect(errors.filter((e) => !/status of 400 \(Bad Request\)/.test(e))).toEqual([]);
    await page.context().close();
  });
});

describe("ticket invitations", () => {
  test("the invitation e-mail's page: accept, then the ticket opens", async () => {
    const owner = await person("owner");
    const guest = await person("guest");
    const token = await apiLogin(owner.email);
    const title = unique("Shared request");
    const ticket = await apiCall<{ id: string }>(token, "POST", "/v1/tickets", { title });
    await apiCall(token, "POST", `/v1/tickets/${ticket.id}/invitations`, { user_id: guest.id });

    const { page, errors } = await openSession(browser);
    await signIn(page, guest.email);
    await page.goto("/ticket-invitations");
    await page.getByRole("heading", { name: "Ticket invitations" }).waitFor();
    await page.getByRole("button", { name: "Accept" }).waitFor();
    await checkScreen(page, "ticket-invitations");
    await page.getByRole("button", { name: "Accept" }).click();
    await page.getByText("Accepted: the ticket is in your requests.").waitFor();
    await page.getByRole("link", { name: "Open the ticket" }).click();
    await page.waitForURL(`**/tickets/${ticket.id}`);
    await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toContain(title);
    expect(errors).toEqual([]);
    await page.context().close();
  });
});
