import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { apiCall, apiLogin, checkScreen, launch, openSession, signIn, unique, type Session } from "./support";

// The assistant's chat widget in the portal (issue 18). Two stacks:
// - the default one has no language model configured: the widget says so plainly, and the
//   person's message is kept (docs/assistant.md, "A turn");
// - with E2E_LLM_PORT set (and SERVICEDESK_LLM_PROVIDER=openai,
//   SERVICEDESK_LLM_BASE_URL=http://127.0.0.1:$E2E_LLM_PORT/v1, SERVICEDESK_LLM_API_KEY given
//   to scripts/e2e_stack.py), this file serves a scripted OpenAI-compatible endpoint on that
//   port (a real socket, JSON or server-sent events as asked) whose model calls create_ticket,
//   then answers: the request exists, is the employee's, and the widget links it.
const LLM_PORT = Number(process.env.E2E_LLM_PORT ?? "0");

let browser: Browser;
let employee: Session;
let llm: Server | null = null;
const calls: { tools: number; stream: boolean; messages: { role: string; content?: string | null }[] }[] = [];
const ticketTitle = unique("Projector in room 4 shows no signal");

interface Body {
  stream?: boolean;
  tools?: unknown[];
  messages: { role: string; content?: string | null }[];
}

/** The scripted model: first a create_ticket call, then (after the tool's answer) text. */
function answer(body: Body): { content: string; toolCalls: { id: string; name: string; arguments: string }[] } {
  const toolAnswered = body.messages.some((m) => m.role === "tool");
  if (!toolAnswered) {
    return {
      content: "",
      toolCalls: [
        {
          id: "call_1",
          name: "create_ticket",
          arguments: JSON.stringify({ title: ticketTitle, description: "HDMI and USB-C both show no signal.", priority: "high" }),
        },
      ],
    };
  }
  return { content: "I opened a request for you; the desk will be in touch.\n\n- **Title**: " + ticketTitle, toolCalls: [] };
}

function startLlm(port: number): Promise<Server> {
  const server = createServer((request, response) => {
    let raw = "";
    request.on("data", (chunk: Buffer) => (raw += chunk.toString()));
    request.on("end", () => {
      if (request.url !== "/v1/chat/completions" || request.headers.authorization !== "Bearer e2e-llm-key") {
        response.writeHead(404).end();
        return;
      }
      const body = JSON.parse(raw) as Body;
      calls.push({ tools: body.tools?.length ?? 0, stream: body.stream === true, messages: body.messages });
      const { content, toolCalls } = answer(body);
      const finish = toolCalls.length ? "tool_calls" : "stop";
      const usage = { prompt_tokens: 120, completion_tokens: 30, total_tokens: 150 };
      if (!body.stream) {
        response.writeHead(200, { "content-type": "application/json" });
        response.end(
          JSON.stringify({
            choices: [
              {
                index: 0,
                finish_reason: finish,
                message: {
                  role: "assistant",
                  content: content || null,
                  tool_calls: toolCalls.map((c) => ({ id: c.id, type: "function", function: { name: c.name, arguments: c.arguments } })),
                },
              },
            ],
            usage,
          }),
        );
        return;
      }
      response.writeHead(200, { "content-type": "text/event-stream" });
      const send = (data: unknown) => response.write(`data: ${JSON.stringify(data)}\n\n`);
      for (const [index, c] of toolCalls.entries()) {
        send({ choices: [{ index: 0, delta: { tool_calls: [{ index, id: c.id, type: "function", function: { name: c.name, arguments: "" } }] } }] });
        send({ choices: [{ index: 0, delta: { tool_calls: [{ index, function: { arguments: c.arguments } }] } }] });
      }
      void (async () => {
        // Slowly enough that the browser shows the answer growing before it is complete.
        for (const word of content.split(/(?<= )/)) {
          send({ choices: [{ index: 0, delta: { content: word } }] });
          await new Promise((done) => setTimeout(done, 150));
        }
        send({ choices: [{ index: 0, delta: {}, finish_reason: finish }] });
        send({ choices: [], usage });
        response.end("data: [DONE]\n\n");
      })();
    });
  });
  return new Promise((resolve) => server.listen(port, "127.0.0.1", () => resolve(server)));
}

