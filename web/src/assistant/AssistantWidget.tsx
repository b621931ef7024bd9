import { useQuery } from "@tanstack/react-query";
import { useEffect, useId, useRef, useState, useSyncExternalStore, type FormEvent } from "react";
import { Link } from "react-router";
import { api, ok } from "../api/client";
import { ApiError, describeError } from "../api/problem";
import type { components } from "../api/schema";
import { Button, Spinner, Textarea, cx } from "../components/ui";
import { assistantStream } from "../live/assistantStream";
import { visibleMessages } from "./messages";
import { t } from "../i18n";

type Message = components["schemas"]["MessagePublic"];
const STORAGE = "sd-assistant-conversation";
const MAX_CHARS = 4000;

function storedId(): string | null {
  try {
    return sessionStorage.getItem(STORAGE);
  } catch {
    return null;
  }
}

function store(id: string | null): void {
  try {
    if (id) sessionStorage.setItem(STORAGE, id);
    else sessionStorage.removeItem(STORAGE);
  } catch {
    // Storage disabled: the conversation lasts as long as the page.
  }
}

/** The problem's conversation (a failed first turn still created it and kept the message). */
function conversationOf(error: unknown): string | null {
  if (!(error instanceof ApiError)) return null;
  const id = error.problem?.conversation_id;
  return typeof id === "string" ? id : null;
}

function explain(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 503) return t("assistant.unavailable");
    if (error.status === 502) return t("assistant.unusable");
    if (error.status === 403) return t("assistant.off");
  }
  return describeError(error);
}

function Bubble({ message }: { message: Message }) {
  const mine = message.role === "user";
  return (
    <li className={cx("flex", mine ? "justify-end" : "justify-start")}>
      <div
        className={cx(
          "max-w-[85%] rounded-lg px-3 py-2",
          mine ? "bg-accent text-accent-fg" : "border border-border bg-surface-muted text-fg",
        )}
      >
        <span className="sr-only">{mine ? t("assistant.you") : t("assistant.them")}</span>
        {/* The model's Markdown is shown as text, never parsed as HTML (docs/assistant.md). */}
        <p className="whitespace-pre-wrap break-words">{message.content}</p>
      </div>
    </li>
  );
}

