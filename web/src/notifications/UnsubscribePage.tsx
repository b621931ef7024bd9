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
      {t("unsubscribe.footerLink")}
    </Link>
  );
  return (
    <AuthLayout
      title={t("unsubscribe.title")}
      footer={
        <>
          {t("unsubscribe.footer")}
          {settings}
          {t("unsubscribe.footerEnd")}
        </>
      }
    >
      {!token ? (
        <Alert tone="warning">{t("unsubscribe.incomplete")}</Alert>
      ) : stop.isSuccess ? (
        <Alert tone="success" title={t("unsubscribe.done")}>
          {t("unsubscribe.doneHelp", { kind: kind?.toLowerCase() ?? "" })}
        </Alert>
      ) : (
        <div className="space-y-4">
          <p>{t("unsubscribe.question")}</p>
          {stop.isError ? (
            <Alert tone="danger">
              {stop.error instanceof ApiError && stop.error.status === 404 ? t("unsubscribe.invalid") : describeError(stop.error)}
            </Alert>
          ) : null}
          <Button variant="primary" busy={stop.isPending} onClick={() => stop.mutate()}>
            {t("unsubscribe.submit")}
          </Button>
        </div>
      )}
    </AuthLayout>
  );
}
