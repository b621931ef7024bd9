import { lazy, Suspense, type ReactNode } from "react";
import { createBrowserRouter, Navigate, useParams } from "react-router";
import { managerRoutes } from "../admin/routes";
import { isStaff } from "../lib/domain";
import { useAuth } from "../auth/AuthProvider";
import LoginPage from "../auth/LoginPage";
import SsoLandingPage from "../auth/SsoLandingPage";
import { Spinner } from "../components/ui";
import { homeFor } from "./home";
import { FullPageSpinner, RequireAuth } from "./RequireAuth";
import { RouteError } from "./RouteError";
import { Shell } from "./Shell";
import { t } from "../i18n";

const SignupPage = lazy(() => import("../auth/SignupPage"));
const AcceptInvitationPage = lazy(() => import("../auth/AcceptInvitationPage"));
const ConfirmSignupPage = lazy(() => import("../auth/ConfirmSignupPage"));
const RegisterPage = lazy(() => import("../auth/RegisterPage"));
const ConfirmRegistrationPage = lazy(() => import("../auth/ConfirmRegistrationPage"));
const ForgotPasswordPage = lazy(() => import("../auth/ForgotPasswordPage"));
const ResetPasswordPage = lazy(() => import("../auth/ResetPasswordPage"));
const VerifyEmailPage = lazy(() => import("../auth/VerifyEmailPage"));
const MagicLinkPage = lazy(() => import("../auth/MagicLinkPage"));
const MyRequestsPage = lazy(() => import("../portal/MyRequestsPage"));
const NewRequestPage = lazy(() => import("../portal/NewRequestPage"));
const RequestDetailPage = lazy(() => import("../portal/RequestDetailPage"));
const QueuePage = lazy(() => import("../agent/QueuePage"));
const AgentTicketPage = lazy(() => import("../agent/AgentTicketPage"));
const NotificationsPage = lazy(() => import("../notifications/NotificationsPage"));
const NotificationSettingsPage = lazy(() => import("../notifications/NotificationSettingsPage"));
const ProfilePage = lazy(() => import("../profile/ProfilePage"));
const InvitationsPage = lazy(() => import("../tickets/InvitationsPage"));
const UnsubscribePage = lazy(() => import("../notifications/UnsubscribePage"));
const SurveyPage = lazy(() => import("../csat/SurveyPage"));
const MailPage = lazy(() => import("../dev/MailPage"));
const HeldMailPage = lazy(() => import("../mail/HeldMailPage"));
const HelpCentrePage = lazy(() => import("../kb/HelpCentrePage"));
const HelpArticlePage = lazy(() => import("../kb/HelpArticlePage"));
const KbArticlesPage = lazy(() => import("../kb/KbArticlesPage"));
const KbEditorPage = lazy(() => import("../kb/KbEditorPage"));
const NewArticlePage = lazy(() => import("../kb/KbEditorPage").then((m) => ({ default: m.NewArticlePage })));
const KbCategoriesPage = lazy(() => import("../kb/KbCategoriesPage"));
const MacrosPage = lazy(() => import("../macros/MacrosPage"));
const ApprovalsPage = lazy(() => import("../approvals/ApprovalsPage"));
const ApprovalPage = lazy(() => import("../approvals/ApprovalPage"));
const DecisionLinkPage = lazy(() => import("../approvals/DecisionLinkPage"));
const MacroEditorPage = lazy(() => import("../macros/MacroEditorPage"));
const CisPage = lazy(() => import("../cmdb/CisPage"));
const CiPage = lazy(() => import("../cmdb/CiPage"));
const CiImportPage = lazy(() => import("../cmdb/ImportPage"));
const NewCiPage = lazy(() => import("../cmdb/NewCiPage"));
const ChangesPage = lazy(() => import("../changes/ChangesPage"));
const NewChangePage = lazy(() => import("../changes/NewChangePage"));
const ChangePage = lazy(() => import("../changes/ChangePage"));
const ChangeCalendarPage = lazy(() => import("../changes/CalendarPage"));
const ChangeSettingsPage = lazy(() => import("../changes/SettingsPage"));
const ProjectsPage = lazy(() => import("../projects/ProjectsPage"));
const ProjectPage = lazy(() => import("../projects/ProjectPage"));
const TaskPage = lazy(() => import("../projects/TaskPage"));
const MyTasksPage = lazy(() => import("../projects/MyTasksPage"));

/** A knowledge base screen for staff (the help centre is everyone's). */
function Staff({ children }: { children: ReactNode }) {
  return (
    <RequireAuth staff>
      <Page>{children}</Page>
    </RequireAuth>
  );
}

