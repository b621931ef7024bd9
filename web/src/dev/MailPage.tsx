import { useEffect, useRef } from "react";
import { Link, useParams } from "react-router";
import { describeError } from "../api/problem";
import { Alert, Card, EmptyState, PageHeader, Spinner, cx } from "../components/ui";
import { formatDateTime } from "../lib/format";
import { useCaughtMail, useCaughtMessage, type CaughtMessage } from "./runtime";
import { sanitizeMailHtml } from "./sanitize";

/** The Date header, shown like every other time in the app (as sent if it does not parse). */
function when(date: string): string {
  const parsed = new Date(date);
  return Number.isNaN(parsed.getTime()) ? date : formatDateTime(parsed.toISOString());
}

/** The HTML part, sanitised (sanitize.ts) and shown in the page under the app's styles. */
function HtmlPart({ html }: { html: string }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const node = box.current;
    if (!node) return;
    node.replaceChildren(sanitizeMailHtml(html));
  }, [html]);
  return <div ref={box} className="mail-html space-y-2 break-words" data-testid="mail-html" />;
}

function Message({ message }: { message: CaughtMessage }) {
  const subject = message.headers.find((h) => h.name === "Subject")?.value ?? "(no subject)";
  return (
    <article aria-labelledby="mail-subject" className="space-y-4">
      <h2 id="mail-subject" className="text-lg font-semibold text-fg">
        {subject}
      </h2>
      <dl className="grid grid-cols-[max-content_1fr] gap-x-4 gap-y-1 text-sm">
        {message.headers.map((h) => (
          <div key={h.name} className="contents">
            <dt className="font-medium text-fg-muted">{h.name}</dt>
            <dd className="break-all text-fg">{h.value}</dd>
          </div>
        ))}
      </dl>
      {message.html ? (
        <section aria-labelledby="mail-html-heading" className="space-y-2">
          <h3 id="mail-html-heading" className="font-semibold text-fg">
            HTML part <span className="font-normal text-fg-muted">(sanitised: no scripts, styles or images)</span>
          </h3>
          <div className="rounded-md border border-border bg-surface p-4 text-fg">
            <HtmlPart html={message.html} />
          </div>
        </section>
      ) : null}
      {message.text ? (
        <section aria-labelledby="mail-text-heading" className="space-y-2">
          <h3 id="mail-text-heading" className="font-semibold text-fg">
            Text part
          </h3>
          <pre className="overflow-x-auto whitespace-pre-wrap break-words rounded-md border border-border bg-surface-muted p-4 text-sm text-fg" data-testid="mail-text">
            {message.text}
          </pre>
        </section>
      ) : null}
    </article>
  );
}

/** The e-mail `make dev` caught (local/devmail.py): the caller's own, or the whole
 * tenant's for an admin. */
export default function MailPage() {
  const { name } = useParams();
  const list = useCaughtMail();
  const message = useCaughtMessage(name);
  return (
    <div className="space-y-4">
      <PageHeader title="Caught e-mail">
        <p className="text-fg-muted">
          In development nothing is sent: each message is written to the mail catcher directory. You see the ones sent to you; admins see all
          of the organisation's.
        </p>
      </PageHeader>
      {list.isError ? <Alert tone="danger">{describeError(list.error)}</Alert> : null}
      <div className="grid gap-4 lg:grid-cols-[minmax(0,2fr)_minmax(0,3fr)]">
        <Card aria-label="Messages" className="p-0">
          {list.isPending ? (
            <div className="p-6 text-center">
              <Spinner label="Loading messages" />
            </div>
          ) : list.data && list.data.items.length > 0 ? (
            <ul className="divide-y divide-border" data-testid="mail-list">
              {list.data.items.map((m) => (
                <li key={m.name}>
                  <Link
                    to={`/dev/mail/${encodeURIComponent(m.name)}`}
                    aria-current={m.name === name ? "page" : undefined}
                    className={cx("block px-4 py-3 hover:bg-surface-muted", m.name === name ? "bg-accent-subtle" : "")}
                  >
                    <span className="block break-words font-medium text-fg">{m.subject || "(no subject)"}</span>
                    <span className="block break-all text-sm text-fg-muted">
                      To {m.to} · {when(m.date)}
                    </span>
                  </Link>
                </li>
              ))}
            </ul>
          ) : (
            <div className="p-4">
              <EmptyState title="No e-mail caught yet">Replies, assignments and invitations will show up here.</EmptyState>
            </div>
          )}
        </Card>
        <Card aria-label="Message" className="min-w-0 p-4">
          {!name ? (
            <p className="text-fg-muted">Choose a message to read it.</p>
          ) : message.isPending ? (
            <Spinner label="Loading the message" />
          ) : message.isError ? (
            <Alert tone="danger">{describeError(message.error)}</Alert>
          ) : (
            <Message message={message.data} />
          )}
        </Card>
      </div>
    </div>
  );
}
