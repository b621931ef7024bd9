import { useQueryClient } from "@tanstack/react-query";
import { useId, useState, type FormEvent } from "react";
import { api, idempotencyKey, ok } from "../api/client";
import { describeError } from "../api/problem";
import type { components } from "../api/schema";
import type { Ticket, User } from "../api/types";
import { Alert, Button, Input, Select } from "../components/ui";
import { isStaff } from "../lib/domain";
import { STATUSES, statusLabel } from "../lib/format";
import { findTicket, LookupError } from "./collab";
import { t, type MessageKey } from "../i18n";

type BulkRequest = components["schemas"]["BulkRequest"];
type BulkResult = components["schemas"]["BulkResult"];
type Action = BulkRequest["action"];

/** The server's limit on one bulk action (tickets.bulk.MAX_TICKETS). */
export const MAX_BULK = 100;

const ACTIONS: { value: Action; label: MessageKey }[] = [
  { value: "assign", label: "agent.bulk.assign" },
  { value: "status", label: "agent.bulk.status" },
  { value: "add_tags", label: "agent.bulk.addTags" },
  { value: "remove_tags", label: "agent.bulk.removeTags" },
  { value: "merge", label: "agent.bulk.merge" },
];

/** Tags as typed: comma or space separated, lower case, each once. */
export function parseTags(text: string): string[] {
  return [...new Set(text.split(/[\s,]+/).map((tag) => tag.trim().toLowerCase()).filter(Boolean))];
}

/**
 * One action over the selected queue rows, with the per-row results the server answers
 * (each row done whole or not at all). Rows that succeeded leave the selection; failed ones
 * stay selected, with why.
 */
