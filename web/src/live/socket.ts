/**
 * The realtime client (protocol: docs/api.md, "Realtime"): one WebSocket per tab that
 * reconnects with exponential backoff and full jitter after any close, authenticates with
 * a fresh access token each time (as a subprotocol, so it stays out of URLs and logs),
 * subscribes again to what it had, keeps an idle connection alive, and drops duplicate
 * events (delivery is at least once). Subscriptions are counted, so two screens hearing the
 * same ticket do not unsubscribe each other; typing frames are throttled to what the
 * server accepts (one per ticket every 2 s).
 */

export type LiveMessage = { type: string } & Record<string, unknown>;
export type Channel =
  | { ticket_id: string }
  | { team_id: string }
  | { queue: "untriaged" }
  | { project_id: string }
  | { room: "changes" };
export const SUBPROTOCOL = "servicedesk.v1";
const PING_MS = 4 * 60_000; // API Gateway closes connections idle for 10 minutes
const SEEN_EVENTS = 500;
/** The server takes one typing frame per ticket every 2 s; a little more keeps us clear of
 * its `rate_limited` answer. */
export const TYPING_INTERVAL_MS = 2_200;
export type LiveState = "connecting" | "open" | "closed";
export type Visibility = "public" | "internal";

export interface LiveOptions {
  /** ws(s):// URL; the token goes as the subprotocol "bearer.<token>" (browsers cannot
   * set an Authorization header on a WebSocket). */
  url: string;
  token: () => Promise<string | null>;
  onMessage: (message: LiveMessage) => void;
  onState?: (state: LiveState) => void;
  baseDelayMs?: number;
  maxDelayMs?: number;
  random?: () => number;
  createSocket?: (url: string, protocols: string[]) => WebSocket;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
  now?: () => number;
}

/** The delay before reconnect attempt `attempt` (0-based): full jitter, capped. */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 16));
  return Math.floor(random() * ceiling);
}

