import { useState } from "react";
import { Link } from "react-router";
import { describeError } from "../api/problem";
import { Alert, Badge, Button, EmptyState, PageHeader, Spinner, cx } from "../components/ui";
import { formatDateTime, formatRelative } from "../lib/format";
import { notificationHref } from "./links";
import { useMarkAllRead, useMarkRead, useNotifications, useUnreadCount, type Notification } from "./queries";
import { t } from "../i18n";

type Filter = "all" | "unread";

function Item({ n }: { n: Notification }) {
  const markRead = useMarkRead();
  const unread = n.read_at === null;
  const read = () => {
    if (unread) markRead.mutate(n.id);
  };
  return (
    <li className={cx("flex flex-wrap items-start justify-between gap-3 px-4 py-3", unread ? "bg-accent-subtle" : "")} data-testid="notification-row">
      <div className="min-w-0 flex-1">
        <p className={cx("break-words", unread ? "font-semibold" : "")}>
          {notificationHref(n) ? (
            <Link to={notificationHref(n) ?? "/"} onClick={read} className="text-fg underline-offset-2 hover:underline">
              {n.title}
            </Link>
          ) : (
            n.title
          )}
        </p>
        {n.body ? <p className="break-words text-fg-muted">{n.body}</p> : null}
        <p className="text-fg-muted">
          <time dateTime={n.created_at} title={formatDateTime(n.created_at)}>
            {formatRelative(n.created_at)}
          </time>
        </p>
      </div>
      <div className="flex items-center gap-2">
        {unread ? (
          <>
            <Badge tone="info">{t("notifications.unread")}</Badge>
            <Button size="sm" variant="ghost" busy={markRead.isPending} onClick={read} aria-label={t("notifications.markReadOf", { title: n.title })}>
              {t("notifications.markRead")}
            </Button>
          </>
        ) : (
          <span className="text-fg-muted">{t("notifications.read")}</span>
        )}
      </div>
    </li>
  );
}

export default function NotificationsPage() {
  const [filter, setFilter] = useState<Filter>("all");
  const list = useNotifications(filter, 25);
  const unread = useUnreadCount(false);
  const markAll = useMarkAllRead();
  const items = list.data?.pages.flatMap((p) => p.items) ?? [];
  const count = unread.data ?? 0;

  return (
    <>
      <PageHeader
        title={t("notifications.title")}
        actions={
          <>
            <Link to="/settings/notifications" className="inline-flex h-10 items-center rounded-md px-3 font-medium text-accent-text underline">
              {t("notifications.settings")}
            </Link>
            <Button onClick={() => markAll.mutate()} busy={markAll.isPending} disabled={count === 0}>
              {t("notifications.markAll")}
            </Button>
          </>
        }
      >
        {count ? t("notifications.unreadCount", { count }) : t("notifications.caughtUp")}
      </PageHeader>
      <div role="group" aria-label={t("notifications.show")} className="mb-4 inline-flex rounded-md border border-border-strong">
        {(["all", "unread"] as const).map((f) => (
          <button
            key={f}
            type="button"
            aria-pressed={filter === f}
            onClick={() => setFilter(f)}
            className={cx("px-3 py-1.5 font-medium first:rounded-l-md last:rounded-r-md", filter === f ? "bg-accent-subtle text-accent-text" : "text-fg hover:bg-surface-muted")}
          >
            {f === "all" ? t("notifications.filter.all") : t("notifications.filter.unread")}
          </button>
        ))}
      </div>
      {markAll.isError ? <Alert tone="danger">{describeError(markAll.error)}</Alert> : null}
      {list.isPending ? <Spinner label={t("notifications.loading")} /> : null}
      {list.isError ? <Alert tone="danger">{describeError(list.error)}</Alert> : null}
      {list.isSuccess && !items.length ? (
        <EmptyState title={filter === "unread" ? t("notifications.emptyUnread") : t("notifications.empty")}>
          {t("notifications.emptyHelp")}
        </EmptyState>
      ) : null}
      {items.length ? (
        <ul aria-label={t("notifications.title")} className="divide-y divide-border overflow-hidden rounded-lg border border-border bg-surface">
          {items.map((n) => (
            <Item key={n.id} n={n} />
          ))}
        </ul>
      ) : null}
      {list.hasNextPage ? (
        <div className="mt-4 text-center">
          <Button onClick={() => void list.fetchNextPage()} busy={list.isFetchingNextPage}>
            {t("notifications.more")}
          </Button>
        </div>
      ) : null}
    </>
  );
}
