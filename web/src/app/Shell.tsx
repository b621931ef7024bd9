import * as DropdownMenu from "@radix-ui/react-dropdown-menu";
import { ShortcutsHelp } from "./ShortcutsHelp";
import { lazy, Suspense, useState } from "react";
import { Link, NavLink, Outlet, useLocation } from "react-router";
import { useAuth, useMe } from "../auth/AuthProvider";
import { cx } from "../components/ui";
import { DevBanner } from "../dev/DevBanner";
import { adminSections } from "../admin/routes";
import { can, isStaff } from "../lib/domain";
import { NetworkBanner } from "./NetworkBanner";
import { SkipContext, focusList, type SkipTarget } from "./skip";
import { ThemeToggle } from "./ThemeToggle";
import { LiveStatus } from "../live/LiveStatus";
import { NotificationBell } from "../notifications/Bell";
import { BrandingStyle } from "../branding/BrandingStyle";
import { logoUrl, useBranding } from "../branding/branding";
import { t } from "../i18n";
import { OrgSwitcher } from "./OrgSwitcher";

function NavItem({ to, children, end = false }: { to: string; children: string; end?: boolean }) {
  return (
    <NavLink
      to={to}
      end={end}
      className={({ isActive }) =>
        cx(
          "rounded-md px-3 py-2 font-medium",
          isActive ? "bg-accent-subtle text-accent-text" : "text-fg hover:bg-surface-muted",
        )
      }
    >
      {children}
    </NavLink>
  );
}

// The chat is loaded when a page that offers it is shown, not with the app.
const AssistantWidget = lazy(() => import("../assistant/AssistantWidget"));

/** The portal and the help centre offer the assistant (issue 18). */
function offersAssistant(path: string): boolean {
  return path === "/requests" || path.startsWith("/requests/") || path === "/help" || path.startsWith("/help/");
}

const SKIP_LINK =
  "sr-only focus:not-sr-only focus:absolute focus:left-2 focus:top-2 focus:z-50 focus:rounded-md focus:bg-surface focus:px-3 focus:py-2";

