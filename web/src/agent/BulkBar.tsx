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

type BulkRequest = components["schemas"]["BulkRequest"];
type BulkResult = components["schemas"]["BulkResult"];
type Action = BulkRequest["action"];

/** The server's limit on one bulk action (tickets.bulk.MAX_TICKETS). */
export const MAX_BULK = 100;

const ACTIONS: { value: Action; label: string }[] = [
  { value: "assign", label: "Assign to" },
  { value: "status", label: "Set status" },
  { value: "add_tags", label: "Add tags" },
  { value: "remove_tags", label: "Remove tags" },
  { value: "merge", label: "Merge into" },
];

/** Tags as typed: comma or space separated, lower case, each once. */
export function parseTags(text: string): string[] {
  return [...new Set(text.split(/[\s,]+/).map((t) => t.trim().toLowerCase()).filter(Boolean))];
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
  tickets: Ticket[];
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
  const numberOf = (ticketId: string) => tickets.find((t) => t.id === ticketId)?.number ?? ticketId;
  const staff = [...(users?.values() ?? [])].filter((u) => isStaff(u.role)).sort((a, b) => a.name.localeCompare(b.name));

  async function body(): Promise<BulkRequest> {
    const base = { ticket_ids: selected, action };
    if (action === "assign") return { ...base, assignee_id: assignee || null };
    if (action === "status") return { ...base, status: status as NonNullable<BulkRequest["status"]> };
    if (action === "merge") return { ...base, target_id: (await findTicket(target)).id };
    const parsed = parseTags(tags);
    if (!parsed.length) throw new LookupError("Enter at least one tag.");
    return { ...base, tags: parsed };
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    setError(null);
    setResult(null);
    if (selected.length > MAX_BULK) {
      setError(`Select at most ${MAX_BULK} tickets for one action.`);
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
    <section aria-label="Bulk actions" data-testid="bulk-bar" className="mb-4 space-y-3 rounded-lg border border-border bg-surface p-3">
      {selected.length ? (
      <form className="flex flex-wrap items-center gap-3" onSubmit={(e) => void submit(e)}>
        <span className="font-medium" aria-live="polite">
          {selected.length} selected
        </span>
        <label htmlFor={`${id}-action`} className="sr-only">
          Bulk action
        </label>
        <Select id={`${id}-action`} className="w-auto" value={action} onChange={(e) => setAction(e.target.value as Action)}>
          {ACTIONS.map((a) => (
            <option key={a.value} value={a.value}>
              {a.label}
            </option>
          ))}
        </Select>
        {action === "assign" ? (
          <>
            <label htmlFor={`${id}-assignee`} className="sr-only">
              Assignee
            </label>
            <Select id={`${id}-assignee`} className="w-auto" value={assignee} onChange={(e) => setAssignee(e.target.value)}>
              <option value="">Nobody (unassign)</option>
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
              Status
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
              Tags
            </label>
            <Input id={`${id}-tags`} className="w-56" placeholder="tags, comma separated" value={tags} onChange={(e) => setTags(e.target.value)} />
          </>
        ) : null}
        {action === "merge" ? (
          <>
            <label htmlFor={`${id}-target`} className="sr-only">
              Ticket to merge into
            </label>
            <Input id={`${id}-target`} className="w-56" placeholder="ticket number" value={target} onChange={(e) => setTarget(e.target.value)} />
          </>
        ) : null}
        <Button type="submit" variant="primary" busy={busy}>
          Apply to {selected.length}
        </Button>
        <Button type="button" onClick={onClear}>
          Clear selection
        </Button>
      </form>
      ) : null}
      {error ? (
        <Alert tone="danger" title="Nothing was changed">
          {error}
        </Alert>
      ) : null}
      {result ? (
        <div role="status" data-testid="bulk-result">
          <p>
            {result.succeeded} done{result.failed ? `, ${result.failed} not done` : ""}.
          </p>
          {failed.length ? (
            <ul className="list-disc pl-5">
              {failed.map((r) => (
                <li key={r.ticket_id}>
                  <span className="font-mono">{numberOf(r.ticket_id)}</span>: {r.problem?.detail ?? r.problem?.title ?? `error ${r.status}`}
                  {r.problem?.errors?.length ? ` (${r.problem.errors.map((e) => String((e as { detail?: unknown }).detail ?? "")).join("; ")})` : ""}
                </li>
              ))}
            </ul>
          ) : null}
          <Button size="sm" className="mt-2" onClick={() => setResult(null)}>
            Dismiss
          </Button>
        </div>
      ) : null}
    </section>
  );
}
