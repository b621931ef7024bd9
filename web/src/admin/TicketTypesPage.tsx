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
import { t } from "../i18n/admin";

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
      <label htmlFor={`type-name-${type.key}`} className="sr-only">{t("admin.ticketTypes.nameOfKey", { key: type.key })}</label>
      <Input id={`type-name-${type.key}`} value={name} maxLength={100} onChange={(e) => setName(e.target.value)} />
      <Button size="md" type="submit" busy={save.isPending} disabled={!name.trim() || name.trim() === type.name}>
        {t("admin.ticketTypes.rename")}<span className="sr-only"> {type.key}</span>
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
    const ids = rows.map((item) => item.id);
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
      <PageHeader title={t("admin.ticketTypes.ticketTypes")}>{t("admin.ticketTypes.incidentServiceRequestProblem")}</PageHeader>
      {problem ? (
        <div className="mb-3">
          <Alert tone="danger">{problem}</Alert>
        </div>
      ) : null}
      <Card className="mb-4">
        {types.isPending ? <Spinner label={t("admin.ticketTypes.loadingTicketTypes")} /> : null}
        {types.isError ? <FailureAlert error={types.error} /> : null}
        {rows.length ? (
          <ScrollArea label={t("admin.ticketTypes.ticketTypesTable")}>
            <table className="w-full text-left">
              <caption className="sr-only">{t("admin.ticketTypes.ticketTypes")}</caption>
              <thead className="border-b border-border text-fg-muted">
                <tr>
                  <th scope="col" className="px-2 py-2 font-medium">{t("admin.ticketTypes.key")}</th>
                  <th scope="col" className="px-2 py-2 font-medium">{t("admin.ticketTypes.name")}</th>
                  <th scope="col" className="px-2 py-2 font-medium">{t("admin.ticketTypes.state")}</th>
                  <th scope="col" className="px-2 py-2 font-medium">{t("admin.ticketTypes.actions")}</th>
                </tr>
              </thead>
              <tbody data-testid="type-rows">
                {rows.map((item, at) => (
                  <tr key={item.id} className="border-b border-border last:border-0">
                    <td className="px-2 py-2 font-mono">{item.key}</td>
                    <td className="px-2 py-2">
                      <NameCell key={`${item.id}-${item.version}`} type={item} onSaved={refresh} onError={fail} />
                    </td>
                    <td className="px-2 py-2">
                      {item.archived ? <Badge>{t("admin.ticketTypes.archived")}</Badge> : <Badge tone="success">{t("admin.ticketTypes.inUse")}</Badge>} {item.builtin ? <Badge>{t("admin.ticketTypes.builtIn")}</Badge> : null}
                    </td>
                    <td className="px-2 py-2">
                      <div className="flex flex-wrap gap-1">
                        <Button size="sm" variant="ghost" aria-label={t("admin.ticketTypes.moveNameUp", { name: item.name })} disabled={at === 0} onClick={() => move(at, -1)}>
                          ↑
                        </Button>
                        <Button size="sm" variant="ghost" aria-label={t("admin.ticketTypes.moveNameDown", { name: item.name })} disabled={at === rows.length - 1} onClick={() => move(at, 1)}>
                          ↓
                        </Button>
                        <Button size="sm" onClick={() => archive(item)}>
                          {item.archived ? t("admin.ticketTypes.restore") : t("admin.ticketTypes.archive")}
                          <span className="sr-only"> {item.name}</span>
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
          {t("admin.ticketTypes.addAType")}
        </h2>
        <form className="grid gap-3 sm:grid-cols-[1fr_1fr_auto] sm:items-end" onSubmit={submit} noValidate>
          <Field label={t("admin.ticketTypes.key")} required error={fieldErrors.key} description={t("admin.ticketTypes.lowerCaseLettersDigits")}>
            {(p) => <Input {...p} value={form.key} maxLength={40} onChange={(e) => setForm((f) => ({ ...f, key: e.target.value }))} />}
          </Field>
          <Field label={t("admin.ticketTypes.name")} required error={fieldErrors.name}>
            {(p) => <Input {...p} value={form.name} maxLength={100} onChange={(e) => setForm((f) => ({ ...f, name: e.target.value }))} />}
          </Field>
          <Button type="submit" variant="primary" busy={create.isPending}>
            {t("admin.ticketTypes.addType")}
          </Button>
        </form>
      </Card>
    </>
  );
}
