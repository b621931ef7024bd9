import { Alert, Spinner } from "../components/ui";
import { ErrorAlert } from "../tickets/Composer";
import { formatDateTime } from "../lib/format";
import { useOriginal } from "./api";

/** A received message as it came, for staff: who sent it, its headers, its whole text
 * (what the requester wrote above the quoted history), attachments, and the raw message. */
export function OriginalView({ mailId }: { mailId: string }) {
  const original = useOriginal(mailId);
  if (original.isPending) return <Spinner label="Loading the message" />;
  if (original.isError) return <ErrorAlert error={original.error} />;
  const { mail, headers, text, attachments, defects, raw_url } = original.data;
  return (
    <div className="space-y-3">
      <dl className="grid grid-cols-[auto_1fr] gap-x-3 gap-y-1">
        <dt className="text-fg-muted">From</dt>
        <dd className="break-all">{mail.from_name ? `${mail.from_name} <${mail.from_address ?? ""}>` : (mail.from_address ?? "(none)")}</dd>
        <dt className="text-fg-muted">Subject</dt>
        <dd>{mail.subject || "(no subject)"}</dd>
        <dt className="text-fg-muted">Received</dt>
        <dd>{formatDateTime(mail.received_at)}</dd>
      </dl>
      {defects.length ? (
        <Alert tone="warning" title="This message was damaged">
          {defects.join("; ")}
        </Alert>
      ) : null}
      <pre className="max-h-96 overflow-auto whitespace-pre-wrap rounded border border-border bg-surface-muted p-3 text-sm">{text}</pre>
      {attachments.length ? (
        <ul aria-label="Attachments in the message" className="list-inside list-disc">
          {attachments.map((a, n) => (
            <li key={n}>
              {String(a.filename)} ({String(a.content_type)}, {String(a.size)} bytes)
            </li>
          ))}
        </ul>
      ) : null}
      <details>
        <summary className="cursor-pointer">Headers</summary>
        <pre className="mt-2 max-h-72 overflow-auto whitespace-pre-wrap text-sm">{headers.map(([name, value]) => `${name}: ${value}`).join("\n")}</pre>
      </details>
      {raw_url ? (
        <p>
          <a className="text-accent-text underline" href={raw_url} download="message.eml">
            Download the original message (.eml)
          </a>
        </p>
      ) : null}
    </div>
  );
}