function Chat({ onClose }: { onClose: () => void }) {
  const [conversationId, setConversationId] = useState<string | null>(storedId);
  const [messages, setMessages] = useState<Message[]>([]);
  const [ticketId, setTicketId] = useState<string | null>(null);
  const [draft, setDraft] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const inputId = useId();
  const input = useRef<HTMLTextAreaElement>(null);
  const end = useRef<HTMLLIElement>(null);
  // The answer as it streams over the live socket (when one is open); the REST response
  // still brings the final message.
  const streaming = useSyncExternalStore(assistantStream.subscribe, assistantStream.snapshot);
  const partial = busy && streaming.text && (conversationId === null || streaming.conversationId === conversationId) ? streaming.text : "";

  const earlier = useQuery({
    queryKey: ["assistant", "conversation", conversationId],
    enabled: conversationId !== null && messages.length === 0,
    queryFn: ({ signal }) =>
      ok(api.GET("/v1/assistant/conversations/{conversation_id}", { params: { path: { conversation_id: conversationId ?? "" } }, signal })),
  });
  useEffect(() => {
    if (earlier.data) {
      setMessages(earlier.data.messages);
      setTicketId(earlier.data.ticket_id ?? null);
    }
    // A conversation that is gone (another session, another user) starts over.
    if (earlier.error instanceof ApiError && earlier.error.status === 404) {
      store(null);
      setConversationId(null);
    }
  }, [earlier.data, earlier.error]);
  useEffect(() => {
    input.current?.focus();
  }, []);
  useEffect(() => {
    end.current?.scrollIntoView({ block: "nearest" });
  }, [messages.length, busy, partial]);

  async function send(event: FormEvent) {
    event.preventDefault();
    const content = draft.trim();
    if (!content || busy) return;
    setError(null);
    setBusy(true);
    const pending: Message = { id: `pending-${Date.now()}`, seq: -1, role: "user", content, tool_calls: [], created_at: new Date().toISOString() };
    setMessages((all) => [...all, pending]);
    setDraft("");
    assistantStream.reset();
    try {
      if (conversationId === null) {
        const created = await ok(api.POST("/v1/assistant/conversations", { body: { message: content } }));
        store(created.id);
        setConversationId(created.id);
        setMessages(created.messages);
        setTicketId(created.ticket_id ?? null);
      } else {
        const reply = await ok(
          api.POST("/v1/assistant/conversations/{conversation_id}/messages", {
            params: { path: { conversation_id: conversationId } },
            body: { content },
          }),
        );
        setMessages((all) => [...all, reply.message]);
        setTicketId(reply.conversation.ticket_id ?? null);
      }
    } catch (e) {
      const kept = conversationOf(e);
      if (kept && conversationId === null) {
        store(kept);
        setConversationId(kept);
      }
      // The server keeps the message on a failed answer (not on a refused one: 4xx).
      if (!(e instanceof ApiError && e.status >= 500)) {
        setMessages((all) => all.filter((m) => m !== pending));
        setDraft(content);
      }
      setError(explain(e));
    } finally {
      assistantStream.reset();
      setBusy(false);
      input.current?.focus();
    }
  }

  const shown = visibleMessages(messages);
  return (
    <div className="flex max-h-[min(36rem,calc(100vh-8rem))] flex-col">
      <div className="flex items-center justify-between border-b border-border px-4 py-2">
        <h2 id="assistant-heading" className="font-semibold">
          {t("assistant.heading")}
        </h2>
        <div className="flex gap-1">
          {conversationId ? (
            <Button
              size="sm"
              variant="ghost"
              onClick={() => {
                store(null);
                setConversationId(null);
                setMessages([]);
                setTicketId(null);
                setError(null);
              }}
            >
              {t("assistant.new")}
            </Button>
          ) : null}
          <Button size="sm" variant="ghost" onClick={onClose}>
            {t("assistant.close")}
          </Button>
        </div>
      </div>
      <div role="log" aria-label={t("assistant.log")} aria-busy={busy || undefined} className="min-h-32 flex-1 overflow-y-auto px-4 py-3">
      <ol className="space-y-2">
        {!shown.length && !earlier.isFetching ? (
          <li className="text-fg-muted">{t("assistant.intro")}</li>
        ) : null}
        {earlier.isFetching ? (
          <li>
            <Spinner label={t("assistant.loading")} />
          </li>
        ) : null}
        {shown.map((m) => (
          <Bubble key={m.id} message={m} />
        ))}
        {partial ? (
          // Hidden from screen readers while it grows (the log would read every piece);
          // the finished message is announced once it arrives.
          <li className="flex justify-start" aria-hidden="true" data-testid="assistant-streaming">
            <p className="max-w-[85%] whitespace-pre-wrap break-words rounded-lg border border-border bg-surface-muted px-3 py-2 text-fg">{partial}</p>
          </li>
        ) : null}
        {busy ? (
          <li>
            <Spinner label={partial ? t("assistant.writing") : t("assistant.thinking")} />
          </li>
        ) : null}
        <li ref={end} aria-hidden="true" />
      </ol>
      </div>
      {ticketId ? (
        <p className="border-t border-border px-4 py-2" role="status">
          {t("assistant.opened")}
          <Link to={`/tickets/${ticketId}`} className="text-accent-text underline">
            {t("assistant.seeRequest")}
          </Link>
        </p>
      ) : null}
      {error ? (
        <p role="alert" className="border-t border-border bg-danger-subtle px-4 py-2 text-danger-text">
          {error}
        </p>
      ) : null}
      <form onSubmit={send} className="space-y-2 border-t border-border px-4 py-3">
        <label htmlFor={inputId} className="sr-only">
          {t("assistant.message")}
        </label>
        <Textarea
          id={inputId}
          ref={input}
          rows={2}
          maxLength={MAX_CHARS}
          value={draft}
          placeholder={t("assistant.placeholder")}
          onChange={(e) => setDraft(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === "Enter" && !e.shiftKey) {
              e.preventDefault();
              e.currentTarget.form?.requestSubmit();
            }
            if (e.key === "Escape") onClose();
          }}
        />
        <div className="flex items-center justify-between">
          <span className="text-xs text-fg-muted">{t("assistant.keys")}</span>
          <Button type="submit" variant="primary" size="sm" busy={busy} disabled={!draft.trim()}>
            {t("assistant.send")}
          </Button>
        </div>
      </form>
    </div>
  );
}

/** The portal's and the help centre's chat: a button that opens a panel (not modal, so
 * the page stays usable beside it). Shown when the tenant has the assistant switched on. */
export default function AssistantWidget() {
  const [open, setOpen] = useState(false);
  const button = useRef<HTMLButtonElement>(null);
  const settings = useQuery({
    queryKey: ["assistant", "settings"],
    staleTime: 5 * 60_000,
    queryFn: ({ signal }) => ok(api.GET("/v1/assistant/settings", { signal })),
  });
  if (!settings.data?.enabled) return null;
  return (
    <div className="fixed bottom-4 right-4 z-40 flex flex-col items-end gap-2">
      {open ? (
        <aside aria-labelledby="assistant-heading" className="w-[min(24rem,calc(100vw-2rem))] rounded-lg border border-border bg-surface shadow-card" data-testid="assistant">
          <Chat
            onClose={() => {
              setOpen(false);
              button.current?.focus();
            }}
          />
        </aside>
      ) : null}
      <Button ref={button} variant="primary" aria-expanded={open} onClick={() => setOpen((o) => !o)}>
        {open ? t("assistant.hide") : t("assistant.ask")}
      </Button>
    </div>
  );
}
