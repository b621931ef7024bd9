import { lazy, Suspense, type ReactNode } from "react";
import { Navigate, type RouteObject } from "react-router";
import type { Role } from "../api/types";
import { useAuth } from "../auth/AuthProvider";
import { Spinner } from "../components/ui";
import { atLeast } from "../lib/domain";
import { t, type MessageKey } from "../i18n";

// Everything here is loaded on demand: the dashboard and the admin screens do not count
// towards the initial JavaScript (web/scripts/bundle-size.mjs).
const DashboardPage = lazy(() => import("../manager/DashboardPage"));
const ReportsPage = lazy(() => import("../reports/ReportsPage"));
const ScheduledReportsPage = lazy(() => import("../reports/ScheduledReportsPage"));
const ExportsPage = lazy(() => import("../reports/ExportsPage"));
const AdminLayout = lazy(() => import("./AdminLayout"));
const UsersPage = lazy(() => import("./UsersPage"));
const TeamsPage = lazy(() => import("./TeamsPage"));
const TeamPage = lazy(() => import("./TeamPage"));
const CategoriesPage = lazy(() => import("./CategoriesPage"));
const CategoryPage = lazy(() => import("./CategoryPage"));
const TicketTypesPage = lazy(() => import("./TicketTypesPage"));
const CalendarsPage = lazy(() => import("./CalendarsPage"));
const CalendarPage = lazy(() => import("./CalendarPage"));
const PoliciesPage = lazy(() => import("./PoliciesPage"));
const PolicyPage = lazy(() => import("./PolicyPage"));
const WebhooksPage = lazy(() => import("./WebhooksPage"));
const WebhookPage = lazy(() => import("./WebhookPage"));
const SettingsPage = lazy(() => import("./SettingsPage"));
const MailSourcesPage = lazy(() => import("./MailSourcesPage"));
const SignInProvidersPage = lazy(() => import("./SignInProvidersPage"));
const MailPage = lazy(() => import("./MailPage"));
const AutomationsPage = lazy(() => import("./AutomationsPage"));
const ApprovalFlowsPage = lazy(() => import("./ApprovalFlowsPage"));

/** Managers run teams, categories, calendars and SLA policies; admins also people,
 * webhooks and tenant settings (the API enforces the same). */
export const ADMIN_SECTIONS: { path: string; labelKey: MessageKey; min: Role }[] = [
  { path: "users", labelKey: "admin.nav.users", min: "admin" },
  { path: "teams", labelKey: "admin.nav.teams", min: "manager" },
  { path: "categories", labelKey: "admin.nav.categories", min: "manager" },
  { path: "approval-flows", labelKey: "admin.nav.approvalFlows", min: "manager" },
  { path: "ticket-types", labelKey: "admin.nav.ticketTypes", min: "admin" },
  { path: "calendars", labelKey: "admin.nav.calendars", min: "manager" },
  { path: "sla-policies", labelKey: "admin.nav.slaPolicies", min: "manager" },
  { path: "webhooks", labelKey: "admin.nav.webhooks", min: "admin" },
  { path: "automations", labelKey: "admin.nav.automations", min: "admin" },
  { path: "mail", labelKey: "admin.nav.mail", min: "admin" },
  { path: "mail-sources", labelKey: "admin.nav.mailSources", min: "admin" },
  { path: "sign-in-providers", labelKey: "admin.nav.signInProviders", min: "admin" },
  { path: "settings", labelKey: "admin.nav.settings", min: "admin" },
];

/** Screens for a role and above; anyone else goes home (the API would answer 403 anyway). */
export function RequireRole({ min, children }: { min: Role; children: ReactNode }) {
  const { state } = useAuth();
  if (state.status !== "signedIn") return null;
  if (!atLeast(state.me.role, min)) return <Navigate to="/" replace />;
  return <>{children}</>;
}

function Loading({ children }: { children: ReactNode }) {
  return (
    <Suspense
      fallback={
        <div className="py-12 text-center">
          <Spinner label={t("shell.loading")} />
        </div>
      }
    >
      {children}
    </Suspense>
  );
}

function section(path: string, min: Role, page: ReactNode): RouteObject {
  return {
    path,
    element: (
      <RequireRole min={min}>
        <Loading>{page}</Loading>
      </RequireRole>
    ),
  };
}

function AdminHome() {
  const { state } = useAuth();
  const role = state.status === "signedIn" ? state.me.role : undefined;
  return <Navigate to={atLeast(role, "admin") ? "/admin/users" : "/admin/teams"} replace />;
}

/** The manager's and admin's routes, children of the signed-in shell. */
export const managerRoutes: RouteObject[] = [
  section("/dashboard", "manager", <DashboardPage />),
  section("/reports", "manager", <ReportsPage />),
  section("/reports/scheduled", "manager", <ScheduledReportsPage />),
  section("/reports/:name", "manager", <ReportsPage />),
  // Anyone on staff may export a ticket list: their jobs are listed here.
  section("/exports", "agent", <ExportsPage />),
  // The "export ready" e-mail links to its job.
  section("/exports/:jobId", "agent", <ExportsPage />),
  {
    path: "/admin",
    element: (
      <RequireRole min="manager">
        <Loading>
          <AdminLayout />
        </Loading>
      </RequireRole>
    ),
    children: [
      { index: true, element: <AdminHome /> },
      section("users", "admin", <UsersPage />),
      section("teams", "manager", <TeamsPage />),
      section("teams/:teamId", "manager", <TeamPage />),
      section("categories", "manager", <CategoriesPage />),
      section("categories/:categoryId", "manager", <CategoryPage />),
      section("approval-flows", "manager", <ApprovalFlowsPage />),
      section("ticket-types", "admin", <TicketTypesPage />),
      section("calendars", "manager", <CalendarsPage />),
      section("calendars/:calendarId", "manager", <CalendarPage />),
      section("sla-policies", "manager", <PoliciesPage />),
      section("sla-policies/:policyId", "manager", <PolicyPage />),
      section("webhooks", "admin", <WebhooksPage />),
      section("webhooks/:webhookId", "admin", <WebhookPage />),
      section("automations", "admin", <AutomationsPage />),
      section("mail", "admin", <MailPage />),
      section("mail-sources", "admin", <MailSourcesPage />),
      section("sign-in-providers", "admin", <SignInProvidersPage />),
      section("settings", "admin", <SettingsPage />),
    ],
  },
];
