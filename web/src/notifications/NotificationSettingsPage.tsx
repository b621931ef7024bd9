import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState, type FormEvent } from "react";
import { Link } from "react-router";
import { api, ok } from "../api/client";
import { describeError } from "../api/problem";
import { isStaff } from "../lib/domain";
import { useMe } from "../auth/AuthProvider";
import { Alert, Button, PageHeader, Spinner } from "../components/ui";
import { CHANNELS, EVENT_LABELS, changedItems, prefKey, visibleEvents } from "./preferences";

const KEY = ["notification-preferences"] as const;

/** /settings/notifications, the page every e-mail's footer links to: each kind of
 * notification on or off, in the app and by e-mail. */
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
    mutationFn: () => ok(api.PUT("/v1/notification-preferences", { body: { items: changedItems(prefs.data?.items ?? [], form) } })),
    onSuccess: (answer) => {
      client.setQueryData(KEY, answer);
      setSaved(true);
    },
  });
  const dirty = prefs.data ? changedItems(prefs.data.items, form).length > 0 : false;

  function submit(event: FormEvent) {
    event.preventDefault();
    setSaved(false);
    save.mutate();
  }

  return (
    <>
      <p className="mb-2">
        <Link to="/notifications" className="text-accent-text underline">
          ← Notifications
        </Link>
      </p>
      <PageHeader title="Notification settings">What you are told about, in the app and by e-mail.</PageHeader>
      {prefs.isPending ? <Spinner label="Loading your settings" /> : null}
      {prefs.isError ? <Alert tone="danger">{describeError(prefs.error)}</Alert> : null}
      {prefs.data ? (
        <form onSubmit={submit} noValidate className="space-y-4">
          <div className="overflow-x-auto rounded-lg border border-border bg-surface">
            <table className="w-full border-collapse text-left">
              <caption className="sr-only">Notifications by kind and channel</caption>
              <thead className="border-b border-border bg-surface-muted text-fg-muted">
                <tr>
                  <th scope="col" className="px-3 py-2 font-medium">
                    Kind
                  </th>
                  {CHANNELS.map((c) => (
                    <th key={c.id} scope="col" className="px-3 py-2 font-medium">
                      {c.label}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {visibleEvents(isStaff(me.role)).map((e) => (
                  <tr key={e} className="border-b border-border last:border-0">
                    <th scope="row" className="px-3 py-2 font-medium">
                      {EVENT_LABELS[e].label}
                    </th>
                    {CHANNELS.map((c) => {
                      const key = prefKey(e, c.id);
                      return (
                        <td key={c.id} className="px-3 py-2">
                          <input
                            type="checkbox"
                            className="h-4 w-4 accent-accent"
                            aria-label={`${EVENT_LABELS[e].label}: ${c.label}`}
                            checked={form.get(key) ?? true}
                            onChange={(ev) => {
                              setSaved(false);
                              setForm((f) => new Map(f).set(key, ev.target.checked));
                            }}
                          />
                        </td>
                      );
                    })}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {save.isError ? <Alert tone="danger">{describeError(save.error)}</Alert> : null}
          {saved && !dirty ? <Alert tone="success">Saved.</Alert> : null}
          <Button type="submit" variant="primary" busy={save.isPending} disabled={!dirty}>
            Save settings
          </Button>
        </form>
      ) : null}
    </>
  );
}
