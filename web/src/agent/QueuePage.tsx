import { useEffect, useRef, useState, type KeyboardEvent } from "react";
import { Link, NavLink, Navigate, useNavigate, useParams, useSearchParams } from "react-router";
import type { Level } from "../api/types";
import { PriorityBadge, StatusBadge } from "../components/TicketBadges";
import { Alert, Button, EmptyState, Input, Select, Spinner, cx } from "../components/ui";
import { LEVELS, LEVEL_LABELS, STATUSES, formatDateTime, formatRelative, statusLabel } from "../lib/format";
import { ErrorAlert } from "../tickets/Composer";
import { ExportButton } from "../components/ExportButton";
import { useCategories, useQueueTickets, useTeams, useTicketTypes, useUsers } from "../tickets/queries";
import { useMe } from "../auth/AuthProvider";
import { useFallbackPoll, useLiveTeams, useLiveTriage } from "../live/LiveProvider";
import { focusList, isTyping, useSkipTarget } from "../app/skip";
import { SlaDue, useNow } from "./SlaBadges";
import { describeDrilldown, readDrilldown, withDrilldown } from "./drilldown";
import { BulkBar } from "./BulkBar";
import { ViewsSidebar, useViews, viewQuery } from "./SavedViews";
import { QUEUES, SLA_FILTERS, SORTS, SAFETY_POLL_MS, defaultSort, isQueue, queueQuery, slaFilter, teamsToHear, type QueueFilters, type QueueId, type Sort } from "./queues";
import { t } from "../i18n";
import { Person } from "../components/Avatar";

const TEAM_KEY = "sd-queue-team";

function useFilters(queue: QueueId): [QueueFilters, (patch: Partial<QueueFilters>) => void] {
  const [params, setParams] = useSearchParams();
  const filters: QueueFilters = {
    // A report's drilldown may name several (status=resolved,closed): the drilldown applies
    // them (./drilldown.ts), the single-choice filter shows "any".
    status: params.get("status")?.includes(",") ? "any" : ((params.get("status") as QueueFilters["status"] | null) ?? (queue === "all" ? "any" : "active")),
    priority: params.get("priority")?.includes(",") || params.getAll("priority").length > 1 ? "" : ((params.get("priority") as Level | null) ?? ""),
    type: params.getAll("type").length > 1 ? "" : (params.get("type") ?? ""),
    q: params.get("q") ?? "",
    sort: (params.get("sort") as Sort | null) ?? defaultSort(queue),
    team: params.get("team") ?? localStorage.getItem(TEAM_KEY) ?? "",
    sla: slaFilter(params.get("sla")),
  };
  const update = (patch: Partial<QueueFilters>) => {
    const next = new URLSearchParams(params);
    next.delete("view"); // changing a filter leaves the saved view
    for (const [key, value] of Object.entries(patch)) {
      if (value === "" || value === undefined || (key === "sla" && value === "any")) next.delete(key);
      else next.set(key, String(value));
    }
    if (patch.team) localStorage.setItem(TEAM_KEY, patch.team);
    setParams(next, { replace: true });
  };
  return [filters, update];
}

function SearchBox({ value, onChange }: { value: string; onChange: (v: string) => void }) {
  const [text, setText] = useState(value);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => setText(value), [value]);
  useEffect(() => {
    const id = window.setTimeout(() => {
      if (text !== value) onChange(text);
    }, 300);
    return () => window.clearTimeout(id);
  }, [text, value, onChange]);
  useEffect(() => {
    // "/" jumps to the search box from anywhere on the page (but not while typing).
    function onKey(e: globalThis.KeyboardEvent) {
      if (e.key === "/" && !isTyping(e.target) && !e.ctrlKey && !e.metaKey && !e.altKey) {
        e.preventDefault();
        input.current?.focus();
      }
    }
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);
  return (
    <div className="min-w-56 flex-1">
      <label htmlFor="queue-search" className="sr-only">
        {t("agent.queue.search")}
      </label>
      <Input
        ref={input}
        id="queue-search"
        type="search"
        placeholder={t("agent.queue.searchPlaceholder")}
        value={text}
        onChange={(e) => setText(e.target.value)}
      />
    </div>
  );
}

function LabeledSelect({ id, label, value, onChange, children }: { id: string; label: string; value: string; onChange: (v: string) => void; children: React.ReactNode }) {
  return (
    <div className="flex items-center gap-2">
      <label htmlFor={id} className="text-fg-muted">
        {label}
      </label>
      <Select id={id} className="w-auto" value={value} onChange={(e) => onChange(e.target.value)}>
        {children}
      </Select>
    </div>
  );
}

