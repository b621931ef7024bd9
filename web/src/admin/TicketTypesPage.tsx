import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { api, etag, idempotencyKey, ok } from "../api/client";
import { ApiError, describeError } from "../api/problem";
import { Alert, Badge, Button, Card, Field, Input, PageHeader, Spinner } from "../components/ui";
import { keys as ticketKeys } from "../tickets/queries";
import { adminKeys, useAdminTicketTypes } from "./api";
import { ScrollArea } from "./fields";
import { FailureAlert } from "./forms";
import type { TicketTypeRow } from "./types";

function NameCell({ type, onSaved, onError }: { type: TicketTypeRow; onSaved: () => void; onError: (e: unknown) => void }) {
  const [name, setName] = useState(type.name);
  const save = useMutation({
    mutationFn: () =>
      ok(
        api.PATCH("/v1/ticket-types/{type_id}", {
          params: { path: { type_id: type.id }, header: { "If-Match": etag(type.version) } },
          body: { name: name.trim() },
        }),
      ),
    onSuccess: onSaved,
    onError,
  });
  return (
    <form
      className="flex gap-2"
      onSubmit={(e) => {
        e.preventDefault();
        if (name.trim() && name.trim() !== type.name) save.mutate();
      }}
    >
      <label htmlFor={`type-name-${type.key}`} className="sr-only">
        Name of {type.key}
      </label>
      <Input id={`type-name-${type.key}`} value={name} maxLength={100} onChange={(e) => setName(e.target.value)} />
      <Button size="md" type="submit" busy={save.isPending} disabled={!name.trim() || name.trim() === type.name}>
        Rename<span className="sr-only"> {type.key}</span>
      </Button>
    </form>
  );
}

/** Admins name, add, order and archive the ticket types (the four built-in ones can be
 * renamed; Incident, the fallback, cannot be archived: the server says why). */
export default function TicketTypesPage() {
  const client = useQueryClient();
  const types = useAdminTicketTypes();
  const [problem, setProblem] = useState<string | null>(null);
  const [form, setForm] = useState({ key: "", name: "" });
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});
  const refresh = () => {
    setProblem(null);
    void client.invalidateQueries({ queryKey: adminKeys.ticketTypes });
    void client.invalidateQueries({ queryKey: ticketKeys.ticketTypes });
  };
  const fail = (error: unknown) => setProblem(describeError(error));
  const action = useMutation({ mutationFn: async (run: () => Promise<unknown>) => run(), onSuccess: refresh, onError: fail });
  const create = useMutation({
    mutationFn: () =>
      ok(
        api.POST("/v1/ticket-types", {
          params: { header: { "Idempotency-Key": idempotencyKey() } },
          body: { key: form.key.trim(), name: form.name.trim(), description: "" },
        }),
      ),
    onSuccess: () => {
      setForm({ key: "", name: "" });
      setFieldErrors({});
      refresh();
    },
    onError: (error) => {
      if (error instanceof ApiError) setFieldErrors(error.fieldErrors);
      fail(error);
    },
  });
  const rows = types.data ?? [];

  function move(at: number, by: -1 | 1) {
    const ids = rows.map((t) => t.id);
    ids.splice(at + by, 0, ...ids.splice(at, 1));
    action.mutate(() => ok(api.PUT("/v1/ticket-types/order", { body: { ids } })));
  }
  function archive(t: TicketTypeRow) {
    action.mutate(() =>
      ok(
        api.PATCH("/v1/ticket-types/{type_id}", {
          params: { path: { type_id: t.id }, header: { "If-Match": etag(t.version) } },
          body: { archived: !t.archived },
        }),
      ),
    );
  }
  function submit(event: FormEvent) {
    event.preventDefault();
    create.mutate();
  }

  return (
    <>
      <PageHeader title="Ticket types">Incident, service request, problem, question, and your own: filters, reports and SLA policies use them.</PageHeader>
      {problem ? (
        <div className="mb-3">
          <Alert tone="danger">{problem}</Alert>
        </div>
      ) : null}
      <Card className="mb-4">
        {types.isPending ? <Spinner label="Loading ticket types" /> : null}
        {types.isError ? <FailureAlert error={types.error} /> : null}
        {rows.length ? (
          <ScrollArea label="Ticket types table">
            <table className="w-full text-left">
              <caption className="sr-only">Ticket types</caption>
              <thead className="border-b border-border text-fg-muted">
                <tr>
                  <th scope="col" className="px-2 py-2 font-medium">Key</th>
                  <th scope="col" className="px-2 py-2 font-medium">Name</th>
                  <th scope="col" className="px-2 py-2 font-medium">State</th>
                  <th scope="col" className="px-2 py-2 font-medium">Actions</th>
                </tr>
              </thead>
              <tbody data-testid="type-rows">
                {rows.map((t, at) => (
                  <tr key={t.id} className="border-b border-border last:border-0">
                    <td className="px-2 py-2 font-mono">{t.key}</td>
                    <td className="px-2 py-2">
                      <NameCell key={`${t.id}-${t.version}`} type={t} onSaved={refresh} onError={fail} />
                    </td>
                    <td className="px-2 py-2">
                      {t.archived ? <Badge>Archived</Badge> : <Badge tone="success">In use</Badge>} {t.builtin ? <Badge>Built in</Badge> : null}
                    </td>
                    <td className="px-2 py-2">
                      <div className="flex flex-wrap gap-1">
                        <Button size="sm" variant="ghost" aria-label={`Move ${t.name} up`} disabled={at === 0} onClick={() => move(at, -1)}>
                          ↑
                        </Button>
                        <Button size="sm" variant="ghost" aria-label={`Move ${t.name} down`} disabled={at === rows.length - 1} onClick={() => move(at, 1)}>
                          ↓
                        </Button>
                        <Button size="sm" onClick={() => archive(t)}>
                          {t.archived ? "Restore" : "Archive"}
                          <span className="sr-only"> {t.name}</span>
                        </Button>
                      </div>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </ScrollArea>
        ) : null}
      </Card>
      <Card aria-labelledby="new-type-heading">
        <h2 id="new-type-heading" className="mb-3 font-semibold">
          Add a type
        </h2>
        <form className="grid gap-3 sm:grid-cols-[1fr_1fr_auto] sm:items-end" onSubmit={submit} noValidate>
          <Field label="Key" required error={fieldErrors.key} description="Lower-case letters, digits and _; never changes.">
            {(p) => <Input {...p} value={form.key} maxLength={40} onChange={(e) => setForm((f) => ({ ...f, key: e.target.value }))} />}
          </Field>
          <Field label="Name" required error={fieldErrors.name}>
            {(p) => <Input {...p} value={form.name} maxLength={100} onChange={(e) => setForm((f) => ({ ...f, name: e.target.value }))} />}
          </Field>
          <Button type="submit" variant="primary" busy={create.isPending}>
            Add type
          </Button>
        </form>
      </Card>
    </>
  );
}
