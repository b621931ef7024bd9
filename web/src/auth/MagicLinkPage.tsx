import { useCallback, useEffect, useState, type FormEvent } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { api, ok } from "../api/client";
import { ApiError, describeError } from "../api/problem";
import type { components } from "../api/schema";
import { fromResponse, markSignedIn, markSignedOut } from "../api/session";
import { StatusBadge } from "../components/TicketBadges";
import { Alert, Button, Card, Spinner } from "../components/ui";
import { formatDateTime } from "../lib/format";
import { FilesCard } from "../tickets/Attachments";
import { Composer, ErrorAlert } from "../tickets/Composer";
import { Conversation } from "../tickets/Conversation";
import { useComments, useTicket } from "../tickets/queries";
import { AuthHeader, AuthLayout } from "./AuthLayout";
import { useAuth } from "./AuthProvider";
import { renewIn } from "./linkToken";
import { NewPasswordFields, useNewPassword } from "./NewPasswordFields";

type MagicSession = components["schemas"]["MagicSession"];

/**
 * /m/:token, the link in a requester's ticket e-mail when they have no password: a session
 * limited to that one ticket (the API refuses every other route). No refresh cookie: the page
 * follows the link again shortly before the session expires. Someone already signed in is
 * sent to the ticket in their own session instead.
 */
export default function MagicLinkPage() {
  const { token = "" } = useParams();
  const { state } = useAuth();
  const navigate = useNavigate();
  const [grant, setGrant] = useState<MagicSession | null>(null);
  const [dead, setDead] = useState(false);
  const [failure, setFailure] = useState<string | null>(null);
  const [passwordSetFor, setPasswordSetFor] = useState<string | null>(null);

  const open = useCallback(async (): Promise<MagicSession | null> => {
    try {
      return await ok(api.POST("/v1/auth/magic", { body: { token } }));
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) setDead(true);
      else setFailure(describeError(e));
      return null;
    }
  }, [token]);

  // After the silent sign-in has settled (it would otherwise clear the token we set).
  const settled = state.status !== "loading";
  const signedIn = state.status === "signedIn";
  useEffect(() => {
    if (!settled) return;
    let cancelled = false;
    void open().then((next) => {
      if (!next || cancelled) return;
      if (signedIn) {
        navigate(`/tickets/${next.ticket_id}`, { replace: true });
        return;
      }
      markSignedIn(fromResponse(next));
      setGrant(next);
    });
    return () => {
      cancelled = true;
    };
  }, [settled, signedIn, open, navigate]);

  useEffect(() => {
    if (!grant || passwordSetFor) return;
    const timer = window.setTimeout(() => {
      void open().then((next) => {
        if (next) {
          markSignedIn(fromResponse(next));
          setGrant(next);
        } else markSignedOut();
      });
    }, renewIn(grant.expires_in));
    return () => window.clearTimeout(timer);
  }, [grant, open, passwordSetFor]);

  if (passwordSetFor) {
    return (
      <AuthLayout title="Password set">
        <Alert tone="success" title="You can sign in now">
          Sign in with {passwordSetFor} and your new password. The links in earlier e-mails no longer open your requests.
        </Alert>
        <p className="mt-4">
          <Link className="font-medium text-accent-text underline" to="/login">Sign in</Link>
        </p>
      </AuthLayout>
    );
  }
  if (dead) {
    return (
      <AuthLayout title="This link does not open the request">
        <Alert tone="warning" title="The link has expired or ended">
          Use the link in the newest e-mail about your request. If you have set a password, sign in instead.
        </Alert>
        <p className="mt-4 flex gap-4">
          <Link className="font-medium text-accent-text underline" to="/login">Sign in</Link>
          <Link className="font-medium text-accent-text underline" to="/forgot-password">Forgot your password?</Link>
        </p>
      </AuthLayout>
    );
  }
  return (
    <div className="flex min-h-screen flex-col bg-bg">
      <AuthHeader />
      <main id="main" className="mx-auto w-full max-w-5xl flex-1 px-4 pb-12">
        {failure ? <Alert tone="danger">{failure}</Alert> : null}
        {grant ? (
          <ScopedTicket grant={grant} onPasswordSet={() => setPasswordSetFor(grant.email)} />
        ) : failure ? null : (
          <div className="py-12 text-center">
            <Spinner label="Opening your request" />
          </div>
        )}
      </main>
    </div>
  );
}

