import { useMutation } from "@tanstack/react-query";
import { Link, useSearchParams } from "react-router";
import { api, ok } from "../api/client";
import { ApiError, describeError } from "../api/problem";
import { AuthLayout } from "../auth/AuthLayout";
import { Alert, Button } from "../components/ui";
import { EVENT_LABELS, type EventType } from "./preferences";
import { t } from "../i18n";

/** /unsubscribe?token=…, where an e-mail's unsubscribe link leads a browser. No sign-in:
 * the signed token names the person and the kind of e-mail. A GET never unsubscribes
 * (mail scanners open links); the button makes the same one-click POST a mail client does. */
export default function UnsubscribePage() {
  const [params] = useSearchParams();
  const token = params.get("token") ?? "";
  const stop = useMutation({
    mutationFn: () => ok(api.POST("/v1/notifications/unsubscribe", { params: { query: { token } } })),
  });
  const kind = stop.data ? (EVENT_LABELS[stop.data.event_type as EventType] ? t(EVENT_LABELS[stop.data.event_type as EventType].label) : stop.data.event_type) : null;
  const settings = (
    <Link to="/settings/notifications" className="text-accent-text underline">
      notification settings
    </Link>
  );
  return (
    <AuthLayout title="Unsubscribe" footer={<>You can choose every kind of e-mail in your {settings}.</>}>
      {!token ? (
        <Alert tone="warning">This link is incomplete. Open the link from the e-mail again.</Alert>
      ) : stop.isSuccess ? (
        <Alert tone="success" title="Unsubscribed">
          You will no longer get e-mails about: {kind?.toLowerCase()}. You still see them in the app.
        </Alert>
      ) : (
        <div className="space-y-4">
          <p>Stop getting this kind of e-mail from Servicedesk?</p>
          {stop.isError ? (
            <Alert tone="danger">
              {stop.error instanceof ApiError && stop.error.status === 404 ? "This unsubscribe link is not valid." : describeError(stop.error)}
            </Alert>
          ) : null}
          <Button variant="primary" busy={stop.isPending} onClick={() => stop.mutate()}>
            Unsubscribe
          </Button>
        </div>
      )}
    </AuthLayout>
  );
}
