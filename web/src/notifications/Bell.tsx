import { notificationHref } from "./links";
import * as DropdownMenu from "@radix-ui/react-dropdown-menu";
import { useState } from "react";
import { useNavigate } from "react-router";
import { cx } from "../components/ui";
import { formatDateTime, formatRelative } from "../lib/format";
import { useFallbackPoll } from "../live/LiveProvider";
import { useMarkAllRead, useMarkRead, useNotifications, useUnreadCount, type Notification } from "./queries";
import { t } from "../i18n";

export function BellIcon({ className = "h-4 w-4" }: { className?: string }) {
  return (
    <svg aria-hidden="true" focusable="false" viewBox="0 0 16 16" fill="none" stroke="currentColor" strokeWidth={1.6} className={className}>
      <path d="M4 11V7a4 4 0 0 1 8 0v4l1.2 1.5H2.8L4 11Z" strokeLinejoin="round" />
      <path d="M6.5 14a1.6 1.6 0 0 0 3 0" strokeLinecap="round" />
    </svg>
  );
}

const itemClass = "cursor-pointer rounded px-2 py-1.5 outline-none data-[highlighted]:bg-surface-muted data-[disabled]:cursor-default data-[disabled]:opacity-60";

function Row({ n }: { n: Notification }) {
  const unread = n.read_at === null;
  return (
    <span className="block min-w-0">
      <span className="flex items-start gap-2">
        <span aria-hidden="true" className={cx("mt-1.5 h-2 w-2 shrink-0 rounded-full", unread ? "bg-accent" : "bg-transparent")} />
        <span className="min-w-0 flex-1">
          <span className={cx("block truncate", unread ? "font-semibold" : "")}>
            {unread ? <span className="sr-only">{t("notifications.unreadPrefix")}</span> : null}
            {n.title}
          </span>
          {n.body ? <span className="block truncate text-fg-muted">{n.body}</span> : null}
          <time dateTime={n.created_at} title={formatDateTime(n.created_at)} className="block text-xs text-fg-muted">
            {formatRelative(n.created_at)}
          </time>
        </span>
      </span>
    </span>
  );
}

/** The notification centre in the header: the unread count (kept live by pushes on the
 * person's own channel), the latest few, mark one or all read. */
export function NotificationBell() {
  const navigate = useNavigate();
  const [open, setOpen] = useState(false);
  const unread = useUnreadCount(useFallbackPoll(60_000));
  const latest = useNotifications("all", 8, open);
  const markRead = useMarkRead();
  const markAll = useMarkAllRead();
  const count = unread.data ?? 0;
  const items = latest.data?.pages[0]?.items ?? [];
  const shown = count > 99 ? "99+" : String(count);

  function openOne(n: Notification) {
    if (n.read_at === null) markRead.mutate(n.id);
    const href = notificationHref(n);
    if (href) navigate(href);
  }

  return (
    <DropdownMenu.Root modal={false} open={open} onOpenChange={setOpen}>
      <DropdownMenu.Trigger
        data-testid="notification-bell"
        data-unread={count}
        className="relative inline-flex h-9 items-center gap-2 rounded-md border border-border px-3 text-fg hover:bg-surface-muted"
      >
        <BellIcon />
        <span className="sr-only">{t("notifications.title")}</span>
        {count > 0 ? (
          <span data-testid="unread-badge" className="rounded-full bg-danger px-1.5 text-xs font-semibold leading-5 text-danger-fg">
            {shown}
            <span className="sr-only">{t("notifications.unreadSuffix")}</span>
          </span>
        ) : null}
      </DropdownMenu.Trigger>
      <DropdownMenu.Portal>
        <DropdownMenu.Content
          align="end"
          sideOffset={6}
          className="z-50 w-80 max-w-[calc(100vw-1rem)] rounded-md border border-border bg-surface p-1 text-fg shadow-card"
        >
          <DropdownMenu.Label className="px-2 py-1.5 font-semibold">
            {t("notifications.title")}
            {count ? t("notifications.bell.count", { count }) : ""}
          </DropdownMenu.Label>
          <DropdownMenu.Separator className="my-1 h-px bg-border" />
          {latest.isPending ? <p className="px-2 py-1.5 text-fg-muted">{t("notifications.bell.loading")}</p> : null}
          {latest.isSuccess && !items.length ? <p className="px-2 py-1.5 text-fg-muted">{t("notifications.bell.empty")}</p> : null}
          {items.map((n) => (
            <DropdownMenu.Item key={n.id} className={itemClass} onSelect={() => openOne(n)} data-testid="notification-item">
              <Row n={n} />
            </DropdownMenu.Item>
          ))}
          <DropdownMenu.Separator className="my-1 h-px bg-border" />
          <DropdownMenu.Item className={itemClass} disabled={count === 0} onSelect={() => markAll.mutate()}>
            {t("notifications.markAll")}
          </DropdownMenu.Item>
          <DropdownMenu.Item className={itemClass} onSelect={() => navigate("/notifications")}>
            {t("notifications.bell.all")}
          </DropdownMenu.Item>
        </DropdownMenu.Content>
      </DropdownMenu.Portal>
      <span role="status" className="sr-only">
        {count ? t("notifications.bell.status", { count }) : ""}
      </span>
    </DropdownMenu.Root>
  );
}