function ScopedTicket({ grant, onPasswordSet }: { grant: MagicSession; onPasswordSet: () => void }) {
  const ticket = useTicket(grant.ticket_id);
  const comments = useComments(grant.ticket_id);
  if (ticket.isPending) return <Spinner label="Loading the request" />;
  if (ticket.isError) return <ErrorAlert error={ticket.error} />;
  const t = ticket.data;
  return (
    <>
      <p className="mb-1 text-fg-muted">Hello {grant.name}. This page shows one request; no password needed.</p>
      <h1 className="text-xl font-semibold text-fg">{t.title}</h1>
      <p className="mb-6 mt-1 inline-flex flex-wrap items-center gap-2 text-fg-muted">
        <span className="font-mono">{t.number}</span>
        <StatusBadge status={t.status} />
        <span>Opened {formatDateTime(t.created_at)}</span>
      </p>
      <div className="grid gap-6 lg:grid-cols-[1fr_20rem]">
        <div className="space-y-6">
          {t.description ? (
            <Card aria-labelledby="details-heading">
              <h2 id="details-heading" className="mb-2 font-semibold">
                Details
              </h2>
              <p className="whitespace-pre-wrap break-words">{t.description}</p>
            </Card>
          ) : null}
          <section aria-labelledby="conversation-heading" className="space-y-3">
            <h2 id="conversation-heading" className="text-base font-semibold">
              Conversation
            </h2>
            {comments.isPending ? <Spinner label="Loading the conversation" /> : null}
            {comments.isError ? <ErrorAlert error={comments.error} /> : null}
            {comments.data ? (
              <Conversation
                ticketId={t.id}
                comments={comments.data}
                meId={grant.user_id}
                requesterId={t.requester_id}
                staffView={false}
                actions={false}
              />
            ) : null}
            {t.status !== "cancelled" ? <Composer ticketId={t.id} staff={false} /> : null}
          </section>
        </div>
        <aside className="space-y-6">
          <FilesCard ticketId={t.id} />
          <SetPassword onDone={onPasswordSet} token={grant.access_token} />
        </aside>
      </div>
    </>
  );
}

/** "Set a password": from then on the person signs in, and their e-mail links end. */
function SetPassword({ token, onDone }: { token: string; onDone: () => void }) {
  const fields = useNewPassword();
  const [failure, setFailure] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setFailure(null);
    if (!fields.check()) return;
    setBusy(true);
    try {
      // The client sends no access token to /v1/auth/* by itself; this route needs it.
      await ok(
        api.POST("/v1/auth/magic/password", { body: { password: fields.password }, headers: { Authorization: `Bearer ${token}` } }),
      );
      markSignedOut();
      onDone();
    } catch (e) {
      if (e instanceof ApiError && e.fieldErrors.password) fields.refused(e.fieldErrors.password);
      else setFailure(describeError(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Card aria-labelledby="password-heading">
      <h2 id="password-heading" className="mb-2 font-semibold">
        Set a password
      </h2>
      <p className="mb-3 text-fg-muted">Sign in to see all your requests. The e-mail links then stop working.</p>
      <form className="space-y-3" onSubmit={submit} noValidate>
        {failure ? <Alert tone="danger">{failure}</Alert> : null}
        <NewPasswordFields state={fields} />
        <Button type="submit" busy={busy}>
          Set the password
        </Button>
      </form>
    </Card>
  );
}
