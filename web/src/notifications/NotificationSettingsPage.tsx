import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState, type FormEvent } from "react";
import { Link } from "react-router";
import { api, ok } from "../api/client";
import { describeError } from "../api/problem";
import { isStaff } from "../lib/domain";
import { useMe } from "../auth/AuthProvider";
import { Alert, Button, PageHeader, Spinner } from "../components/ui";
import { t } from "../i18n";
import { CHANNELS, EVENT_LABELS, changedItems, customisedEmail, prefKey, visibleEvents } from "./preferences";

const KEY = ["notification-preferences"] as const;

/** /settings/notifications, the page every e-mail's footer links to: each kind of
 * notification on or off, in the app and by e-mail; an e-mail the person never chose
 * follows the organisation's default, and says so. */
export default function NotificationSettingsPage() {
  const me = useMe();
  const client = useQueryClient();
  const prefs = useQuery({ queryKey: KEY, queryFn: ({ signal }) => ok(api.GET("/v1/notification-preferences", { signal })) });
  const [form, setForm] = useState<Map<string, boolean>>(new Map());
  const [saved, setSaved] = useState(false);
  useEffect(() => {
    if (prefs.data) setForm(new Map(prefs.data.items.map((p) => [prefKey(p.event_type, p.channel), p.enabled])));
  }, [prefs.data]);
  const save = useMutation({
    mutationFn: (reset: boolean) =>
      ok(
        api.PUT("/v1/notification-preferences", {
          body: reset ? { items: [], reset: customisedEmail(prefs.data?.items ?? []) } : { items: changedItems(prefs.data?.items ?? [], form) },
        }),
      ),
    onSuccess: (answer) => {
      client.setQueryData(KEY, answer);
      setSaved(true);
    },
  });
  const dirty = prefs.data ? changedItems(prefs.data.items, form).length > 0 : false;
  const byKey = new Map((prefs.data?.items ?? []).map((p) => [prefKey(p.event_type, p.channel), p]));
  const anyCustomised = customisedEmail(prefs.data?.items ?? []).length > 0;

  function submit(event: FormEvent) {
    event.preventDefault();
    setSaved(false);
    save.mutate(false);
  }

  return (
    <>
      <p className="mb-2">
        <Link to="/notifications" className="text-accent-text underline">
          {t("notif.back")}
        </Link>
      </p>
      <PageHeader title={t("notif.title")}>{t("notif.intro")}</PageHeader>
      {prefs.isPending ? <Spinner label={t("notif.loading")} /> : null}
      {prefs.isError ? <Alert tone="danger">{describeError(prefs.error)}</Alert> : null}
      {prefs.data ? (
        <form onSubmit={submit} noValidate className="space-y-4">
          <div className="overflow-x-auto rounded-lg border border-border bg-surface">
            <table className="w-full border-collapse text-left">
              <caption className="sr-only">{t("notif.caption")}</caption>
              <thead className="border-b border-border bg-surface-muted text-fg-muted">
                <tr>
                  <th scope="col" className="px-3 py-2 font-medium">
                    {t("notif.kind")}
                  </th>
                  {CHANNELS.map((c) => (
                    <th key={c.id} scope="col" className="px-3 py-2 font-medium">
                      {t(c.label)}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {visibleEvents(isStaff(me.role)).map((e) => (
                  <tr key={e} className="border-b border-border last:border-0">
                    <th scope="row" className="px-3 py-2 font-medium">
                      {t(EVENT_LABELS[e].label)}
                    </th>
                    {CHANNELS.map((c) => {
                      const key = prefKey(e, c.id);
                      const held = byKey.get(key);
                      const note =
                        c.id !== "email" || !held
                          ? null
                          : held.customised
                            ? t("notif.yourChoice", { state: t(held.tenant_default ? "notif.on" : "notif.off") })
                            : t("notif.followsDefault");
                      const noteId = `note-${e}-${c.id}`.replace(/\./g, "-");
                      return (
                        <td key={c.id} className="px-3 py-2">
                          <span className="inline-flex items-center gap-2">
                            <input
                              type="checkbox"
                              className="h-4 w-4 accent-accent"
                              aria-label={t("notif.cell", { kind: t(EVENT_LABELS[e].label), channel: t(c.label) })}
                              aria-describedby={note ? noteId : undefined}
                              checked={form.get(key) ?? true}
                              onChange={(ev) => {
                                setSaved(false);
                                setForm((f) => new Map(f).set(key, ev.target.checked));
                              }}
                            />
                            {note ? (
                              <span id={noteId} className="text-sm text-fg-muted" data-testid={`pref-note-${e}`}>
                                {note}
                              </span>
                            ) : null}
                          </span>
                        </td>
                      );
                    })}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {save.isError ? <Alert tone="danger">{describeError(save.error)}</Alert> : null}
          {saved && !dirty ? <Alert tone="success">{t("notif.saved")}</Alert> : null}
          <div className="flex flex-wrap gap-3">
            <Button type="submit" variant="primary" busy={save.isPending} disabled={!dirty}>
              {t("notif.save")}
            </Button>
            {anyCustomised ? (
              <Button
                type="button"
                onClick={() => {
                  setSaved(false);
                  save.mutate(true);
                }}
              >
                {t("notif.useDefaults")}
              </Button>
            ) : null}
          </div>
        </form>
      ) : null}
    </>
  );
}
