import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useId, useRef, useState, type KeyboardEvent } from "react";
import { Link } from "react-router";
import { api, idempotencyKey, ok } from "../api/client";
import { ApiError, describeError } from "../api/problem";
import type { Ticket } from "../api/types";
import { Alert, Badge, Button, Spinner, cx } from "../components/ui";
import { appendToDraft } from "../kb/markdown";
import { insertIntoReply } from "../tickets/Composer";
import { keys, storeTicket } from "../tickets/queries";
import { changeDraft } from "../tickets/useDraft";
import { SCOPE_LABELS, describeAction, macroKeys, useMacros, type Macro, type MacroApplied } from "./api";
import { PreviewView, ProblemList } from "./Preview";
import { t } from "../i18n/macros";

/** True when a key press belongs to what the person is typing, not to a shortcut. */
function typing(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName);
}

/** `m` outside a text field, or Ctrl/Cmd+Shift+M anywhere. */
export function isMacroShortcut(event: { key: string; ctrlKey: boolean; metaKey: boolean; shiftKey: boolean; altKey: boolean; target: EventTarget | null }): boolean {
  if ((event.ctrlKey || event.metaKey) && event.shiftKey && event.key.toLowerCase() === "m") return true;
  return event.key === "m" && !event.ctrlKey && !event.metaKey && !event.altKey && !typing(event.target);
}

/**
 * The agent workspace's macro picker: a searchable combobox (ARIA 1.2 pattern) in a modal,
 * then the chosen macro's preview on this ticket, then apply (every action or none) with
 * each action's result, or, for a canned response, insert its text into the composer.
 */
