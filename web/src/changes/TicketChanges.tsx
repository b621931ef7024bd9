import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "react-router";
import { api, idempotencyKey, ok } from "../api/client";
import { describeError } from "../api/problem";
import { useMe } from "../auth/AuthProvider";
import { Alert, Badge, Button, Card, Field, Input } from "../components/ui";
import { can } from "../lib/domain";
import { useDebounced } from "../lib/useDebounced";
import { useLiveChanges } from "../live/LiveProvider";
import { t } from "../i18n/changes";
import { STATE_LABELS, searchable, type ChangeState } from "./api";
import { Choice, onSubmit } from "./parts";

/** States a change may still gain tickets in: not closed, cancelled or failed. */
const OPEN: ReadonlySet<ChangeState> = new Set(["draft", "assessment", "approval", "scheduled", "implementing", "review"]);

/** On the agent's ticket page: the changes linked to the ticket (an incident's fix, a
 * problem's change), for staff who may read changes; those who may manage changes link
 * an open change (the newest, or those a search by number or words finds) and unlink. Nothing for others when none is linked. */
export function TicketChanges({ ticketId }: { ticketId: string }) {
  const me = useMe();
  const client = useQueryClient();
  const allowed = can(me, "change:read");
  const manage = can(me, "change:manage");
  useLiveChanges(allowed);
  const [picked, setPicked] = useState("");
  const [open, setOpen] = useState(false);
  const [find, setFind] = useState("");
  const q = searchable(useDebounced(find));
  const key = ["changes", "ticket", ticketId];
  const linked = useQuery({
    queryKey: key,
    enabled: allowed,
    queryFn: ({ signal }) => ok(api.GET("/v1/changes", { params: { query: { ticket_id: ticketId, limit: 20 } }, signal })),
    select: (page) => page.items,
  });
  // The 50 newest (or newest found by the search), the open ones not yet linked (asked for
  // once the picker opens, not on every ticket page).
  const recent = useQuery({
    queryKey: ["changes", "recent", q],
    enabled: manage && open,
    queryFn: ({ signal }) => ok(api.GET("/v1/changes", { params: { query: { limit: 50, q } }, signal })),
    select: (page) => page.items.filter((c) => OPEN.has(c.state)),
  });
  const done = () => void client.invalidateQueries({ queryKey: ["changes"] });
  const link = useMutation({
    mutationFn: (changeId: string) =>
      ok(
        api.POST("/v1/changes/{change_id}/tickets", {
          params: { path: { change_id: changeId }, header: { "Idempotency-Key": idempotencyKey() } },
          body: { ticket_id: ticketId },
        }),
      ),
    onSuccess: () => {
      setPicked("");
      setFind("");
      setOpen(false);
      done();
    },
  });
  const unlink = useMutation({
    mutationFn: (changeId: string) =>
      ok(api.DELETE("/v1/changes/{change_id}/tickets/{ticket_id}", { params: { path: { change_id: changeId, ticket_id: ticketId } } })),
    onSuccess: done,
  });
  const items = linked.data ?? [];
  if (!allowed || (!manage && !items.length)) return null;
  const ids = new Set(items.map((c) => c.id));
  const options = (recent.data ?? []).filter((c) => !ids.has(c.id)).map((c) => [c.id, t("changes.refTitle", { n: c.number, title: c.title })] as const);
  return (
    <Card aria-labelledby="ticket-changes-heading" className="space-y-2">
      <h2 id="ticket-changes-heading" className="font-semibold text-fg">
        {t("changes.ticket.heading")}
      </h2>
      {items.length ? (
        <ul className="space-y-1" data-testid="ticket-changes">
          {items.map((c) => (
            <li key={c.id} className="flex flex-wrap items-center gap-2">
              <Link to={`/changes/${c.id}`} className="text-accent-text underline">
                {t("changes.refTitle", { n: c.number, title: c.title })}
              </Link>
              <Badge tone="info">{STATE_LABELS[c.state]}</Badge>
              {manage ? (
                <Button size="sm" variant="ghost" disabled={unlink.isPending} onClick={() => unlink.mutate(c.id)}>
                  {t("changes.ticket.unlink", { n: c.number })}
                </Button>
              ) : null}
            </li>
          ))}
        </ul>
      ) : (
        <p className="text-fg-muted">{t("changes.ticket.none")}</p>
      )}
      {unlink.isError ? <Alert>{describeError(unlink.error)}</Alert> : null}
      {manage ? (
        <Button size="sm" aria-expanded={open} onClick={() => setOpen(!open)}>
          {t("changes.ticket.link")}
        </Button>
      ) : null}
      {manage && open ? (
        <form className="flex flex-wrap items-end gap-2" aria-label={t("changes.ticket.link")} onSubmit={onSubmit(() => picked && link.mutate(picked))}>
          <Field label={t("changes.ticket.find")}>
            {(p) => <Input {...p} type="search" value={find} onChange={(e) => setFind(e.target.value)} placeholder={t("changes.searchHint")} maxLength={200} />}
          </Field>
          <Choice label={t("changes.ticket.pick")} description={t("changes.ticket.pickHint")} value={picked} empty={t("changes.ticket.choose")} options={options} required onChange={setPicked} />
          <Button type="submit" busy={link.isPending} disabled={!picked}>
            {t("changes.ticket.linkButton")}
          </Button>
        </form>
      ) : null}
      {link.isError ? <Alert>{describeError(link.error)}</Alert> : null}
    </Card>
  );
}
