import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useId, useRef, useState, type FormEvent, type ReactNode } from "react";
import { api, idempotencyKey, ok } from "../api/client";
import { ApiError, describeError } from "../api/problem";
import type { Ticket } from "../api/types";
import { StatusBadge } from "../components/TicketBadges";
import { Alert, Button, Field, Input } from "../components/ui";
import { keys, storeTicket } from "../tickets/queries";
import { LookupError, collabKeys, findTicket } from "./collab";
import { t } from "../i18n";

/**
 * A modal dialog on the browser's own <dialog>: focus moves in and is kept there, Escape
 * closes it, focus returns to the button that opened it — and nothing injects a <style>
 * (as scroll-locking dialog libraries do), which the CSP would refuse.
 */
function Dialog({ open, onClose, title, children }: { open: boolean; onClose: () => void; title: string; children: ReactNode }) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
  }, [open]);
  return (
    <dialog
      ref={ref}
      aria-labelledby={titleId}
      onClose={onClose}
      className="m-auto w-[32rem] max-w-[calc(100vw-2rem)] rounded-lg border border-border bg-surface p-0 text-fg shadow-card backdrop:bg-overlay"
    >
      {open ? (
        <div className="space-y-4 p-5">
          <h2 id={titleId} className="text-base font-semibold">
            {title}
          </h2>
          {children}
        </div>
      ) : null}
    </dialog>
  );
}

/** Merge this ticket into another, after a look at the target and a confirmation: this one
 * closes with a pointer, its requester and CCs join the other. */
export function MergeButton({ ticket }: { ticket: Ticket }) {
  const client = useQueryClient();
  const [open, setOpen] = useState(false);
  const [number, setNumber] = useState("");
  const [target, setTarget] = useState<Ticket | null>(null);
  const [error, setError] = useState<string | undefined>();
  const [failure, setFailure] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  function close() {
    setOpen(false);
    setTarget(null);
    setError(undefined);
    setFailure(null);
  }

  async function find(event: FormEvent) {
    event.preventDefault();
    setError(undefined);
    setFailure(null);
    setBusy(true);
    try {
      const found = await findTicket(number);
      if (found.id === ticket.id) throw new LookupError(t("agent.merge.self"));
      if (found.merged_into_id) throw new LookupError(t("agent.merge.alreadyMerged"));
      setTarget(found);
    } catch (e) {
      if (e instanceof LookupError) setError(e.message);
      else setFailure(describeError(e));
    } finally {
      setBusy(false);
    }
  }

  async function merge() {
    if (!target) return;
    setFailure(null);
    setBusy(true);
    try {
      const merged = await ok(
        api.POST("/v1/tickets/{ticket_id}/merge", {
          params: { path: { ticket_id: ticket.id }, header: { "Idempotency-Key": idempotencyKey() } },
          body: { target_id: target.id },
        }),
      );
      storeTicket(client, merged);
      for (const id of [ticket.id, target.id]) void client.invalidateQueries({ queryKey: collabKeys.links(id) });
      void client.invalidateQueries({ queryKey: keys.participants(target.id) });
      void client.invalidateQueries({ queryKey: keys.ticket(target.id), exact: true });
      setNumber("");
      close();
    } catch (e) {
      if (e instanceof ApiError && e.fieldErrors.target_id) {
        setTarget(null);
        setError(e.fieldErrors.target_id);
      } else setFailure(describeError(e));
    } finally {
      setBusy(false);
    }
  }

  if (ticket.merged_into_id) return null;
  return (
    <>
      <Button onClick={() => setOpen(true)}>{t("agent.merge.open")}</Button>
      <Dialog open={open} onClose={close} title={t("agent.merge.title", { number: ticket.number })}>
        {target ? (
          <>
            <p>
              {t("agent.merge.into")}
              <span className="font-mono">{ticket.number}</span>
              {t("agent.merge.intoEnd")}
            </p>
            <p className="rounded-md border border-border p-3">
              <span className="font-mono">{target.number}</span> <span className="font-medium">{target.title}</span>{" "}
              <StatusBadge status={target.status} staff />
            </p>
            <Alert tone="warning" title={t("agent.merge.final")}>
              {t("agent.merge.finalHelp", { number: ticket.number, target: target.number })}
            </Alert>
            {failure ? <Alert tone="danger">{failure}</Alert> : null}
            <div className="flex flex-wrap justify-end gap-2">
              <Button variant="ghost" onClick={() => setTarget(null)} disabled={busy}>
                {t("agent.merge.back")}
              </Button>
              <Button variant="danger" busy={busy} onClick={() => void merge()}>
                {t("agent.merge.confirm", { number: target.number })}
              </Button>
            </div>
          </>
        ) : (
          <form onSubmit={find} noValidate className="space-y-4">
            <Field label={t("agent.merge.number")} description={t("agent.merge.numberHelp")} error={error}>
              {(p) => <Input {...p} autoComplete="off" value={number} onChange={(e) => setNumber(e.target.value)} />}
            </Field>
            {failure ? <Alert tone="danger">{failure}</Alert> : null}
            <div className="flex flex-wrap justify-end gap-2">
              <Button variant="ghost" onClick={close}>
                {t("agent.merge.cancel")}
              </Button>
              <Button type="submit" variant="primary" busy={busy}>
                {t("agent.merge.continue")}
              </Button>
            </div>
          </form>
        )}
      </Dialog>
    </>
  );
}