export function BulkBar({
  selected,
  tickets,
  users,
  onDone,
  onClear,
}: {
  selected: string[];
  tickets: Pick<Ticket, "id" | "number">[];
  users?: Map<string, User> | undefined;
  onDone: (succeeded: string[]) => void;
  onClear: () => void;
}) {
  const client = useQueryClient();
  const id = useId();
  const [action, setAction] = useState<Action>("assign");
  const [assignee, setAssignee] = useState("");
  const [status, setStatus] = useState<string>("pending");
  const [tags, setTags] = useState("");
  const [target, setTarget] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [result, setResult] = useState<BulkResult | null>(null);
  const numberOf = (ticketId: string) => tickets.find((ticket) => ticket.id === ticketId)?.number ?? ticketId;
  const staff = [...(users?.values() ?? [])].filter((u) => isStaff(u.role)).sort((a, b) => a.name.localeCompare(b.name));

  async function body(): Promise<BulkRequest> {
    const base = { ticket_ids: selected, action };
    if (action === "assign") return { ...base, assignee_id: assignee || null };
    if (action === "status") return { ...base, status: status as NonNullable<BulkRequest["status"]> };
    if (action === "merge") return { ...base, target_id: (await findTicket(target)).id };
    const parsed = parseTags(tags);
    if (!parsed.length) throw new LookupError(t("agent.bulk.noTags"));
    return { ...base, tags: parsed };
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    setError(null);
    setResult(null);
    if (selected.length > MAX_BULK) {
      setError(t("agent.bulk.tooMany", { max: MAX_BULK }));
      return;
    }
    setBusy(true);
    try {
      const answer = await ok(
        api.POST("/v1/tickets/bulk", { params: { header: { "Idempotency-Key": idempotencyKey() } }, body: await body() }),
      );
      setResult(answer);
      onDone(answer.results.filter((r) => r.ok).map((r) => r.ticket_id));
      void client.invalidateQueries({ queryKey: ["tickets"] });
    } catch (e) {
      setError(e instanceof LookupError ? e.message : describeError(e));
    } finally {
      setBusy(false);
    }
  }

  const failed = result?.results.filter((r) => !r.ok) ?? [];
  // Shown while rows are selected, and after an action until dismissed (the rows done
  // leave the selection; the results stay to be read).
  if (!selected.length && !result) return null;
  return (
    <section aria-label={t("agent.bulk.label")} data-testid="bulk-bar" className="mb-4 space-y-3 rounded-lg border border-border bg-surface p-3">
      {selected.length ? (
      <form className="flex flex-wrap items-center gap-3" onSubmit={(e) => void submit(e)}>
        <span className="font-medium" aria-live="polite">
          {t("agent.bulk.selected", { count: selected.length })}
        </span>
        <label htmlFor={`${id}-action`} className="sr-only">
          {t("agent.bulk.action")}
        </label>
        <Select id={`${id}-action`} className="w-auto" value={action} onChange={(e) => setAction(e.target.value as Action)}>
          {ACTIONS.map((a) => (
            <option key={a.value} value={a.value}>
              {t(a.label)}
            </option>
          ))}
        </Select>
        {action === "assign" ? (
          <>
            <label htmlFor={`${id}-assignee`} className="sr-only">
              {t("agent.bulk.assignee")}
            </label>
            <Select id={`${id}-assignee`} className="w-auto" value={assignee} onChange={(e) => setAssignee(e.target.value)}>
              <option value="">{t("agent.bulk.nobody")}</option>
              {staff.map((u) => (
                <option key={u.id} value={u.id}>
                  {u.name}
                </option>
              ))}
            </Select>
          </>
        ) : null}
        {action === "status" ? (
          <>
            <label htmlFor={`${id}-status`} className="sr-only">
              {t("agent.bulk.statusLabel")}
            </label>
            <Select id={`${id}-status`} className="w-auto" value={status} onChange={(e) => setStatus(e.target.value)}>
              {STATUSES.map((s) => (
                <option key={s} value={s}>
                  {statusLabel(s, true)}
                </option>
              ))}
            </Select>
          </>
        ) : null}
        {action === "add_tags" || action === "remove_tags" ? (
          <>
            <label htmlFor={`${id}-tags`} className="sr-only">
              {t("agent.bulk.tags")}
            </label>
            <Input id={`${id}-tags`} className="w-56" placeholder={t("agent.bulk.tagsPlaceholder")} value={tags} onChange={(e) => setTags(e.target.value)} />
          </>
        ) : null}
        {action === "merge" ? (
          <>
            <label htmlFor={`${id}-target`} className="sr-only">
              {t("agent.bulk.target")}
            </label>
            <Input id={`${id}-target`} className="w-56" placeholder={t("agent.bulk.targetPlaceholder")} value={target} onChange={(e) => setTarget(e.target.value)} />
          </>
        ) : null}
        <Button type="submit" variant="primary" busy={busy}>
          {t("agent.bulk.apply", { count: selected.length })}
        </Button>
        <Button type="button" onClick={onClear}>
          {t("agent.bulk.clear")}
        </Button>
      </form>
      ) : null}
      {error ? (
        <Alert tone="danger" title={t("agent.bulk.nothingChanged")}>
          {error}
        </Alert>
      ) : null}
      {result ? (
        <div role="status" data-testid="bulk-result">
          <p>
            {result.failed ? t("agent.bulk.doneSome", { done: result.succeeded, failed: result.failed }) : t("agent.bulk.done", { done: result.succeeded })}
          </p>
          {failed.length ? (
            <ul className="list-disc pl-5">
              {failed.map((r) => (
                <li key={r.ticket_id}>
                  <span className="font-mono">{numberOf(r.ticket_id)}</span>: {r.problem?.detail ?? r.problem?.title ?? t("agent.bulk.error", { status: r.status })}
                  {r.problem?.errors?.length ? ` (${r.problem.errors.map((e) => String((e as { detail?: unknown }).detail ?? "")).join("; ")})` : ""}
                </li>
              ))}
            </ul>
          ) : null}
          <Button size="sm" className="mt-2" onClick={() => setResult(null)}>
            {t("agent.bulk.dismiss")}
          </Button>
        </div>
      ) : null}
    </section>
  );
}