function Page({ children }: { children: ReactNode }) {
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

function Home() {
  const { state } = useAuth();
  if (state.status === "loading") return <FullPageSpinner />;
  if (state.status === "signedOut") return <Navigate to="/login" replace />;
  return <Navigate to={homeFor(state.me.role)} replace />;
}

/** /tickets/:id is the link e-mails carry: staff get the workspace, employees the portal. */
function TicketRoute() {
  const { state } = useAuth();
  const { ticketId = "" } = useParams();
  if (state.status !== "signedIn") return null;
  return isStaff(state.me.role) ? <AgentTicketPage ticketId={ticketId} /> : <RequestDetailPage ticketId={ticketId} />;
}

export const router = createBrowserRouter([
  { path: "/", element: <Home />, errorElement: <RouteError /> },
  { path: "/login", element: <LoginPage /> },
  // Back from an organisation's identity provider (identity/sso.py): the one-time code.
  { path: "/login/sso", element: <SsoLandingPage /> },
  { path: "/signup", element: <Page><SignupPage /></Page> },
  { path: "/signup/confirm", element: <Page><ConfirmSignupPage /></Page> },
  // Self-registration of requesters where the organisation allows it (identity/registration.py).
  { path: "/register", element: <Page><RegisterPage /></Page> },
  { path: "/register/confirm", element: <Page><ConfirmRegistrationPage /></Page> },
  { path: "/accept-invitation", element: <Page><AcceptInvitationPage /></Page> },
  // Account mail (servicedesk/identity/recovery.py) and a requester's ticket link (magic.py).
  { path: "/forgot-password", element: <Page><ForgotPasswordPage /></Page> },
  { path: "/reset-password", element: <Page><ResetPasswordPage /></Page> },
  { path: "/verify-email", element: <Page><VerifyEmailPage /></Page> },
  { path: "/m/:token", element: <Page><MagicLinkPage /></Page> },
  // The e-mails' unsubscribe link (servicedesk/notifications/templates.py): no sign-in.
  { path: "/unsubscribe", element: <Page><UnsubscribePage /></Page> },
  // The CSAT survey e-mail's links (servicedesk/csat/mail.py): no sign-in.
  { path: "/csat/:token", element: <Page><SurveyPage /></Page> },
  // An approver's e-mailed approve/reject links (servicedesk/approvals/links.py).
  { path: "/approval-links/:token", element: <Page><DecisionLinkPage /></Page> },
  {
    element: (
      <RequireAuth>
        <Shell />
      </RequireAuth>
    ),
    errorElement: <RouteError />,
    children: [
      { path: "/requests", element: <Page><MyRequestsPage /></Page> },
      { path: "/requests/new", element: <Page><NewRequestPage /></Page> },
      { path: "/tickets/:ticketId", element: <Page><TicketRoute /></Page> },
      { path: "/help", element: <Page><HelpCentrePage /></Page> },
      { path: "/help/articles/:articleId", element: <Page><HelpArticlePage /></Page> },
      { path: "/kb", element: <Staff><KbArticlesPage /></Staff> },
      { path: "/kb/articles/new", element: <Staff><NewArticlePage /></Staff> },
      { path: "/kb/articles/:articleId", element: <Staff><KbEditorPage /></Staff> },
      { path: "/kb/categories", element: <Staff><KbCategoriesPage /></Staff> },
      { path: "/macros", element: <Staff><MacrosPage /></Staff> },
      { path: "/approvals", element: <Page><ApprovalsPage /></Page> },
      { path: "/approvals/:approvalId", element: <Page><ApprovalPage /></Page> },
      { path: "/macros/new", element: <Staff><MacroEditorPage /></Staff> },
      { path: "/macros/:macroId", element: <Staff><MacroEditorPage /></Staff> },
      { path: "/cmdb", element: <Staff><CisPage /></Staff> },
      { path: "/cmdb/import", element: <Staff><CiImportPage /></Staff> },
      { path: "/cmdb/new", element: <Staff><NewCiPage /></Staff> },
      { path: "/cmdb/:ciId", element: <Staff><CiPage /></Staff> },
      { path: "/changes", element: <Staff><ChangesPage /></Staff> },
      { path: "/changes/new", element: <Staff><NewChangePage /></Staff> },
      { path: "/changes/calendar", element: <Staff><ChangeCalendarPage /></Staff> },
      { path: "/changes/settings", element: <Staff><ChangeSettingsPage /></Staff> },
      { path: "/changes/:changeId", element: <Staff><ChangePage /></Staff> },
      { path: "/projects", element: <Staff><ProjectsPage /></Staff> },
      { path: "/projects/my-tasks", element: <Staff><MyTasksPage /></Staff> },
      { path: "/projects/:projectId", element: <Staff><ProjectPage /></Staff> },
      { path: "/projects/:projectId/tasks/:taskId", element: <Staff><TaskPage /></Staff> },
      { path: "/notifications", element: <Page><NotificationsPage /></Page> },
      // The e-mails' footer links here (templates.settings_url).
      { path: "/settings/notifications", element: <Page><NotificationSettingsPage /></Page> },
      { path: "/settings/profile", element: <Page><ProfilePage /></Page> },
      // The ticket invitation e-mail links here (templates.py, ticket.invitation_created).
      // tests/unit/test_mail_link_routes.py checks every link the e-mails carry has a route.
      { path: "/ticket-invitations", element: <Page><InvitationsPage /></Page> },
      { path: "/dev/mail", element: <Page><MailPage /></Page> },
      { path: "/dev/mail/:name", element: <Page><MailPage /></Page> },
      { path: "/queues", element: <Navigate to="/queues/mine" replace /> },
      {
        path: "/queues/:queue",
        element: (
          <RequireAuth staff>
            <Page><QueuePage /></Page>
          </RequireAuth>
        ),
      },
      {
        path: "/held-mail",
        element: (
          <RequireAuth staff>
            <Page><HeldMailPage /></Page>
          </RequireAuth>
        ),
      },
      ...managerRoutes,
      { path: "*", element: <NotFound /> },
    ],
  },
]);

function NotFound() {
  return (
    <div className="py-12 text-center">
      <h1 className="text-xl font-semibold">{t("shell.pageNotFound")}</h1>
      <p className="mt-2 text-fg-muted">{t("shell.pageNotFoundHelp")}</p>
    </div>
  );
}
