import { lazy, Suspense, type ReactNode } from "react";
import { Navigate, type RouteObject } from "react-router";
import type { Me } from "../api/types";
import { useAuth } from "../auth/AuthProvider";
import { Spinner } from "../components/ui";
import { can } from "../lib/domain";
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
const IntegrationsPage = lazy(() => import("./IntegrationsPage"));
const RolesPage = lazy(() => import("./RolesPage"));
const AuditLogPage = lazy(() => import("./AuditLogPage"));
const CiClassesPage = lazy(() => import("../cmdb/ClassesPage"));
const CiClassPage = lazy(() => import("../cmdb/ClassPage"));
const DiscoveryPage = lazy(() => import("../cmdb/DiscoveryPage"));

/** Each section shows for the permission its screen needs (with the built-in roles:
 * managers run teams, categories, calendars and SLA policies; admins also people, roles,
 * webhooks and tenant settings); the API enforces the same. */
export const ADMIN_SECTIONS: { path: string; labelKey: MessageKey; permission: string }[] = [
  { path: "users", labelKey: "admin.nav.users", permission: "admin:users" },
  { path: "roles", labelKey: "admin.nav.roles", permission: "admin:roles" },
  { path: "teams", labelKey: "admin.nav.teams", permission: "team:manage" },
  { path: "categories", labelKey: "admin.nav.categories", permission: "category:manage" },
  { path: "approval-flows", labelKey: "admin.nav.approvalFlows", permission: "approval_flow:manage" },
  { path: "ci-classes", labelKey: "admin.nav.ciClasses", permission: "cmdb:write" },
  { path: "aws-discovery", labelKey: "admin.nav.awsDiscovery", permission: "cmdb:write" },
  { path: "ticket-types", labelKey: "admin.nav.ticketTypes", permission: "ticket_type:manage" },
  { path: "calendars", labelKey: "admin.nav.calendars", permission: "sla:manage" },
  { path: "sla-policies", labelKey: "admin.nav.slaPolicies", permission: "sla:manage" },
  { path: "webhooks", labelKey: "admin.nav.webhooks", permission: "webhook:manage" },
  { path: "automations", labelKey: "admin.nav.automations", permission: "automation:manage" },
  { path: "mail", labelKey: "admin.nav.mail", permission: "mail:manage" },
  { path: "mail-sources", labelKey: "admin.nav.mailSources", permission: "mail:manage" },
  { path: "sign-in-providers", labelKey: "admin.nav.signInProviders", permission: "admin:identity" },
  { path: "integrations", labelKey: "admin.nav.integrations", permission: "integration:manage" },
  { path: "settings", labelKey: "admin.nav.settings", permission: "admin:settings" },
  { path: "audit-log", labelKey: "admin.nav.auditLog", permission: "audit:read" },
];

/** The admin sections the caller's permissions open (the menu, the admin area's guard). */
export function adminSections(me: Me | undefined) {
  return ADMIN_SECTIONS.filter((s) => can(me, s.permission));
}

/** An admin section: for callers holding its permission; anyone else goes home. */
function RequirePermission({ permission, children }: { permission: string | null; children: ReactNode }) {
  const { state } = useAuth();
  if (state.status !== "signedIn") return null;
  const allowed = permission === null ? adminSections(state.me).length > 0 : can(state.me, permission);
  if (!allowed) return <Navigate to="/" replace />;
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

function section(path: string, permission: string, page: ReactNode): RouteObject {
  return {
    path,
    element: (
      <RequirePermission permission={permission}>
        <Loading>{page}</Loading>
      </RequirePermission>
    ),
  };
}

function adminSection(path: string, page: ReactNode): RouteObject {
  const permission = ADMIN_SECTIONS.find((s) => path === s.path || path.startsWith(`${s.path}/`))?.permission ?? "admin:settings";
  return {
    path,
    element: (
      <RequirePermission permission={permission}>
        <Loading>{page}</Loading>
      </RequirePermission>
    ),
  };
}

function AdminHome() {
  const { state } = useAuth();
  const first = adminSections(state.status === "signedIn" ? state.me : undefined)[0];
  return <Navigate to={first ? `/admin/${first.path}` : "/"} replace />;
}

/** The manager's and admin's routes, children of the signed-in shell. */
export const managerRoutes: RouteObject[] = [
  section("/dashboard", "report:read", <DashboardPage />),
  section("/reports", "report:read", <ReportsPage />),
  section("/reports/scheduled", "report:schedule", <ScheduledReportsPage />),
  section("/reports/:name", "report:read", <ReportsPage />),
  // Anyone who may export a ticket list: their jobs are listed here.
  section("/exports", "ticket:export", <ExportsPage />),
  // The "export ready" e-mail links to its job.
  section("/exports/:jobId", "ticket:export", <ExportsPage />),
  {
    path: "/admin",
    element: (
      <RequirePermission permission={null}>
        <Loading>
          <AdminLayout />
        </Loading>
      </RequirePermission>
    ),
    children: [
      { index: true, element: <AdminHome /> },
      adminSection("users", <UsersPage />),
      adminSection("roles", <RolesPage />),
      adminSection("teams", <TeamsPage />),
      adminSection("teams/:teamId", <TeamPage />),
      adminSection("categories", <CategoriesPage />),
      adminSection("ci-classes", <CiClassesPage />),
      adminSection("ci-classes/:classId", <CiClassPage />),
      adminSection("aws-discovery", <DiscoveryPage />),
      adminSection("categories/:categoryId", <CategoryPage />),
      adminSection("approval-flows", <ApprovalFlowsPage />),
      adminSection("ticket-types", <TicketTypesPage />),
      adminSection("calendars", <CalendarsPage />),
      adminSection("calendars/:calendarId", <CalendarPage />),
      adminSection("sla-policies", <PoliciesPage />),
      adminSection("sla-policies/:policyId", <PolicyPage />),
      adminSection("webhooks", <WebhooksPage />),
      adminSection("webhooks/:webhookId", <WebhookPage />),
      adminSection("automations", <AutomationsPage />),
      adminSection("mail", <MailPage />),
      adminSection("mail-sources", <MailSourcesPage />),
      adminSection("sign-in-providers", <SignInProvidersPage />),
      adminSection("integrations", <IntegrationsPage />),
      adminSection("settings", <SettingsPage />),
      adminSection("audit-log", <AuditLogPage />),
    ],
  },
];
