import { useState, type ChangeEvent } from "react";
import { api, idempotencyKey, ok } from "../api/client";
import { describeError } from "../api/problem";
import { useAuth, useMe } from "../auth/AuthProvider";
import { Avatar } from "../components/Avatar";
import { Alert, Button, Card, Field, Input, Spinner } from "../components/ui";
import { t } from "../i18n";
import { postForm } from "../tickets/upload";
import { downscaleAvatar } from "./resize";

const TYPES = ["image/png", "image/jpeg", "image/webp"];
const MAX_BYTES = 512 * 1024; // servicedesk/attachments/avatars.py AVATAR_MAX_BYTES

/** The early word on a file (before resizing: its type; after: its size); the API checks
 * the declared type and size again, sniffs the bytes and reads the width and height from
 * the header when the upload completes. */
export function avatarProblem(file: { type: string; size: number }): "avatar.type" | "avatar.tooLarge" | null {
  if (!TYPES.includes(file.type)) return "avatar.type";
  if (file.size > MAX_BYTES) return "avatar.tooLarge";
  return null;
}

/** My profile's picture: upload (presigned form, then the API's completion check) and use
 * it (PUT /v1/me/avatar), or remove it (DELETE). */
export function AvatarCard() {
  const me = useMe();
  const { updateMe } = useAuth();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<"saved" | "removed" | null>(null);

  async function refresh() {
    updateMe(await ok(api.GET("/v1/me")));
  }

  async function choose(event: ChangeEvent<HTMLInputElement>) {
    const file = event.target.files?.[0];
    event.target.value = "";
    setDone(null);
    if (!file) return;
    if (!TYPES.includes(file.type)) {
      setError(t("avatar.type"));
      return;
    }
    setError(null);
    setBusy(true);
    try {
      let picture: Blob;
      try {
        picture = await downscaleAvatar(file);
      } catch {
        setError(t("avatar.unreadable"));
        return;
      }
      const problem = avatarProblem(picture);
      if (problem) {
        setError(t(problem));
        return;
      }
      const started = await ok(
        api.POST("/v1/attachments/avatar", {
          body: { filename: file.name || "avatar", content_type: picture.type, size: picture.size },
          params: { header: { "Idempotency-Key": idempotencyKey() } },
        }),
      );
      await postForm(started.upload.url, started.upload.fields, picture, () => undefined);
      const completed = await ok(api.POST("/v1/attachments/{attachment_id}/complete", { params: { path: { attachment_id: started.attachment.id } } }));
      await ok(api.PUT("/v1/me/avatar", { body: { attachment_id: completed.id } }));
      await refresh();
      setDone("saved");
    } catch (failure) {
      setError(describeError(failure));
    } finally {
      setBusy(false);
    }
  }

  async function remove() {
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      await ok(api.DELETE("/v1/me/avatar"));
      await refresh();
      setDone("removed");
    } catch (failure) {
      setError(describeError(failure));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Card aria-labelledby="avatar-heading">
      <h2 id="avatar-heading" className="mb-1 font-semibold">
        {t("avatar.heading")}
      </h2>
      <p className="mb-3 text-fg-muted">{t("avatar.intro")}</p>
      <div className="flex flex-wrap items-center gap-4">
        <Avatar name={me.user.name} url={me.user.avatar_url} size="lg" />
        <div className="space-y-2">
          <Field label={t("avatar.file")} description={t("avatar.fileHelp")} error={error ?? undefined}>
            {(p) => <Input {...p} type="file" accept={TYPES.join(",")} disabled={busy} onChange={choose} />}
          </Field>
          {me.user.avatar_url ? (
            <Button onClick={remove} busy={busy}>
              {t("avatar.remove")}
            </Button>
          ) : null}
        </div>
      </div>
      {busy ? <Spinner label={t("avatar.uploading")} /> : null}
      {done ? (
        <div className="mt-3">
          <Alert tone="success">{t(done === "saved" ? "avatar.saved" : "avatar.removed")}</Alert>
        </div>
      ) : null}
    </Card>
  );
}
