import { useQueryClient } from "@tanstack/react-query";
import { useRef, useState } from "react";
import type { Attachment } from "../api/types";
import { describeError } from "../api/problem";
import { Alert, Button, Card } from "../components/ui";
import { formatBytes } from "../lib/format";
import { keys, useAttachments } from "./queries";
import { downloadUrl, uploadAttachment, type Uploader } from "./upload";
import { t } from "../i18n";

interface Pending {
  name: string;
  loaded: number;
  total: number;
}

/** A file input that uploads each chosen file straight to storage, with progress
 * (`upload`: a ticket's or a task's pipeline; `onDone`: refetch the list). */
export function FileUploader({ upload: send, onDone, label = t("tickets.files.attach") }: { upload: Uploader; onDone: () => void; label?: string }) {
  const input = useRef<HTMLInputElement>(null);
  const [pending, setPending] = useState<Pending[]>([]);
  const [error, setError] = useState<string | null>(null);

  async function upload(files: FileList | null) {
    if (!files?.length) return;
    setError(null);
    const list = Array.from(files);
    setPending(list.map((f) => ({ name: f.name, loaded: 0, total: f.size })));
    try {
      for (const [index, file] of list.entries()) {
        await send(file, (p) =>
          setPending((all) => all.map((item, i) => (i === index ? { ...item, loaded: p.loaded, total: p.total } : item))),
        );
      }
    } catch (e) {
      setError(`${describeError(e)}`);
    } finally {
      setPending([]);
      if (input.current) input.current.value = "";
      onDone();
    }
  }

  return (
    <div className="space-y-2">
      <label className="inline-flex cursor-pointer items-center gap-2 font-medium text-accent-text underline">
        {label}
        <input
          ref={input}
          type="file"
          multiple
          className="sr-only"
          onChange={(e) => void upload(e.target.files)}
          data-testid="file-input"
        />
      </label>
      {pending.map((p) => (
        <div key={p.name} className="space-y-1">
          <span>{p.name}</span>
          <progress className="block w-full" max={p.total || 1} value={p.loaded} aria-label={t("tickets.files.uploading", { name: p.name })} />
        </div>
      ))}
      {error ? <Alert tone="danger">{error}</Alert> : null}
    </div>
  );
}

/** One file: download, and remove when `onRemove` is given (a task's files). */
function AttachmentRow({ attachment, onRemove }: { attachment: Attachment; onRemove?: (a: Attachment) => Promise<unknown> }) {
  const [error, setError] = useState<string | null>(null);
  const [removing, setRemoving] = useState(false);
  const available = attachment.status === "available";
  return (
    <li className="flex flex-wrap items-center justify-between gap-2 py-2">
      <span className="min-w-0 break-all">
        {attachment.filename} <span className="text-fg-muted">· {formatBytes(attachment.size)}</span>
        {!available ? <span className="text-fg-muted"> · {attachment.status}</span> : null}
      </span>
      {available ? (
        <Button
          size="sm"
          variant="ghost"
          aria-label={t("tickets.files.downloadOf", { name: attachment.filename })}
          onClick={() => {
            setError(null);
            downloadUrl(attachment.id)
              .then((url) => window.open(url, "_blank", "noopener"))
              .catch((e: unknown) => setError(describeError(e)));
          }}
        >
          {t("tickets.files.download")}
        </Button>
      ) : null}
      {onRemove ? (
        <Button
          size="sm"
          variant="ghost"
          busy={removing}
          aria-label={t("tickets.files.removeOf", { name: attachment.filename })}
          onClick={() => {
            setError(null);
            setRemoving(true);
            onRemove(attachment)
              .catch((e: unknown) => setError(describeError(e)))
              .finally(() => setRemoving(false));
          }}
        >
          {t("tickets.files.remove")}
        </Button>
      ) : null}
      {error ? <span className="w-full text-danger-text">{error}</span> : null}
    </li>
  );
}

export function AttachmentList({ ticketId }: { ticketId: string }) {
  const attachments = useAttachments(ticketId);
  return <AttachmentItems items={attachments.data ?? []} />;
}

/** A list of files (what is deleted or refused left out); `onRemove` offers removal. */
export function AttachmentItems({ items, onRemove }: { items: Attachment[]; onRemove?: (a: Attachment) => Promise<unknown> }) {
  const shown = items.filter((a) => a.status !== "deleted" && a.status !== "rejected");
  return (
    <div>
      {shown.length ? (
        <ul className="divide-y divide-border" aria-label={t("tickets.files.heading")}>
          {shown.map((a) => (
            <AttachmentRow key={a.id} attachment={a} {...(onRemove ? { onRemove } : {})} />
          ))}
        </ul>
      ) : (
        <p className="text-fg-muted">{t("tickets.files.none")}</p>
      )}
    </div>
  );
}

/** The "Files" card of both ticket pages: the ticket's attachments and an uploader. */
export function FilesCard({ ticketId }: { ticketId: string }) {
  const client = useQueryClient();
  return (
    <Card aria-labelledby="files-heading">
      <h2 id="files-heading" className="mb-2 font-semibold">
        {t("tickets.files.heading")}
      </h2>
      <AttachmentList ticketId={ticketId} />
      <div className="mt-3">
        <FileUploader
          upload={(file, onProgress) => uploadAttachment(ticketId, file, onProgress)}
          onDone={() => void client.invalidateQueries({ queryKey: keys.attachments(ticketId) })}
        />
      </div>
    </Card>
  );
}