export function MacroPicker({ ticket }: { ticket: Ticket }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const opener = useRef<HTMLButtonElement>(null);
  const [open, setOpen] = useState(false);
  const id = useId();

  useEffect(() => {
    const onKey = (event: globalThis.KeyboardEvent) => {
      if (!isMacroShortcut(event) || dialog.current?.open) return;
      event.preventDefault();
      setOpen(true);
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);
  useEffect(() => {
    const element = dialog.current;
    if (!element) return;
    if (open && !element.open) element.showModal?.();
    if (!open && element.open) element.close();
  }, [open]);

  return (
    <>
      <Button ref={opener} onClick={() => setOpen(true)} aria-keyshortcuts="M Control+Shift+M" aria-haspopup="dialog">
        {t("macros.macroPicker.macros")}{" "}<kbd className="rounded border border-border px-1 font-mono text-xs text-fg-muted">{t("macros.macroPicker.m")}</kbd>
      </Button>
      <dialog
        ref={dialog}
        aria-labelledby={`${id}-title`}
        onClose={() => setOpen(false)}
        className="m-auto w-[min(40rem,calc(100vw-2rem))] rounded-lg border border-border bg-surface p-5 text-fg shadow-card backdrop:bg-overlay"
      >
        <h2 id={`${id}-title`} className="text-base font-semibold">{t("macros.macroPicker.applyAMacroTo", { number: ticket.number })}</h2>
        {open ? <PickerBody ticket={ticket} onClose={() => setOpen(false)} /> : null}
      </dialog>
    </>
  );
}

function PickerBody({ ticket, onClose }: { ticket: Ticket; onClose: () => void }) {
  const [chosen, setChosen] = useState<Macro | null>(null);
  if (!chosen) return <MacroSearch onChoose={setChosen} onClose={onClose} />;
  return <ChosenMacro ticket={ticket} macro={chosen} onBack={() => setChosen(null)} onClose={onClose} />;
}

function MacroSearch({ onChoose, onClose }: { onChoose: (macro: Macro) => void; onClose: () => void }) {
  const [q, setQ] = useState("");
  const [active, setActive] = useState(0);
  const macros = useMacros(q.trim());
  const id = useId();
  const items = macros.data ?? [];
  const current = items[Math.min(active, items.length - 1)];

  function onKeyDown(event: KeyboardEvent<HTMLInputElement>) {
    if (event.key === "ArrowDown") {
      event.preventDefault();
      setActive((i) => Math.min(i + 1, items.length - 1));
    } else if (event.key === "ArrowUp") {
      event.preventDefault();
      setActive((i) => Math.max(i - 1, 0));
    } else if (event.key === "Home") {
      setActive(0);
    } else if (event.key === "End") {
      setActive(items.length - 1);
    } else if (event.key === "Enter") {
      event.preventDefault();
      if (current) onChoose(current);
    }
  }

  return (
    <div className="mt-3 space-y-3">
      <label htmlFor={`${id}-input`} className="block font-medium">
        {t("macros.macroPicker.findAMacro")}
      </label>
      <input
        id={`${id}-input`}
        autoFocus
        role="combobox"
        aria-expanded={items.length > 0}
        aria-controls={`${id}-list`}
        aria-autocomplete="list"
        aria-activedescendant={current ? `${id}-option-${current.id}` : undefined}
        aria-describedby={`${id}-help`}
        value={q}
        onChange={(e) => {
          setQ(e.target.value);
          setActive(0);
        }}
        onKeyDown={onKeyDown}
        className="block h-10 w-full rounded-md border border-border-strong bg-surface px-3 text-fg"
        autoComplete="off"
      />
      <p id={`${id}-help`} className="text-fg-muted">
        {t("macros.macroPicker.typeToSearchBy")}
      </p>
      {macros.isPending ? <Spinner label={t("macros.macroPicker.loadingMacros")} /> : null}
      {macros.isError ? <Alert tone="danger" title={t("macros.macroPicker.couldNotLoadThe")}>{describeError(macros.error)}</Alert> : null}
      <ul id={`${id}-list`} role="listbox" aria-label={t("macros.macroPicker.macros")} className="max-h-72 overflow-y-auto rounded-md border border-border">
        {items.map((macro, index) => (
          <li
            key={macro.id}
            id={`${id}-option-${macro.id}`}
            role="option"
            aria-selected={macro.id === current?.id}
            onMouseEnter={() => setActive(index)}
            onClick={() => onChoose(macro)}
            className={cx(
              "flex cursor-pointer flex-wrap items-center gap-2 border-b border-border px-3 py-2 last:border-b-0",
              macro.id === current?.id && "bg-accent-subtle text-accent-text",
            )}
          >
            <span className="font-medium">{macro.name}</span>
            <Badge>{SCOPE_LABELS[macro.scope]}</Badge>
            {macro.canned ? <Badge tone="info">{t("macros.macroPicker.cannedResponse")}</Badge> : null}
            {macro.problems.length ? <Badge tone="danger">{t("macros.macroPicker.lengthToFix", { length: macro.problems.length })}</Badge> : null}
            <span className="w-full truncate text-fg-muted">{macro.actions.map(describeAction).join(" · ")}</span>
          </li>
        ))}
      </ul>
      {macros.isSuccess && items.length === 0 ? (
        <p className="text-fg-muted">
          {t("macros.macroPicker.noMacroMatches")}{" "}<Link to="/macros/new" className="text-accent-text underline">{t("macros.macroPicker.createOne")}</Link>
        </p>
      ) : null}
      <div className="flex justify-end">
        <Button onClick={onClose}>{t("macros.macroPicker.close")}</Button>
      </div>
    </div>
  );
}

function ChosenMacro({ ticket, macro, onBack, onClose }: { ticket: Ticket; macro: Macro; onBack: () => void; onClose: () => void }) {
  const client = useQueryClient();
  const key = useRef(idempotencyKey());
  const path = { ticket_id: ticket.id, macro_id: macro.id };
  const preview = useQuery({
    queryKey: ["macros", macro.id, "preview", ticket.id, ticket.version],
    queryFn: () => ok(api.POST("/v1/tickets/{ticket_id}/macros/{macro_id}/preview", { params: { path } })),
  });
  const apply = useMutation({
    mutationFn: () =>
      ok(
        api.POST("/v1/tickets/{ticket_id}/macros/{macro_id}/apply", {
          params: { path, header: { "Idempotency-Key": key.current } },
        }),
      ),
    onSuccess: (result: MacroApplied) => {
      storeTicket(client, result.ticket);
      for (const k of [keys.comments(ticket.id), keys.events(ticket.id), keys.sla(ticket.id), keys.participants(ticket.id), macroKeys.all]) {
        void client.invalidateQueries({ queryKey: k });
      }
    },
  });
  const insert = useMutation({
    mutationFn: () => ok(api.POST("/v1/tickets/{ticket_id}/macros/{macro_id}/render", { params: { path } })),
    onSuccess: (rendered) => {
      for (const item of rendered.items) {
        if (item.type === "reply") insertIntoReply(ticket.id, item.body);
        else changeDraft(`${ticket.id}:internal`, (current) => appendToDraft(current, item.body));
      }
      onClose();
    },
  });

  if (apply.isSuccess) {
    return (
      <div className="mt-3 space-y-3" aria-live="polite">
        <Alert tone="success" title={t("macros.macroPicker.nameApplied", { name: macro.name })}>
          {t("macros.macroPicker.eachActionInOrder")}
        </Alert>
        <ol className="list-decimal space-y-1 pl-6" aria-label={t("macros.macroPicker.actionResults")}>
          {apply.data.outcomes.map((outcome) => (
            <li key={outcome.index}>
              {macro.actions[outcome.index] ? describeAction(macro.actions[outcome.index]!) : outcome.type}:{" "}
              <strong>{outcome.status === "applied" ? t("macros.macroPicker.done") : outcome.status === "unchanged" ? t("macros.macroPicker.alreadySo") : t("macros.macroPicker.skipped")}</strong>
              {outcome.detail ? <span className="text-fg-muted"> ({outcome.detail})</span> : null}
            </li>
          ))}
        </ol>
        <div className="flex justify-end">
          <Button variant="primary" autoFocus onClick={onClose}>
            {t("macros.macroPicker.done2")}
          </Button>
        </div>
      </div>
    );
  }
  const refused = apply.error ?? (preview.error instanceof ApiError ? preview.error : null);
  return (
    <div className="mt-3 space-y-3">
      <p>
        <strong>{macro.name}</strong> <Badge>{SCOPE_LABELS[macro.scope]}</Badge>
        {macro.description ? <span className="block text-fg-muted">{macro.description}</span> : null}
      </p>
      {macro.problems.length ? <ProblemList problems={macro.problems} actions={macro.actions} /> : null}
      {preview.isPending ? <Spinner label={t("macros.macroPicker.previewingOnThisTicket")} /> : null}
      {preview.isSuccess ? <PreviewView preview={preview.data} /> : null}
      {refused ? (
        <Alert tone="danger" title={t("macros.macroPicker.thisMacroCannotBe")}>
          {describeError(refused)}
          <span className="block">{t("macros.macroPicker.nothingWasChanged")}</span>
        </Alert>
      ) : null}
      {insert.isError ? <Alert tone="danger" title={t("macros.macroPicker.couldNotInsertIt")}>{describeError(insert.error)}</Alert> : null}
      <div className="flex flex-wrap justify-end gap-2">
        <Button onClick={onBack}>{t("macros.macroPicker.back")}</Button>
        {macro.canned ? (
          <Button busy={insert.isPending} onClick={() => insert.mutate()}>
            {t("macros.macroPicker.insertIntoComposer")}
          </Button>
        ) : null}
        <Button variant="primary" autoFocus busy={apply.isPending} disabled={!preview.isSuccess} onClick={() => apply.mutate()}>
          {t("macros.macroPicker.applyMacro")}
        </Button>
      </div>
    </div>
  );
}
