import { Link } from "react-router";
import { useMe } from "../auth/AuthProvider";
import { StatusBadge } from "../components/TicketBadges";
import { Button, EmptyState, PageHeader, Spinner } from "../components/ui";
import { formatDateTime, formatRelative } from "../lib/format";
import { ErrorAlert } from "../tickets/Composer";
import { useTicketList } from "../tickets/queries";
import { useFallbackPoll } from "../live/LiveProvider";
import { Welcome } from "../branding/Welcome";
import { t } from "../i18n";

export default function MyRequestsPage() {
  const me = useMe();
  // Pushes on the person's own channel (replies, status changes) refresh it; polling only
  // while the socket is down.
  const list = useTicketList({ requester_id: me.user.id, sort: "-updated_at", limit: 50 }, { refetchInterval: useFallbackPoll(30_000) || undefined });
  const tickets = list.data?.pages.flatMap((p) => p.items) ?? [];

  return (
    <>
      <PageHeader
        title={t("portal.requests.title")}
        actions={
          <Link to="/requests/new" className="inline-flex h-10 items-center rounded-md bg-accent px-4 font-medium text-accent-fg hover:bg-accent-hover">
            {t("portal.requests.new")}
          </Link>
        }
      >
        {t("portal.requests.intro")}
      </PageHeader>
      <Welcome />
      {list.isPending ? <Spinner label={t("portal.requests.loading")} /> : null}
      {list.isError ? <ErrorAlert error={list.error} /> : null}
      {list.isSuccess && !tickets.length ? (
        <EmptyState title={t("portal.requests.empty")}>{t("portal.requests.emptyHelp")}</EmptyState>
      ) : null}
      {tickets.length ? (
        <ul className="divide-y divide-border rounded-lg border border-border bg-surface" aria-label={t("portal.requests.label")}>
          {tickets.map((ticket) => (
            <li key={ticket.id}>
              <Link to={`/tickets/${ticket.id}`} className="flex flex-wrap items-center gap-x-4 gap-y-1 px-4 py-3 hover:bg-surface-muted">
                <span className="w-32 shrink-0 font-mono text-fg-muted">{ticket.number}</span>
                <span className="min-w-0 flex-1 font-medium text-fg">{ticket.title}</span>
                <StatusBadge status={ticket.status} />
                <span className="w-36 text-right text-fg-muted" title={formatDateTime(ticket.updated_at)}>
                  {t("portal.requests.updated", { when: formatRelative(ticket.updated_at) })}
                </span>
              </Link>
            </li>
          ))}
        </ul>
      ) : null}
      {list.hasNextPage ? (
        <div className="mt-4 text-center">
          <Button onClick={() => void list.fetchNextPage()} busy={list.isFetchingNextPage}>
            {t("portal.requests.more")}
          </Button>
        </div>
      ) : null}
    </>
  );
}
