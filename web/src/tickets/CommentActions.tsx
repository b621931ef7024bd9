import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type ReactNode } from "react";
import { api, ok } from "../api/client";
import { ApiError, describeError } from "../api/problem";
import type { Comment } from "../api/types";
import { ConfirmDialog } from "../components/ConfirmDialog";
import { Alert, Button, Textarea } from "../components/ui";
import { keys } from "./queries";
import { t } from "../i18n";

/** Whether the caller may still edit the comment (the API says until when). */
export function canEdit(comment: Comment, now: number): boolean {
  return !comment.deleted_at && !!comment.editable_until && new Date(comment.editable_until).getTime() > now;
}

function useCommentChange(ticketId: string) {
  const client = useQueryClient();
  const refresh = () => {
    void client.invalidateQueries({ queryKey: keys.comments(ticketId) });
    void client.invalidateQueries({ queryKey: keys.events(ticketId) });
  };
  const edit = useMutation({
    mutationFn: ({ id, body }: { id: string; body: string }) =>
      ok(api.PATCH("/v1/tickets/{ticket_id}/comments/{comment_id}", { params: { path: { ticket_id: ticketId, comment_id: id } }, body: { body } })),
    onSettled: refresh,
  });
  const remove = useMutation({
    mutationFn: (id: string) =>
      ok(api.DELETE("/v1/tickets/{ticket_id}/comments/{comment_id}", { params: { path: { ticket_id: ticketId, comment_id: id } } })),
    onSettled: refresh,
  });
  return { edit, remove };
}

function explain(error: unknown, what: "edit" | "delete"): string {
  if (error instanceof ApiError && error.status === 409) {
    return what === "edit" ? t("tickets.comment.tooLate") : t("tickets.comment.alreadyDeleted");
  }
  if (error instanceof ApiError && error.status === 403) return what === "edit" ? t("tickets.comment.mayNotEdit") : t("tickets.comment.mayNotDelete");
  return describeError(error);
}

/** A comment's body with Edit (its author, within the edit window) and Delete (its author
 * or an admin, after a confirmation), as the API allows for this caller. Other viewers see
 * the change through the live push (comment.edited / comment.deleted). */
export function CommentActions({ ticketId, comment, internal, children }: { ticketId: string; comment: Comment; internal: boolean; children: ReactNode }) {
  const { edit, remove } = useCommentChange(ticketId);
  const [editing, setEditing] = useState(false);
  const [text, setText] = useState(comment.body);
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const editable = canEdit(comment, Date.now());

  if (editing) {
    const inputId = `edit-${comment.id}`;
    return (
      <form
        className="space-y-2"
        onSubmit={(e) => {
          e.preventDefault();
          if (!text.trim()) return setError(t("tickets.comment.empty"));
          setError(null);
          edit.mutate(
            { id: comment.id, body: text },
            { onSuccess: () => setEditing(false), onError: (err) => setError(explain(err, "edit")) },
          );
        }}
      >
        <label htmlFor={inputId} className="sr-only">
          {internal ? t("tickets.comment.editNote") : t("tickets.comment.editMessage")}
        </label>
        <Textarea id={inputId} value={text} onChange={(e) => setText(e.target.value)} autoFocus />
        {error ? <Alert tone="danger">{error}</Alert> : null}
        <div className="flex gap-2">
          <Button type="submit" size="sm" variant="primary" busy={edit.isPending}>
            {t("tickets.comment.save")}
          </Button>
          <Button size="sm" variant="ghost" onClick={() => (setEditing(false), setError(null), setText(comment.body))}>
            {t("tickets.comment.cancel")}
          </Button>
        </div>
      </form>
    );
  }
  return (
    <>
      {children}
      {editable || comment.can_delete ? (
        <div className="mt-2 flex gap-1">
          {editable ? (
            <Button size="sm" variant="ghost" aria-label={internal ? t("tickets.comment.editNote") : t("tickets.comment.editMessage")} onClick={() => (setText(comment.body), setEditing(true))}>
              {t("tickets.comment.edit")}
            </Button>
          ) : null}
          {comment.can_delete ? (
            <Button size="sm" variant="ghost" aria-label={internal ? t("tickets.comment.deleteNote") : t("tickets.comment.deleteMessage")} busy={remove.isPending} onClick={() => setConfirming(true)}>
              {t("tickets.comment.delete")}
            </Button>
          ) : null}
        </div>
      ) : null}
      {error ? <Alert tone="danger">{error}</Alert> : null}
      <ConfirmDialog
        open={confirming}
        title={internal ? t("tickets.comment.deleteNoteQuestion") : t("tickets.comment.deleteMessageQuestion")}
        confirmLabel={t("tickets.comment.delete")}
        cancelLabel={t("tickets.comment.keep")}
        onClose={() => setConfirming(false)}
        onConfirm={() => {
          setConfirming(false);
          setError(null);
          remove.mutate(comment.id, { onError: (err) => setError(explain(err, "delete")) });
        }}
      >
        {t("tickets.comment.deleteHelp")}
      </ConfirmDialog>
    </>
  );
}
