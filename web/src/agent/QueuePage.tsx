import { useEffect, useRef, useState, type KeyboardEvent } from "react";
import { Link, NavLink, Navigate, useNavigate, useParams, useSearchParams } from "react-router";
import type { Level } from "../api/types";
import { PriorityBadge, StatusBadge } from "../components/TicketBadges";
import { Alert, Button, EmptyState, Input, Select, Spinner, cx } from "../components/ui";
import { LEVELS, LEVEL_LABELS, STATUSES, formatDateTime, formatRelative, statusLabel } from "../lib/format";
import { ErrorAlert } from "../tickets/Composer";
import { ExportButton } from "../components/ExportButton";
import { useCategories, useTeams, useTicketList, useTicketTypes, useUsers } from "../tickets/queries";
import { useMe } from "../auth/AuthProvider";
import { useFallbackPoll, useLiveTeams, useLiveTriage } from "../live/LiveProvider";
import { focusList, isTyping, useSkipTarget } from "../app/skip";
import { SlaDue, useNow } from "./SlaBadges";
import { describeDrilldown, readDrilldown, withDrilldown } from "./drilldown";
import { BulkBar } from "./BulkBar";
import { ViewsSidebar, useViews, viewQuery } from "./SavedViews";
import { QUEUES, SLA_FILTERS, SORTS, SAFETY_POLL_MS, defaultSort, isQueue, queueQuery, slaFilter, teamsToHear, type QueueFilters, type QueueId, type Sort } from "./queues";

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
        Search tickets
      </label>
      <Input
        ref={input}
        id="queue-search"
        type="search"
        placeholder="Search number, title or conversation  ( / )"
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
  const users = useUsers();
  const [searchParams] = useSearchParams();
  const drill = readDrilldown(searchParams);
  const viewId = searchParams.get("view");
  const views = useViews();
  const view = viewId ? views.data?.find((v) => v.id === viewId) : undefined;
  // A saved view is the ticket list's query as it was saved: it replaces the queue's.
  const query = view ? viewQuery(view) : withDrilldown(queueQuery(queue, filters), drill);
  const [selected, setSelected] = useState<string[]>([]);
  // Another queue or view: another list, so nothing stays selected.
  useEffect(() => setSelected([]), [queue, viewId]);
  const categories = useCategories();
  const ticketTypes = useTicketTypes();
  const needsTeam = queue === "team" && !filters.team;
  const me = useMe();
  useSkipTarget(LIST_ID, "Skip to the ticket list");
  useJumpToList();
  // New and reassigned tickets arrive as pushes on team channels and, for tickets without
  // a team, on the triage queue; polling is the fallback while the socket is down (plus a
  // slow safety net).
  useLiveTeams(teamsToHear(queue, filters.team, me.teams ?? [], teams.data ?? []));
  useLiveTriage(queue !== "mine" && queue !== "team");
  const refetchInterval = useFallbackPoll(15_000) || SAFETY_POLL_MS;
  const now = useNow(30_000);
  const list = useTicketList(query, { refetchInterval, enabled: !needsTeam && (!viewId || !!view) });
  const tickets = needsTeam ? [] : (list.data?.pages.flatMap((p) => p.items) ?? []);
  // "My team" opens on one of the person's own teams (an agent sees no other team's tickets).
  const firstTeam = me.teams?.[0]?.id ?? teams.data?.[0]?.id;

  useEffect(() => {
    if (needsTeam && firstTeam) update({ team: firstTeam });
  });

  if (!isQueue(param)) return <Navigate to="/queues/mine" replace />;
  const name = (id: string | null) => (id ? (users.data?.get(id)?.name ?? "—") : "—");
  const toggle = (id: string) => setSelected((now) => (now.includes(id) ? now.filter((s) => s !== id) : [...now, id]));
  const allSelected = tickets.length > 0 && tickets.every((t) => selected.includes(t.id));

  return (
    <>
      <div className="mb-4 flex flex-wrap items-end justify-between gap-3">
        <h1 className="text-xl font-semibold">Queues</h1>
        <p className="text-fg-muted" id="queue-keys">
          Keyboard: <kbd>j</kbd> goes to the list · <kbd>↑</kbd>/<kbd>↓</kbd> or <kbd>j</kbd>/<kbd>k</kbd> move · <kbd>Home</kbd>/<kbd>End</kbd> ·{" "}
          <kbd>Enter</kbd> opens · <kbd>x</kbd> selects · <kbd>/</kbd> searches · <kbd>?</kbd> all shortcuts
        </p>
      </div>
      <nav aria-label="Queues" className="mb-4 flex flex-wrap gap-1 border-b border-border">
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
            {q.label}
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
            title={view ? `Saved view: ${view.name}` : views.isPending ? "Loading the saved view" : "This saved view is gone or not shared with you"}
            action={
              <Link to={`/queues/${queue}`} className="whitespace-nowrap text-accent-text underline">
                Clear
              </Link>
            }
          />
        </div>
      ) : null}
      {drill && !viewId ? (
        <div className="mb-4" data-testid="drilldown">
          <Alert
            tone="info"
            title="Tickets from a report"
            action={
              <Link to={`/queues/${queue}`} className="whitespace-nowrap text-accent-text underline">
                Clear
              </Link>
            }
          >
            <ul className="flex flex-wrap gap-x-4">
              {describeDrilldown(drill, {
                team: (id) => teams.data?.find((t) => t.id === id)?.name,
                user: (id) => users.data?.get(id)?.name,
                category: (id) => categories.data?.find((c) => c.id === id)?.name,
              }).map((line) => (
                <li key={line}>{line}</li>
              ))}
            </ul>
            {drill.ignored.length ? <p>Not a filter of this list (not applied): {drill.ignored.join(", ")}.</p> : null}
          </Alert>
        </div>
      ) : null}
      <div className="mb-4 flex flex-wrap items-center gap-3" role="search" aria-label="Filter tickets">
        <SearchBox value={filters.q} onChange={(q) => update({ q })} />
        {queue === "team" ? (
          <LabeledSelect id="f-team" label="Team" value={filters.team} onChange={(team) => update({ team })}>
            {(teams.data ?? []).map((t) => (
              <option key={t.id} value={t.id}>
                {t.name}
              </option>
            ))}
          </LabeledSelect>
        ) : null}
        {queue === "sla" ? (
          <LabeledSelect id="f-sla" label="SLA" value={filters.sla} onChange={(sla) => update({ sla: slaFilter(sla) })}>
            {SLA_FILTERS.map((f) => (
              <option key={f.value} value={f.value}>
                {f.label}
              </option>
            ))}
          </LabeledSelect>
        ) : null}
        <LabeledSelect id="f-status" label="Status" value={filters.status} onChange={(s) => update({ status: s as QueueFilters["status"] })}>
          <option value="active">Open (any)</option>
          <option value="any">All statuses</option>
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {statusLabel(s, true)}
            </option>
          ))}
        </LabeledSelect>
        <LabeledSelect id="f-priority" label="Priority" value={filters.priority} onChange={(p) => update({ priority: p as Level | "" })}>
          <option value="">Any</option>
          {LEVELS.map((l) => (
            <option key={l} value={l}>
              {LEVEL_LABELS[l]}
            </option>
          ))}
        </LabeledSelect>
        <LabeledSelect id="f-type" label="Type" value={filters.type ?? ""} onChange={(t) => update({ type: t })}>
          <option value="">Any</option>
          {(ticketTypes.data ?? []).map((t) => (
            <option key={t.key} value={t.key}>
              {t.name}
            </option>
          ))}
        </LabeledSelect>
        <LabeledSelect id="f-sort" label="Sort" value={filters.sort} onChange={(s) => update({ sort: s as Sort })}>
          {SORTS.map((s) => (
            <option key={s.value} value={s.value}>
              {s.label}
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
      {needsTeam && teams.isSuccess && !teams.data.length ? <EmptyState title="No teams yet">An admin can create teams.</EmptyState> : null}
      {list.isPending && !needsTeam ? <Spinner label="Loading tickets" /> : null}
      {list.isError ? <ErrorAlert error={list.error} /> : null}
      {list.isSuccess && !tickets.length ? <EmptyState title="Nothing here">No tickets match this queue and these filters.</EmptyState> : null}
      <div id={LIST_ID} tabIndex={-1} className="outline-none">
      {tickets.length ? (
        <div className="overflow-x-auto rounded-lg border border-border bg-surface">
          <table className="w-full border-collapse text-left" aria-describedby="queue-keys">
            <caption className="sr-only">{QUEUES.find((q) => q.id === queue)?.label} tickets</caption>
            <thead className="border-b border-border bg-surface-muted text-fg-muted">
              <tr>
                <th scope="col" className="w-8 px-3 py-2 font-medium">
                  <input
                    type="checkbox"
                    aria-label="Select all tickets shown"
                    checked={allSelected}
                    onChange={() => setSelected(allSelected ? [] : tickets.map((t) => t.id))}
                  />
                </th>
                <th scope="col" className="px-3 py-2 font-medium">Ticket</th>
                <th scope="col" className="px-3 py-2 font-medium">Title</th>
                <th scope="col" className="px-3 py-2 font-medium">Status</th>
                <th scope="col" className="px-3 py-2 font-medium">Priority</th>
                <th scope="col" className="hidden px-3 py-2 font-medium md:table-cell">Requester</th>
                <th scope="col" className="hidden px-3 py-2 font-medium md:table-cell">Assignee</th>
                <th scope="col" className="hidden px-3 py-2 font-medium sm:table-cell">SLA due</th>
                <th scope="col" className="px-3 py-2 font-medium">Updated</th>
              </tr>
            </thead>
            <tbody onKeyDown={moveFocus} data-testid="queue-rows">
              {tickets.map((t) => (
                <tr
                  key={t.id}
                  className="cursor-pointer border-b border-border last:border-0 hover:bg-surface-muted focus-within:bg-accent-subtle"
                  onClick={(e) => {
                    if (!(e.target as HTMLElement).closest("a, input")) navigate(`/tickets/${t.id}`);
                  }}
                >
                  <td className="px-3 py-2">
                    <input type="checkbox" data-row-select aria-label={`Select ${t.number}`} checked={selected.includes(t.id)} onChange={() => toggle(t.id)} />
                  </td>
                  <td className="whitespace-nowrap px-3 py-2 font-mono text-fg-muted">{t.number}</td>
                  <td className="px-3 py-2">
                    <Link data-row-link to={`/tickets/${t.id}`} className="font-medium text-fg hover:underline">
                      {t.title}
                    </Link>
                  </td>
                  <td className="px-3 py-2">
                    <StatusBadge status={t.status} staff />
                  </td>
                  <td className="px-3 py-2">
                    <PriorityBadge priority={t.priority} />
                  </td>
                  <td className="hidden px-3 py-2 md:table-cell">{name(t.requester_id)}</td>
                  <td className="hidden px-3 py-2 md:table-cell">{name(t.assignee_id)}</td>
                  <td className="hidden whitespace-nowrap px-3 py-2 sm:table-cell" title={t.sla_due_at ? formatDateTime(t.sla_due_at) : undefined}>
                    <SlaDue due={t.sla_due_at} now={now} />
                  </td>
                  <td className="whitespace-nowrap px-3 py-2 text-fg-muted" title={formatDateTime(t.updated_at)}>
                    {formatRelative(t.updated_at)}
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
            Load more
          </Button>
        </div>
      ) : null}
      </div>
      </div>
    </>
  );
}