export function Shell() {
  const me = useMe();
  const { signOut } = useAuth();
  const staff = isStaff(me.role);
  // Projects (issue 24): those the API lets through its projects gate.
  const projects = staff && can(me, "project:use");
  const [skip, setSkip] = useState<SkipTarget | null>(null);
  const { pathname } = useLocation();
  const branding = useBranding().data?.data;
  const name = branding?.display_name || me.tenant.name;
  const logo = branding?.logo_attachment_id ? logoUrl(me.tenant.slug, branding.logo_attachment_id) : null;
  return (
    <SkipContext.Provider value={setSkip}>
    <div className="min-h-screen bg-bg">
      <BrandingStyle />
      {skip ? (
        <a
          href={`#${skip.id}`}
          className={SKIP_LINK}
          onClick={(e) => {
            if (focusList(skip.id)) e.preventDefault();
          }}
        >
          {skip.label}
        </a>
      ) : null}
      <a
        href="#main"
        className={SKIP_LINK}
      >
        {t("shell.skipToContent")}
      </a>
      <header className="border-b border-border bg-surface">
        <div aria-hidden="true" data-testid="brand-bar" className="h-1 bg-[var(--sd-brand-accent,transparent)]" />
        <div className="mx-auto flex max-w-7xl flex-wrap items-center gap-2 px-4 py-2">
          <span className="mr-4 flex flex-1 items-center gap-2 text-base font-semibold text-fg sm:flex-none">
            {logo ? <img src={logo} alt={t("shell.logoAlt", { name })} className="h-8 w-auto" /> : null}
            <span data-testid="brand-name">{name}</span>
          </span>
          <nav aria-label={t("shell.nav.main")} className="order-last flex w-full flex-wrap items-center gap-1 sm:order-none sm:w-auto sm:flex-1">
            {staff ? <NavItem to="/queues/mine">{t("shell.nav.queues")}</NavItem> : null}
            {staff ? <NavItem to="/held-mail">{t("shell.nav.heldMail")}</NavItem> : null}
            {staff ? <NavItem to="/kb">{t("shell.nav.kb")}</NavItem> : null}
            {staff ? <NavItem to="/macros">{t("shell.nav.macros")}</NavItem> : null}
            {can(me, "cmdb:read") ? <NavItem to="/cmdb">{t("shell.nav.cmdb")}</NavItem> : null}
            {can(me, "change:read") ? <NavItem to="/changes">{t("shell.nav.changes")}</NavItem> : null}
            {projects ? (
              <NavItem to="/projects" end>
                {t("shell.nav.projects")}
              </NavItem>
            ) : null}
            {projects ? <NavItem to="/projects/my-tasks">{t("shell.nav.myTasks")}</NavItem> : null}
            {can(me, "report:read") ? <NavItem to="/dashboard">{t("shell.nav.dashboard")}</NavItem> : null}
            {can(me, "report:read") ? <NavItem to="/reports">{t("shell.nav.reports")}</NavItem> : null}
            {adminSections(me).length ? <NavItem to="/admin">{t("shell.nav.admin")}</NavItem> : null}
            <NavItem to="/requests" end>
              {t("shell.nav.myRequests")}
            </NavItem>
            <NavItem to="/requests/new">{t("shell.nav.newRequest")}</NavItem>
            <NavItem to="/help">{t("shell.nav.help")}</NavItem>
            <NavItem to="/approvals">{t("shell.nav.approvals")}</NavItem>
          </nav>
          <OrgSwitcher />
          <ThemeToggle />
          <NotificationBell />
          {/* Not modal: a modal menu locks scrolling with an injected <style>, which our CSP refuses. */}
          <DropdownMenu.Root modal={false}>
            <DropdownMenu.Trigger
              className="inline-flex h-9 items-center gap-2 rounded-md border border-border px-3 text-fg hover:bg-surface-muted"
            >
              <span aria-hidden="true" className="flex h-6 w-6 items-center justify-center rounded-full bg-accent-subtle text-xs font-semibold text-accent-text">
                {me.user.name.slice(0, 1).toUpperCase()}
              </span>
              <span className="sr-only">{t("shell.account")}</span>
              <span className="sr-only md:not-sr-only">{me.user.name}</span>
            </DropdownMenu.Trigger>
            <DropdownMenu.Portal>
              <DropdownMenu.Content
                align="end"
                sideOffset={6}
                className="z-50 min-w-48 rounded-md border border-border bg-surface p-1 text-fg shadow-card"
              >
                <DropdownMenu.Label className="px-2 py-1.5 text-fg-muted">
                  {t("shell.accountLabel", { email: me.user.email, role: me.role })}
                </DropdownMenu.Label>
                <DropdownMenu.Separator className="my-1 h-px bg-border" />
                {(
                  [
                    ["/settings/profile", "shell.profile"],
                    ["/settings/notifications", "shell.notificationSettings"],
                    ["/ticket-invitations", "shell.invitations"],
                  ] as const
                ).map(([to, key]) => (
                  <DropdownMenu.Item key={to} asChild className="block cursor-pointer rounded px-2 py-1.5 outline-none data-[highlighted]:bg-surface-muted">
                    <Link to={to}>{t(key)}</Link>
                  </DropdownMenu.Item>
                ))}
                <DropdownMenu.Separator className="my-1 h-px bg-border" />
                <DropdownMenu.Item
                  className="cursor-pointer rounded px-2 py-1.5 outline-none data-[highlighted]:bg-surface-muted"
                  onSelect={() => {
                    // The session state sends every screen to the sign-in page.
                    void signOut();
                  }}
                >
                  {t("shell.signOut")}
                </DropdownMenu.Item>
              </DropdownMenu.Content>
            </DropdownMenu.Portal>
          </DropdownMenu.Root>
        </div>
      </header>
      <DevBanner />
      <NetworkBanner />
      <LiveStatus />
      <main id="main" tabIndex={-1} className="mx-auto max-w-7xl px-4 py-6 outline-none">
        <Outlet />
      </main>
      <ShortcutsHelp />
      {offersAssistant(pathname) ? (
        <Suspense fallback={null}>
          <AssistantWidget />
        </Suspense>
      ) : null}
    </div>
    </SkipContext.Provider>
  );
}
