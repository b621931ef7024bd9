import { Alert, Spinner } from "../components/ui";
import { ErrorAlert } from "../tickets/Composer";
import { formatDateTime } from "../lib/format";
import { useOriginal } from "./api";
import { t } from "../i18n";

/** A received message as it came, for staff: who sent it, its headers, its whole text
 * (what the requester wrote above the quoted history), attachments, and the raw message. */
export function OriginalView({ mailId }: { mailId: string }) {
  const original = useOriginal(mailId);
  if (original.isPending) return <Spinner label={t("mail.original.loading")} />;
  if (original.isError) return <ErrorAlert error={original.error} />;
  const { mail, headers, text, attachments, defects, raw_url } = original.data;
  return (
    <div className="space-y-3">
      <dl className="grid grid-cols-[auto_1fr] gap-x-3 gap-y-1">
        <dt className="text-fg-muted">{t("mail.original.from")}</dt>
        <dd className="break-all">{mail.from_name ? `${mail.from_name} <${mail.from_address ?? ""}>` : (mail.from_address ?? t("mail.original.none"))}</dd>
        <dt className="text-fg-muted">{t("mail.original.subject")}</dt>
        <dd>{mail.subject || t("mail.noSubject")}</dd>
        <dt className="text-fg-muted">{t("mail.original.received")}</dt>
        <dd>{formatDateTime(mail.received_at)}</dd>
      </dl>
      {defects.length ? (
        <Alert tone="warning" title={t("mail.original.damaged")}>
          {defects.join("; ")}
        </Alert>
      ) : null}
      <pre className="max-h-96 overflow-auto whitespace-pre-wrap rounded border border-border bg-surface-muted p-3 text-sm">{text}</pre>
      {attachments.length ? (
        <ul aria-label={t("mail.original.attachments")} className="list-inside list-disc">
          {attachments.map((a, n) => (
            <li key={n}>
              {t("mail.original.attachment", { name: String(a.filename), type: String(a.content_type), size: String(a.size) })}
            </li>
          ))}
        </ul>
      ) : null}
      <details>
        <summary className="cursor-pointer">{t("mail.original.headers")}</summary>
        <pre className="mt-2 max-h-72 overflow-auto whitespace-pre-wrap text-sm">{headers.map(([name, value]) => `${name}: ${value}`).join("\n")}</pre>
      </details>
      {raw_url ? (
        <p>
          <a className="text-accent-text underline" href={raw_url} download="message.eml">
            {t("mail.original.download")}
          </a>
        </p>
      ) : null}
    </div>
  );
}
