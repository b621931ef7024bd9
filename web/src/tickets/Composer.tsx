import * as Tabs from "@radix-ui/react-tabs";
import { LockIcon } from "../components/icons";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef, useState, type FormEvent } from "react";
import { api, idempotencyKey, ok } from "../api/client";
import { ApiError, describeError } from "../api/problem";
import { Alert, Button, Field, Textarea, cx } from "../components/ui";
import { keys } from "./queries";
import { appendToDraft } from "../kb/markdown";
import { changeDraft, useDraft } from "./useDraft";
import { t } from "../i18n";

const REPLY_INSERT = "sd-reply-insert";

/** Add text (a knowledge article's link) to the reply to the requester on a ticket's page:
 * the composer switches to the reply, which gets the text on a line of its own. */
export function insertIntoReply(ticketId: string, text: string): void {
  changeDraft(`${ticketId}:public`, (current) => appendToDraft(current, text));
  window.dispatchEvent(new CustomEvent(REPLY_INSERT, { detail: { ticketId } }));
}

type Visibility = "public" | "internal";

function useAddComment(ticketId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ body, visibility, key }: { body: string; visibility: Visibility; key: string }) =>
      ok(
        api.POST("/v1/tickets/{ticket_id}/comments", {
          params: { path: { ticket_id: ticketId }, header: { "Idempotency-Key": key } },
          body: { body, visibility },
        }),
      ),
    onSuccess: () => {
      void client.invalidateQueries({ queryKey: keys.comments(ticketId) });
      // A requester's reply can reopen a ticket; a first staff reply stops an SLA clock.
      void client.invalidateQueries({ queryKey: keys.ticket(ticketId) });
      void client.invalidateQueries({ queryKey: keys.sla(ticketId) });
      void client.invalidateQueries({ queryKey: keys.events(ticketId) });
    },
  });
}

function ComposerForm({ ticketId, visibility, focusSignal = 0 }: { ticketId: string; visibility: Visibility; focusSignal?: number }) {
  const [body, setBody, clear] = useDraft(`${ticketId}:${visibility}`);
  const textarea = useRef<HTMLTextAreaElement>(null);
  // Text was put into this draft from elsewhere (insertIntoReply): the cursor goes after it.
  useEffect(() => {
    if (!focusSignal) return;
    const element = textarea.current;
    if (!element) return;
    element.focus();
    element.setSelectionRange(element.value.length, element.value.length);
  }, [focusSignal]);
  const add = useAddComment(ticketId);
  // One key per message: a retry after a lost answer cannot post it twice.
  const key = useRef(idempotencyKey());
  const [error, setError] = useState<string | null>(null);
  const internal = visibility === "internal";

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!body.trim()) {
      setError(t("tickets.composer.writeFirst"));
      return;
    }
    setError(null);
    try {
      await add.mutateAsync({ body, visibility, key: key.current });
      clear();
      key.current = idempotencyKey();
    } catch (e) {
      setError(e instanceof ApiError ? (e.fieldErrors.body ?? describeError(e)) : describeError(e));
    }
  }

  return (
    <form
      onSubmit={submit}
      className={cx(
        "space-y-3 rounded-lg border p-3",
        internal ? "border-l-4 border-internal-border bg-internal-bg text-internal-text" : "border-border bg-surface",
      )}
      data-testid={internal ? "note-composer" : "reply-composer"}
    >
      {internal ? (
        <p className="font-semibold">
          <LockIcon className="mr-1 inline h-4 w-4 align-[-2px]" />
          {t("tickets.composer.internalBanner")}
        </p>
      ) : null}
      <Field label={internal ? t("tickets.composer.internal") : t("tickets.composer.reply")} error={error ?? undefined}>
        {(p) => (
          <Textarea
            {...p}
            ref={textarea}
            rows={4}
            value={body}
            placeholder={internal ? t("tickets.composer.notePlaceholder") : t("tickets.composer.replyPlaceholder")}
            onChange={(e) => setBody(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === "Enter" && (e.metaKey || e.ctrlKey)) e.currentTarget.form?.requestSubmit();
            }}
          />
        )}
      </Field>
      <div className="flex items-center justify-between gap-2">
        <span className={internal ? "" : "text-fg-muted"}>{t("tickets.composer.shortcut")}</span>
        <Button type="submit" variant="primary" busy={add.isPending}>
          {internal ? t("tickets.composer.addNote") : t("tickets.composer.send")}
        </Button>
      </div>
    </form>
  );
}

/** Staff choose reply or internal note; everyone else can only reply. */
export function Composer({ ticketId, staff }: { ticketId: string; staff: boolean }) {
  const [tab, setTab] = useState<Visibility>("public");
  const [focusSignal, setFocusSignal] = useState(0);
  useEffect(() => {
    const toReply = (event: Event) => {
      if ((event as CustomEvent<{ ticketId: string }>).detail.ticketId !== ticketId) return;
      setTab("public");
      setFocusSignal((n) => n + 1);
    };
    window.addEventListener(REPLY_INSERT, toReply);
    return () => window.removeEventListener(REPLY_INSERT, toReply);
  }, [ticketId]);
  if (!staff) return <ComposerForm ticketId={ticketId} visibility="public" focusSignal={focusSignal} />;
  return (
    <Tabs.Root value={tab} onValueChange={(value) => setTab(value === "internal" ? "internal" : "public")}>
      <Tabs.List aria-label={t("tickets.composer.type")} className="mb-2 flex gap-1">
        <Tabs.Trigger
          value="public"
          className="rounded-md border border-border px-3 py-1.5 font-medium text-fg data-[state=active]:border-accent data-[state=active]:bg-accent-subtle data-[state=active]:text-accent-text"
        >
          {t("tickets.composer.toRequester")}
        </Tabs.Trigger>
        <Tabs.Trigger
          value="internal"
          className="rounded-md border border-border px-3 py-1.5 font-medium text-fg data-[state=active]:border-internal-border data-[state=active]:bg-internal-bg data-[state=active]:text-internal-text"
        >
          <LockIcon className="mr-1 inline h-4 w-4 align-[-2px]" />
          {t("tickets.composer.internal")}
        </Tabs.Trigger>
      </Tabs.List>
      <Tabs.Content value="public">
        <ComposerForm ticketId={ticketId} visibility="public" focusSignal={focusSignal} />
      </Tabs.Content>
      <Tabs.Content value="internal">
        <ComposerForm ticketId={ticketId} visibility="internal" />
      </Tabs.Content>
    </Tabs.Root>
  );
}

export function ErrorAlert({ error }: { error: unknown }) {
  return <Alert tone="danger">{describeError(error)}</Alert>;
}