/** Arrow keys (or j/k) move between rows; Enter opens; Home/End jump; x selects the row. */
function moveFocus(event: KeyboardEvent<HTMLElement>) {
  if (event.key === "x" && !event.ctrlKey && !event.metaKey && !event.altKey) {
    const row = (document.activeElement as HTMLElement | null)?.closest("tr");
    const box = row?.querySelector<HTMLInputElement>("input[data-row-select]");
    if (box && document.activeElement !== box) {
      event.preventDefault();
      box.click();
      return;
    }
  }
  const links = Array.from(event.currentTarget.querySelectorAll<HTMLAnchorElement>("a[data-row-link]"));
  const index = links.indexOf(document.activeElement as HTMLAnchorElement);
  const keyMap: Record<string, number> = { ArrowDown: index + 1, j: index + 1, ArrowUp: index - 1, k: index - 1, Home: 0, End: links.length - 1 };
  const target = keyMap[event.key];
  if (target === undefined || !links.length) return;
  event.preventDefault();
  links[Math.max(0, Math.min(links.length - 1, target))]?.focus();
}

const LIST_ID = "queue-list";

/** Words with [key] marks, each key shown as <kbd> (the catalogue keeps the sentence whole). */
function WithKeys({ text }: { text: string }) {
  return <>{text.split(/\[([^\]]+)\]/).map((part, i) => (i % 2 ? <kbd key={i}>{part}</kbd> : part))}</>;
}