beforeAll(async () => {
  browser = await launch();
  if (LLM_PORT) {
    llm = await startLlm(LLM_PORT);
    expect((llm.address() as AddressInfo).port).toBe(LLM_PORT);
  }
  employee = await openSession(browser);
});

afterAll(async () => {
  await browser?.close();
  await new Promise((done) => (llm ? llm.close(() => done(null)) : done(null)));
});

describe("the assistant widget", () => {
  test.runIf(!LLM_PORT)("without a language model, the widget says so and keeps the message", async () => {
    const { page, errors } = employee;
    await signIn(page, "employee@acme.example");
    await page.goto("/help");
    await page.getByRole("button", { name: "Ask the assistant" }).click();
    const panel = page.getByTestId("assistant");
    const box = panel.getByLabel("Message to the assistant");
    await expect.poll(() => page.evaluate(() => document.activeElement?.tagName)).toBe("TEXTAREA");
    await box.fill("The projector shows no signal");
    await box.press("Enter");
    await expect.poll(() => panel.getByRole("alert").textContent()).toContain("not available right now");
    // The message stays in the conversation: the server kept it.
    expect(await panel.getByRole("log").textContent()).toContain("The projector shows no signal");
    await checkScreen(page, "assistant-unavailable");
    // Escape closes the panel and gives the focus back to its button.
    await box.press("Escape");
    await expect.poll(() => panel.count()).toBe(0);
    expect(await page.getByRole("button", { name: "Ask the assistant" }).evaluate((b) => b === document.activeElement)).toBe(true);
    // 503 is the answer the app handles; the browser logs the failed resource.
    expect(errors.filter((e) => !/status of 503/.test(e))).toEqual([]);
  });

  test.runIf(LLM_PORT > 0)("the assistant opens a request for the employee, linked from the chat", async () => {
    const { page, errors } = employee;
    await signIn(page, "employee@acme.example");
    await page.goto("/requests");
    await page.getByRole("button", { name: "Ask the assistant" }).click();
    const panel = page.getByTestId("assistant");
    const box = panel.getByLabel("Message to the assistant");
    await box.fill("The projector in room 4 shows no signal, please open a ticket");
    await panel.getByRole("button", { name: "Send" }).click();
    const log = panel.getByRole("log");
    // The answer streams over the live socket (assistant.delta frames) before the REST
    // response completes the turn: part of it shows while the rest is still coming.
    const growing = panel.getByTestId("assistant-streaming");
    await expect.poll(() => growing.textContent(), { timeout: 20_000 }).toContain("I opened");
    expect(await growing.textContent()).not.toContain(ticketTitle);
    // Then the REST response: the growing text gives way to the final message in the same
    // render (assistant.done keeps the text until then: no "thinking" line in between).
    await expect.poll(() => growing.count(), { timeout: 20_000 }).toBe(0);
    expect(await log.textContent()).toContain("I opened a request for you");
    // Markdown is text: the asterisks are shown, never turned into markup.
    expect(await log.locator("strong").count()).toBe(0);
    expect(await log.textContent()).toContain("**Title**");
    await checkScreen(page, "assistant-answered");
    expect(calls.length).toBe(2);
    expect(calls[0]?.tools).toBe(4);
    expect(calls.map((c) => c.stream)).toEqual([true, true]); // a live socket was listening

    const token = await apiLogin("employee@acme.example");
    const mine = await apiCall<{ items: { id: string; title: string }[] }>(token, "GET", "/v1/tickets?limit=100");
    const made = mine.items.find((t) => t.title === ticketTitle);
    expect(made).toBeDefined();
    await panel.getByRole("link", { name: "see your request" }).click();
    await page.waitForURL(`**/tickets/${made?.id}`);
    await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe(ticketTitle);
    expect(errors).toEqual([]);
  });
});
