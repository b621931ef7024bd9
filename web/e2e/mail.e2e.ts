import { connect } from "node:net";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { apiCall, apiLogin, checkScreen, launch, openSession, signIn, unique, type Session } from "./support";

/** The e-mail screens (issue 17): Admin › E-mail, the agents' held mail, and a ticket's
 * "received by e-mail — show original". The mail really comes in: SMTP to the stack's
 * door (scripts/e2e_stack.py, E2E_SMTP_PORT), the bucket, the intake queue, the handler. */

const SMTP_PORT = Number(process.env.E2E_SMTP_PORT ?? "0");
const INBOUND = "acme@inbound.servicedesk.local";
const heldSubject = unique("Held by the desk");
const stranger = `${unique("stranger")}@customer.example`;

let browser: Browser;
let admin: Session;
let agent: Session;

/** A plain SMTP conversation (what smtplib or swaks would do), CRLF line ends. */
async function sendMail(from: string, to: string, subject: string, body: string): Promise<void> {
  const message = [`From: ${from}`, `To: ${to}`, `Subject: ${subject}`, `Message-ID: <${unique("e2e")}@customer.example>`, "", body, ""].join("\r\n");
  const socket = connect(SMTP_PORT, "127.0.0.1");
  const replies: string[] = [];
  let waiting: ((line: string) => void) | null = null;
  let buffer = "";
  socket.on("data", (chunk: Buffer) => {
    buffer += chunk.toString();
    let end: number;
    while ((end = buffer.indexOf("\r\n")) >= 0) {
      const line = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      if (/^\d{3} /.test(line)) {
        if (waiting) {
          const done = waiting;
          waiting = null;
          done(line);
        } else replies.push(line);
      }
    }
  });
  const reply = () => new Promise<string>((resolve) => (replies.length ? resolve(replies.shift() ?? "") : (waiting = resolve)));
  const say = async (line: string, expected: string) => {
    socket.write(`${line}\r\n`);
    const answer = await reply();
    if (!answer.startsWith(expected)) throw new Error(`${line} -> ${answer}`);
  };
  expect((await reply()).startsWith("220")).toBe(true);
  await say("EHLO e2e.example", "250");
  await say(`MAIL FROM:<${from}>`, "250");
  await say(`RCPT TO:<${to}>`, "250");
  await say("DATA", "354");
  await say(`${message.replace(/^\./gm, "..")}\r\n.`, "250");
  await say("QUIT", "221");
  socket.end();
}

beforeAll(async () => {
  expect(SMTP_PORT, "E2E_SMTP_PORT is set by scripts/e2e_stack.py").toBeGreaterThan(0);
  browser = await launch();
  admin = await openSession(browser);
  agent = await openSession(browser);
  // Unknown senders are held in this tenant, so the stranger's mail waits for an agent.
  const token = await apiLogin("admin@acme.example");
  const current = await fetch(`${process.env.E2E_BASE_URL}/v1/mail/settings`, { headers: { authorization: `Bearer ${token}` } });
  const settings = (await current.json()) as Record<string, unknown>;
  const put = await fetch(`${process.env.E2E_BASE_URL}/v1/mail/settings`, {
    method: "PUT",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json", "if-match": current.headers.get("etag") ?? "" },
    body: JSON.stringify({ ...settings, unknown_senders_may_open: false }),
  });
  expect(put.status).toBe(200);
  await sendMail(stranger, INBOUND, heldSubject, "Our printer prints only blank pages since the update.");
  // The intake runs on its own poller: wait until the message is held.
  const agentToken = await apiLogin("agent@acme.example");
  let held = false;
  for (let waited = 0; !held && waited < 30_000; waited += 500) {
    const page = await apiCall<{ items: { subject: string }[] }>(agentToken, "GET", "/v1/mail/held?limit=100");
    held = page.items.some((m) => m.subject === heldSubject);
    if (!held) await new Promise((resolve) => setTimeout(resolve, 500));
  }
  if (!held) throw new Error("the message was not held within 30 s");
});

afterAll(async () => {
  await browser?.close();
});

describe("the e-mail screens", () => {
  test("Admin › E-mail: the default address, an alias, the settings", async () => {
    const { page, errors } = admin;
    await signIn(page, "admin@acme.example");
    await page.goto("/admin/mail");
    await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe("E-mail");
    await expect.poll(() => page.getByText(INBOUND).count()).toBeGreaterThan(0);
    const alias = `acme-${unique("hr").toLowerCase().replace(/[^a-z0-9-]/g, "")}@inbound.servicedesk.local`;
    await page.getByRole("textbox", { name: "Address" }).fill(alias);
    await page.getByRole("button", { name: "Add alias" }).click();
    await expect.poll(() => page.getByRole("list", { name: "Aliases" }).getByText(alias).count()).toBe(1);
    await expect.poll(() => page.getByLabel("People without an account may open requests by e-mail").isChecked()).toBe(false);
    await checkScreen(page, "admin-mail");
    expect(errors).toEqual([]);
  });

  test("Held mail: read it, open it as a ticket, and the ticket shows its original", async () => {
    const { page, errors } = agent;
    await signIn(page, "agent@acme.example");
    await page.getByRole("link", { name: "Held mail" }).click();
    await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe("Held mail");
    const item = page.getByRole("article", { name: heldSubject });
    await item.getByRole("button", { name: "Read the message" }).click();
    await expect.poll(() => item.getByText("blank pages", { exact: false }).count()).toBeGreaterThan(0);
    await checkScreen(page, "held-mail");
    await item.getByRole("button", { name: "Open as a new ticket" }).click();
    await page.waitForURL((url) => url.pathname.startsWith("/tickets/"));
    await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe(heldSubject);
    await page.getByRole("button", { name: "Show original" }).click();
    await expect.poll(() => page.getByRole("link", { name: "Download the original message (.eml)" }).count()).toBe(1);
    await checkScreen(page, "ticket-received-by-mail");
    expect(errors).toEqual([]);
  });
});