/** j from anywhere outside the list and the fields: into the list, first row. */
function useJumpToList() {
  useEffect(() => {
    function onKey(e: globalThis.KeyboardEvent) {
      if (e.key !== "j" || isTyping(e.target) || e.ctrlKey || e.metaKey || e.altKey) return;
      if ((e.target as HTMLElement | null)?.closest?.(`#${LIST_ID}`)) return;
      if (focusList(LIST_ID)) e.preventDefault();
    }
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);
}

export default function QueuePage() {
  const { queue: param } = useParams();
  const queue: QueueId = isQueue(param) ? param : "mine";
  const [filters, update] = useFilters(queue);
  const navigate = useNavigate();
  const teams = useTeams();
  const [searchParams] = useSearchParams();
  const drill = readDrilldown(searchParams);
  const [selected, setSelected] = useState<string[]>([]);
  // The rows name their people themselves (GraphQL); the directory is for the bulk bar's
  // assignee picker and a drilldown's names, so it loads when one of them needs it.
  const users = useUsers(selected.length > 0 || !!drill);
  const viewId = searchParams.get("view");
  const views = useViews();
  const view = viewId ? views.data?.find((v) => v.id === viewId) : undefined;
  // A saved view is the ticket list's query as it was saved: it replaces the queue's.
  const query = view ? viewQuery(view) : withDrilldown(queueQuery(queue, filters), drill);
  // Another queue or view: another list, so nothing stays selected.
  useEffect(() => setSelected([]), [queue, viewId]);
  const categories = useCategories();
  const ticketTypes = useTicketTypes();
  const needsTeam = queue === "team" && !filters.team;
  const me = useMe();
  useSkipTarget(LIST_ID, t("agent.queue.skip"));
  useJumpToList();
  // New and reassigned tickets arrive as pushes on team channels and, for tickets without
  // a team, on the triage queue; polling is the fallback while the socket is down (plus a
  // slow safety net).
  useLiveTeams(teamsToHear(queue, filters.team, me.teams ?? [], teams.data ?? []));
  useLiveTriage(queue !== "mine" && queue !== "team");
  const refetchInterval = useFallbackPoll(15_000) || SAFETY_POLL_MS;
  const now = useNow(30_000);
  // One GraphQL query (persisted, by hash) for the rows and their people's names.
  const list = useQueueTickets(query, { refetchInterval, enabled: !needsTeam && (!viewId || !!view) });
  const tickets = needsTeam ? [] : (list.data?.pages.flatMap((p) => p.items) ?? []);
  // "My team" opens on one of the person's own teams (an agent sees no other team's tickets).
  const firstTeam = me.teams?.[0]?.id ?? teams.data?.[0]?.id;

  useEffect(() => {
    if (needsTeam && firstTeam) update({ team: firstTeam });
  });

  if (!isQueue(param)) return <Navigate to="/queues/mine" replace />;
  const person = (who: { name: string; avatarUrl: string | null } | null) => <Person name={who?.name} url={who?.avatarUrl} />;
  const toggle = (id: string) => setSelected((now) => (now.includes(id) ? now.filter((s) => s !== id) : [...now, id]));
  const allSelected = tickets.length > 0 && tickets.every((ticket) => selected.includes(ticket.id));

  return (
    <>
      <div className="mb-4 flex flex-wrap items-end justify-between gap-3">
        <h1 className="text-xl font-semibold">{t("agent.queue.title")}</h1>
        <p className="text-fg-muted" id="queue-keys">
          <WithKeys text={t("agent.queue.keys")} />
        </p>
      </div>
      <nav aria-label={t("agent.queue.title")} className="mb-4 flex flex-wrap gap-1 border-b border-border">
        {QUEUES.map((q) => (
          <NavLink
            key={q.id}
            to={`/queues/${q.id}`}
            className={({ isActive }) =>
              cx(
                "-mb-px border-b-2 px-3 py-2 font-medium",
                isActive ? "border-accent text-accent-text" : "border-transparent text-fg-muted hover:text-fg",
              )
            }
          >
            {t(q.label)}
          </NavLink>
        ))}
      </nav>
      <div className="grid gap-6 lg:grid-cols-[14rem_1fr]">
      <ViewsSidebar query={query} activeId={viewId} teams={teams.data ?? []} />
      <div className="min-w-0">
      {viewId ? (
        <div className="mb-4" data-testid="active-view">
          <Alert
            tone="info"
            title={view ? t("agent.queue.view", { name: view.name }) : views.isPending ? t("agent.queue.viewLoading") : t("agent.queue.viewGone")}
            action={
              <Link to={`/queues/${queue}`} className="whitespace-nowrap text-accent-text underline">
                {t("agent.queue.clear")}
              </Link>
            }
          />
        </div>
      ) : null}
      {drill && !viewId ? (
        <div className="mb-4" data-testid="drilldown">
          <Alert
            tone="info"
            title={t("agent.queue.fromReport")}
            action={
              <Link to={`/queues/${queue}`} className="whitespace-nowrap text-accent-text underline">
                {t("agent.queue.clear")}
              </Link>
            }
          >
            <ul className="flex flex-wrap gap-x-4">
              {describeDrilldown(drill, {
                team: (id) => teams.data?.find((team) => team.id === id)?.name,
                user: (id) => users.data?.get(id)?.name,
                category: (id) => categories.data?.find((c) => c.id === id)?.name,
              }).map((line) => (
                <li key={line}>{line}</li>
              ))}
            </ul>
            {drill.ignored.length ? <p>{t("agent.queue.ignored", { names: drill.ignored.join(", ") })}</p> : null}
          </Alert>
        </div>
      ) : null}
      <div className="mb-4 flex flex-wrap items-center gap-3" role="search" aria-label={t("agent.queue.filter")}>
        <SearchBox value={filters.q} onChange={(q) => update({ q })} />
        {queue === "team" ? (
          <LabeledSelect id="f-team" label={t("agent.queue.f.team")} value={filters.team} onChange={(team) => update({ team })}>
            {(teams.data ?? []).map((team) => (
              <option key={team.id} value={team.id}>
                {team.name}
              </option>
            ))}
          </LabeledSelect>
        ) : null}
        {queue === "sla" ? (
          <LabeledSelect id="f-sla" label={t("agent.queue.f.sla")} value={filters.sla} onChange={(sla) => update({ sla: slaFilter(sla) })}>
            {SLA_FILTERS.map((f) => (
              <option key={f.value} value={f.value}>
                {t(f.label)}
              </option>
            ))}
          </LabeledSelect>
        ) : null}
        <LabeledSelect id="f-status" label={t("agent.queue.f.status")} value={filters.status} onChange={(s) => update({ status: s as QueueFilters["status"] })}>
          <option value="active">{t("agent.queue.f.active")}</option>
          <option value="any">{t("agent.queue.f.allStatuses")}</option>
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {statusLabel(s, true)}
            </option>
          ))}
        </LabeledSelect>
        <LabeledSelect id="f-priority" label={t("agent.queue.f.priority")} value={filters.priority} onChange={(p) => update({ priority: p as Level | "" })}>
          <option value="">{t("agent.queue.f.any")}</option>
          {LEVELS.map((l) => (
            <option key={l} value={l}>
              {LEVEL_LABELS[l]}
            </option>
          ))}
        </LabeledSelect>
        <LabeledSelect id="f-type" label={t("agent.queue.f.type")} value={filters.type ?? ""} onChange={(type) => update({ type })}>
          <option value="">{t("agent.queue.f.any")}</option>
          {(ticketTypes.data ?? []).map((type) => (
            <option key={type.key} value={type.key}>
              {type.name}
            </option>
          ))}
        </LabeledSelect>
        <LabeledSelect id="f-sort" label={t("agent.queue.f.sort")} value={filters.sort} onChange={(s) => update({ sort: s as Sort })}>
          {SORTS.map((s) => (
            <option key={s.value} value={s.value}>
              {t(s.label)}
            </option>
          ))}
        </LabeledSelect>
        {/* The same filters as the list, without its page size: the export takes all rows. */}
        <ExportButton path="/v1/tickets/export" query={{ ...query, limit: undefined }} />
      </div>
      <BulkBar
        selected={selected}
        tickets={tickets}
        users={users.data}
        onDone={(done) => setSelected((now) => now.filter((s) => !done.includes(s)))}
        onClear={() => setSelected([])}
      />
      {needsTeam && teams.isSuccess && !teams.data.length ? <EmptyState title={t("agent.queue.noTeams")}>{t("agent.queue.noTeamsHelp")}</EmptyState> : null}
      {list.isPending && !needsTeam ? <Spinner label={t("agent.queue.loading")} /> : null}
      {list.isError ? <ErrorAlert error={list.error} /> : null}
      {list.isSuccess && !tickets.length ? <EmptyState title={t("agent.queue.empty")}>{t("agent.queue.emptyHelp")}</EmptyState> : null}
      <div id={LIST_ID} tabIndex={-1} className="outline-none">
      {tickets.length ? (
        <div className="overflow-x-auto rounded-lg border border-border bg-surface">
          <table className="w-full border-collapse text-left" aria-describedby="queue-keys">
            <caption className="sr-only">{t("agent.queue.caption", { queue: t(QUEUES.find((q) => q.id === queue)?.label ?? "agent.queue.mine") })}</caption>
            <thead className="border-b border-border bg-surface-muted text-fg-muted">
              <tr>
                <th scope="col" className="w-8 px-3 py-2 font-medium">
                  <input
                    type="checkbox"
                    aria-label={t("agent.queue.selectAll")}
                    checked={allSelected}
                    onChange={() => setSelected(allSelected ? [] : tickets.map((ticket) => ticket.id))}
                  />
                </th>
                <th scope="col" className="px-3 py-2 font-medium">{t("agent.queue.col.ticket")}</th>
                <th scope="col" className="px-3 py-2 font-medium">{t("agent.queue.col.title")}</th>
                <th scope="col" className="px-3 py-2 font-medium">{t("agent.queue.col.status")}</th>
                <th scope="col" className="px-3 py-2 font-medium">{t("agent.queue.col.priority")}</th>
                <th scope="col" className="hidden px-3 py-2 font-medium md:table-cell">{t("agent.queue.col.requester")}</th>
                <th scope="col" className="hidden px-3 py-2 font-medium md:table-cell">{t("agent.queue.col.assignee")}</th>
                <th scope="col" className="hidden px-3 py-2 font-medium sm:table-cell">{t("agent.queue.col.slaDue")}</th>
                <th scope="col" className="px-3 py-2 font-medium">{t("agent.queue.col.updated")}</th>
              </tr>
            </thead>
            <tbody onKeyDown={moveFocus} data-testid="queue-rows">
              {tickets.map((ticket) => (
                <tr
                  key={ticket.id}
                  className="cursor-pointer border-b border-border last:border-0 hover:bg-surface-muted focus-within:bg-accent-subtle"
                  onClick={(e) => {
                    if (!(e.target as HTMLElement).closest("a, input")) navigate(`/tickets/${ticket.id}`);
                  }}
                >
                  <td className="px-3 py-2">
                    <input type="checkbox" data-row-select aria-label={t("agent.queue.select", { number: ticket.number })} checked={selected.includes(ticket.id)} onChange={() => toggle(ticket.id)} />
                  </td>
                  <td className="whitespace-nowrap px-3 py-2 font-mono text-fg-muted">{ticket.number}</td>
                  <td className="px-3 py-2">
                    <Link data-row-link to={`/tickets/${ticket.id}`} className="font-medium text-fg hover:underline">
                      {ticket.title}
                    </Link>
                  </td>
                  <td className="px-3 py-2">
                    <StatusBadge status={ticket.status} staff />
                  </td>
                  <td className="px-3 py-2">
                    <PriorityBadge priority={ticket.priority} />
                  </td>
                  <td className="hidden px-3 py-2 md:table-cell">{person(ticket.requester)}</td>
                  <td className="hidden px-3 py-2 md:table-cell">{person(ticket.assignee)}</td>
                  <td className="hidden whitespace-nowrap px-3 py-2 sm:table-cell" title={ticket.slaDueAt ? formatDateTime(ticket.slaDueAt) : undefined}>
                    <SlaDue due={ticket.slaDueAt} now={now} />
                  </td>
                  <td className="whitespace-nowrap px-3 py-2 text-fg-muted" title={formatDateTime(ticket.updatedAt)}>
                    {formatRelative(ticket.updatedAt)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      </div>
      {list.hasNextPage && !needsTeam ? (
        <div className="mt-4 text-center">
          <Button onClick={() => void list.fetchNextPage()} busy={list.isFetchingNextPage}>
            {t("agent.queue.more")}
          </Button>
        </div>
      ) : null}
      </div>
      </div>
    </>
  );
}
