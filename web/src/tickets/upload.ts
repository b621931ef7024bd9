import { api, idempotencyKey, ok } from "../api/client";
import type { Attachment } from "../api/types";
import { t } from "../i18n";

export interface UploadProgress {
  loaded: number;
  total: number;
}

/** POST the presigned form to S3 with the file last, reporting progress (fetch cannot). */
export function postForm(
  url: string,
  fields: Record<string, string>,
  file: Blob,
  onProgress: (p: UploadProgress) => void,
  signal?: AbortSignal,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    for (const [name, value] of Object.entries(fields)) form.append(name, value);
    form.append("file", file);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) onProgress({ loaded: e.loaded, total: e.total });
    };
    xhr.onload = () =>
      xhr.status >= 200 && xhr.status < 300 ? resolve() : reject(new Error(t("tickets.files.refused", { status: xhr.status })));
    xhr.onerror = () => reject(new Error(t("tickets.files.unreachable")));
    xhr.onabort = () => reject(new DOMException("aborted", "AbortError"));
    signal?.addEventListener("abort", () => xhr.abort());
    xhr.send(form);
  });
}

/** Uploads one file with progress: what a `FileUploader` is given. */
export type Uploader = (file: File, onProgress: (p: UploadProgress) => void) => Promise<Attachment>;

const described = (file: File) => ({ filename: file.name, content_type: file.type || "application/octet-stream", size: file.size });

/** Ask for a form, upload straight to S3, then have the API check and hash the file. */
export async function uploadAttachment(
  ticketId: string,
  file: File,
  onProgress: (p: UploadProgress) => void,
  { commentId = null, signal }: { commentId?: string | null; signal?: AbortSignal } = {},
): Promise<Attachment> {
  const started = await ok(
    api.POST("/v1/tickets/{ticket_id}/attachments", {
      body: { comment_id: commentId, ...described(file) },
      params: { path: { ticket_id: ticketId }, header: { "Idempotency-Key": idempotencyKey() } },
    }),
  );
  await postForm(started.upload.url, started.upload.fields, file, onProgress, signal);
  return ok(
    api.POST("/v1/attachments/{attachment_id}/complete", {
      params: { path: { attachment_id: started.attachment.id } },
    }),
  );
}

/** The same pipeline for a project task's file (its own start and completion routes). */
export async function uploadTaskAttachment(projectId: string, taskId: string, file: File, onProgress: (p: UploadProgress) => void): Promise<Attachment> {
  const path = { project_id: projectId, task_id: taskId };
  const started = await ok(
    api.POST("/v1/projects/{project_id}/tasks/{task_id}/attachments", {
      body: described(file),
      params: { path, header: { "Idempotency-Key": idempotencyKey() } },
    }),
  );
  await postForm(started.upload.url, started.upload.fields, file, onProgress);
  return ok(
    api.POST("/v1/projects/{project_id}/tasks/{task_id}/attachments/{attachment_id}/complete", {
      params: { path: { ...path, attachment_id: started.attachment.id } },
    }),
  );
}

export async function downloadUrl(attachmentId: string): Promise<string> {
  const link = await ok(
    api.GET("/v1/attachments/{attachment_id}/download", { params: { path: { attachment_id: attachmentId } } }),
  );
  return link.url;
}