/** The WebSocket URL on the page's own origin (same origin as the API). */
export function defaultLiveUrl(location: Location = window.location): string {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/ws`;
}

/** The options once defaults are filled in (`onState` stays optional). */
type Settled = Required<Omit<LiveOptions, "onState">>;

export class LiveSocket {
  private socket: WebSocket | null = null;
  private attempt = 0;
  private timer: unknown = null;
  private stopped = false;
  private ping: ReturnType<typeof setInterval> | null = null;
  private readonly channels = new Map<string, { channel: Channel; count: number }>();
  private readonly lastTyping = new Map<string, number>();
  private readonly seen: string[] = [];
  private readonly options: Settled & Pick<LiveOptions, "onState">;

  constructor(options: LiveOptions) {
    this.options = {
      baseDelayMs: 500,
      maxDelayMs: 30_000,
      random: Math.random,
      createSocket: (url, protocols) => new WebSocket(url, protocols),
      setTimer: (fn, ms) => setTimeout(fn, ms),
      clearTimer: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
      now: Date.now,
      ...options,
    };
  }

  start(): void {
    this.stopped = false;
    void this.connect();
  }

  /** Hear a ticket's or a team's channel, now and after every reconnect. Counted: each
   * subscribe needs its unsubscribe, and the last one leaves the channel. */
  subscribe(channel: Channel): void {
    const key = channelKey(channel);
    const held = this.channels.get(key);
    if (held) {
      held.count += 1;
      return;
    }
    this.channels.set(key, { channel, count: 1 });
    this.send({ type: "frame", action: "subscribe", ...channel });
  }

  unsubscribe(channel: Channel): void {
    const key = channelKey(channel);
    const held = this.channels.get(key);
    if (!held) return;
    held.count -= 1;
    if (held.count > 0) return;
    this.channels.delete(key);
    if ("ticket_id" in channel) this.lastTyping.delete(channel.ticket_id);
    this.send({ type: "frame", action: "unsubscribe", ...channel });
  }

  /** Tell the ticket's other viewers that this person is writing (a reply, or a note that
   * only staff hear about). At most one frame per ticket per TYPING_INTERVAL_MS, and only
   * on a subscribed ticket, as the server requires. */
  typing(ticketId: string, visibility: Visibility): boolean {
    if (!this.channels.has(channelKey({ ticket_id: ticketId }))) return false;
    const now = this.options.now();
    const last = this.lastTyping.get(ticketId);
    if (last !== undefined && now - last < TYPING_INTERVAL_MS) return false;
    if (!this.send({ type: "frame", action: "typing", ticket_id: ticketId, visibility })) return false;
    this.lastTyping.set(ticketId, now);
    return true;
  }

  /** Say that this person has the ticket open (viewing or editing), or has left it; staff
   * only, on a subscribed ticket. The server answers with who else is there. */
  presence(ticketId: string, state: "viewing" | "editing" | "left"): boolean {
    if (!this.channels.has(channelKey({ ticket_id: ticketId }))) return false;
    return this.send({ type: "frame", action: "presence", ticket_id: ticketId, state });
  }

  stop(): void {
    this.stopped = true;
    if (this.ping !== null) clearInterval(this.ping);
    this.ping = null;
    if (this.timer !== null) this.options.clearTimer(this.timer);
    this.timer = null;
    this.socket?.close(1000, "bye");
    this.socket = null;
    this.options.onState?.("closed");
  }

  /** Send a client frame (the `type` key is ours, not the protocol's, and is dropped). */
  send(message: LiveMessage): boolean {
    if (this.socket?.readyState !== 1) return false;
    const { type: _ours, ...frame } = message;
    this.socket.send(JSON.stringify(frame));
    return true;
  }

  private isDuplicate(message: LiveMessage): boolean {
    const id = message.event_id;
    if (message.type !== "event" || typeof id !== "string") return false;
    if (this.seen.includes(id)) return true;
    this.seen.push(id);
    if (this.seen.length > SEEN_EVENTS) this.seen.shift();
    return false;
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    this.options.onState?.("connecting");
    let token: string | null = null;
    try {
      token = await this.options.token();
    } catch {
      token = null;
    }
    if (this.stopped) return;
    if (!token) {
      this.scheduleReconnect();
      return;
    }
    const socket = this.options.createSocket(this.options.url, [SUBPROTOCOL, `bearer.${token}`]);
    this.socket = socket;
    socket.onopen = () => {
      this.attempt = 0;
      for (const { channel } of this.channels.values()) this.send({ type: "frame", action: "subscribe", ...channel });
      this.ping ??= setInterval(() => this.send({ type: "frame", action: "ping" }), PING_MS);
      this.options.onState?.("open");
    };
    socket.onmessage = (event: MessageEvent) => {
      try {
        const message = JSON.parse(String(event.data)) as unknown;
        if (message && typeof message === "object" && typeof (message as LiveMessage).type === "string") {
          if (!this.isDuplicate(message as LiveMessage)) this.options.onMessage(message as LiveMessage);
        }
      } catch {
        // Not JSON: ignore rather than drop the connection.
      }
    };
    socket.onclose = () => {
      if (this.socket === socket) this.socket = null;
      this.options.onState?.("closed");
      this.scheduleReconnect();
    };
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.timer !== null) return;
    const { baseDelayMs, maxDelayMs, random } = this.options;
    const delay = backoffDelay(this.attempt, baseDelayMs, maxDelayMs, random);
    this.attempt += 1;
    this.timer = this.options.setTimer(() => {
      this.timer = null;
      void this.connect();
    }, delay);
  }
}

function channelKey(channel: Channel): string {
  if ("ticket_id" in channel) return `ticket:${channel.ticket_id}`;
  if ("team_id" in channel) return `team:${channel.team_id}`;
  if ("project_id" in channel) return `project:${channel.project_id}`;
  if ("room" in channel) return channel.room;
  return `queue:${channel.queue}`;
}
