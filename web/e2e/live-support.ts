import type { Page } from "playwright-core";
import { expect } from "vitest";
import { apiCall } from "./support";

/** A frame the server pushed to a page's WebSocket, with when it arrived. */
export interface Frame {
  type: string;
  at: number;
  [key: string]: unknown;
}

/** Record every frame the page's WebSockets receive (attach before the page connects). */
export function watchFrames(page: Page): Frame[] {
  const frames: Frame[] = [];
  page.on("websocket", (socket) => {
    socket.on("framereceived", ({ payload }) => {
      try {
        const frame = JSON.parse(String(payload)) as { type: string } & Record<string, unknown>;
        frames.push({ ...frame, type: frame.type, at: Date.now() });
      } catch {
        // not JSON: not ours
      }
    });
  });
  return frames;
}

/** The times the page asked for a ticket list (GET /v1/tickets). */
export function watchListCalls(page: Page): number[] {
  const calls: number[] = [];
  page.on("request", (request) => {
    if (request.method() === "GET" && new URL(request.url()).pathname === "/v1/tickets") calls.push(Date.now());
  });
  return calls;
}

/** The app says its socket is open (so it does not poll). */
export async function waitLive(page: Page): Promise<void> {
  await expect.poll(() => page.getByTestId("live-status").getAttribute("data-state"), { timeout: 15_000 }).toBe("open");
}

/** The server acknowledged the subscription to this channel ("ticket:<id>", "team:<id>"). */
export async function waitSubscribed(frames: Frame[], channel: string): Promise<Frame> {
  await expect.poll(() => frames.some((f) => f.type === "ack" && f.channel === channel), { timeout: 15_000 }).toBe(true);
  return frames.find((f) => f.type === "ack" && f.channel === channel) as Frame;
}

/** The unread count the bell shows. */
export async function unread(page: Page): Promise<number> {
  return Number((await page.getByTestId("notification-bell").getAttribute("data-unread")) ?? "0");
}

export async function userId(token: string, email: string): Promise<string> {
  const page = await apiCall<{ items: { id: string; email: string }[] }>(token, "GET", `/v1/users?q=${encodeURIComponent(email)}`);
  const found = page.items.find((u) => u.email === email);
  if (!found) throw new Error(`no user ${email}`);
  return found.id;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Pushes, not polls: what "live" is asserted against. */
export const LIVE_MS = 3_000;
