import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { api, etag, ok } from "../api/client";
import { Alert, Badge, Button, Card, PageHeader, Spinner } from "../components/ui";
import { formatDateTime, formatRelative } from "../lib/format";
import { adminKeys, useDeliveries, useWebhook } from "./api";
import { ConfirmButton, ScrollArea } from "./fields";
import { EditorStatus, FormActions, FailureAlert, useEditor } from "./forms";
import type { Delivery, Webhook } from "./types";
import { SecretNotice, WebhookFields, WebhookState, validateWebhook, webhookForm, type WebhookForm } from "./WebhooksPage";
import { labelled, t } from "../i18n/admin";

const TRIGGERS: Record<Delivery["trigger"], string> = labelled({
  event: "admin.webhook.event2",
  retry: "admin.webhook.retry",
  redeliver: "admin.webhook.redelivery",
  ping: "admin.webhook.testPing",
});

function outcome(d: Delivery): string {
  if (d.success) return t("admin.webhook.deliveredValue", { value: d.status_code ?? "?" });
  if (d.status_code) return t("admin.webhook.failedStatusCode", { status_code: d.status_code });
  return t("admin.webhook.failedNoAnswer");
}

function DeliveryLog({ hook }: { hook: Webhook }) {
  const client = useQueryClient();
  const deliveries = useDeliveries(hook.id);
  const [notice, setNotice] = useState<{ tone: "success" | "danger"; text: string } | null>(null);
  const refresh = () => client.invalidateQueries({ queryKey: adminKeys.deliveries(hook.id) });
  const ping = useMutation({
    mutationFn: () => ok(api.POST("/v1/webhooks/{webhook_id}/ping", { params: { path: { webhook_id: hook.id } } })),
    onSuccess: (d) => {
      setNotice({ tone: d.success ? "success" : "danger", text: t("admin.webhook.testPingDIn", { d: outcome(d), latencyms: d.latency_ms }) });
      void refresh();
      void client.invalidateQueries({ queryKey: adminKeys.webhook(hook.id) });
    },
    onError: () => setNotice(null),
  });
  const redeliver = useMutation({
    mutationFn: (id: string) =>
      ok(api.POST("/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver", { params: { path: { webhook_id: hook.id, delivery_id: id } } })),
    onSuccess: (d) => {
      setNotice({ tone: d.success ? "success" : "danger", text: t("admin.webhook.redeliveryOfEventtypeD", { eventtype: d.event_type, d: outcome(d), latencyms: d.latency_ms }) });
      void refresh();
    },
    onError: () => setNotice(null),
  });
  const rows = deliveries.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <Card aria-labelledby="deliveries-heading">
      <div className="mb-3 flex flex-wrap items-center justify-between gap-2">
        <h2 id="deliveries-heading" className="font-semibold">
          {t("admin.webhook.deliveryLog")}
        </h2>
        <div className="flex gap-2">
          <Button size="sm" onClick={() => void refresh()} busy={deliveries.isFetching && !deliveries.isFetchingNextPage}>
            {t("admin.webhook.refresh")}
          </Button>
          <Button size="sm" variant="primary" busy={ping.isPending} onClick={() => ping.mutate()}>
            {t("admin.webhook.sendTestPing")}
          </Button>
        </div>
      </div>
      <div aria-live="polite" className="mb-3 space-y-2">
        {notice ? <Alert tone={notice.tone}>{notice.text}</Alert> : null}
        {ping.isError ? <FailureAlert error={ping.error} /> : null}
        {redeliver.isError ? <FailureAlert error={redeliver.error} /> : null}
      </div>
      {deliveries.isPending ? <Spinner label={t("admin.webhook.loadingDeliveries")} /> : null}
      {deliveries.isError ? <FailureAlert error={deliveries.error} /> : null}
      {deliveries.isSuccess && !rows.length ? <p className="text-fg-muted">{t("admin.webhook.nothingDeliveredYetSend")}</p> : null}
      {rows.length ? (
        <ScrollArea label={t("admin.webhook.deliveryLogTable")}>
          <table className="w-full text-left">
            <caption className="sr-only">{t("admin.webhook.deliveriesNewestFirst")}</caption>
            <thead className="border-b border-border text-fg-muted">
              <tr>
                <th scope="col" className="px-2 py-2 font-medium">{t("admin.webhook.when")}</th>
                <th scope="col" className="px-2 py-2 font-medium">{t("admin.webhook.event")}</th>
                <th scope="col" className="px-2 py-2 font-medium">{t("admin.webhook.trigger")}</th>
                <th scope="col" className="px-2 py-2 font-medium">{t("admin.webhook.result")}</th>
                <th scope="col" className="px-2 py-2 font-medium">{t("admin.webhook.time")}</th>
                <th scope="col" className="px-2 py-2 font-medium">{t("admin.webhook.details")}</th>
                <th scope="col" className="px-2 py-2 font-medium"><span className="sr-only">{t("admin.webhook.actions")}</span></th>
              </tr>
            </thead>
            <tbody data-testid="delivery-rows">
              {rows.map((d) => (
                <tr key={d.id} className="border-b border-border align-top last:border-0">
                  <td className="whitespace-nowrap px-2 py-2" title={formatDateTime(d.created_at)}>
                    {formatRelative(d.created_at)}
                  </td>
                  <td className="px-2 py-2 font-mono">{d.event_type}</td>
                  <td className="px-2 py-2">
                    {TRIGGERS[d.trigger]}
                    {d.attempt > 1 ? <span className="text-fg-muted">{t("admin.webhook.attemptAttempt", { attempt: d.attempt })}</span> : null}
                  </td>
                  <td className="px-2 py-2">
                    <Badge tone={d.success ? "success" : "danger"}>{outcome(d)}</Badge>
                    {d.retry_in_seconds ? <span className="block text-fg-muted">{t("admin.webhook.nextTryInRetryinseconds", { retryinseconds: d.retry_in_seconds })}</span> : null}
                  </td>
                  <td className="whitespace-nowrap px-2 py-2">{t("admin.webhook.latencymsMs", { latencyms: d.latency_ms })}</td>
                  <td className="max-w-xs px-2 py-2">
                    {d.error || d.response_snippet ? (
                      <details>
                        <summary className="cursor-pointer">{d.error ? t("admin.webhook.error") : t("admin.webhook.response")}</summary>
                        <pre className="mt-1 whitespace-pre-wrap break-all font-mono text-xs">{d.error ?? d.response_snippet}</pre>
                      </details>
                    ) : (
                      <span className="text-fg-muted">—</span>
                    )}
                  </td>
                  <td className="px-2 py-2">
                    <Button size="sm" busy={redeliver.isPending && redeliver.variables === d.id} onClick={() => redeliver.mutate(d.id)}>
                      {t("admin.webhook.redeliver")}<span className="sr-only">{t("admin.webhook.eventtypeOfWhen", { eventtype: d.event_type, when: formatDateTime(d.created_at) })}</span>
                    </Button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollArea>
      ) : null}
      {deliveries.hasNextPage ? (
        <div className="mt-3 text-center">
          <Button onClick={() => void deliveries.fetchNextPage()} busy={deliveries.isFetchingNextPage}>
            {t("admin.webhook.loadOlder")}
          </Button>
        </div>
      ) : null}
    </Card>
  );
}

function WebhookEditor({ hook }: { hook: Webhook }) {
  const client = useQueryClient();
  const navigate = useNavigate();
  const [secret, setSecret] = useState<string | null>(null);
  const load = () => ok(api.GET("/v1/webhooks/{webhook_id}", { params: { path: { webhook_id: hook.id } } }));
  const editor = useEditor<Webhook, WebhookForm>({
    entity: hook,
    toForm: webhookForm,
    tag: (h) => etag(h.version),
    validate: validateWebhook,
    update: (form, base, ifMatch) =>
      ok(
        api.PATCH("/v1/webhooks/{webhook_id}", {
          params: { path: { webhook_id: base.id }, header: { "If-Match": ifMatch } },
          body: { url: form.url.trim(), event_types: form.event_types, active: form.active },
        }),
      ),
    reload: () => client.fetchQuery({ queryKey: adminKeys.webhook(hook.id), staleTime: 0, queryFn: load }),
    onSaved: (saved) => {
      client.setQueryData(adminKeys.webhook(saved.id), saved);
      void client.invalidateQueries({ queryKey: adminKeys.webhooks });
    },
  });
  const rotate = useMutation({
    mutationFn: () => ok(api.POST("/v1/webhooks/{webhook_id}/rotate-secret", { params: { path: { webhook_id: hook.id } } })),
    onSuccess: (h) => setSecret(h.secret),
  });
  const remove = useMutation({
    mutationFn: () => ok(api.DELETE("/v1/webhooks/{webhook_id}", { params: { path: { webhook_id: hook.id } } })),
    onSuccess: () => {
      void client.invalidateQueries({ queryKey: adminKeys.webhooks });
      navigate("/admin/webhooks", { replace: true });
    },
  });
  return (
    <Card aria-labelledby="webhook-settings-heading">
      <h2 id="webhook-settings-heading" className="mb-3 font-semibold">
        {t("admin.webhook.settings")}
      </h2>
      {hook.disabled_at ? (
        <div className="mb-3">
          <Alert tone="danger" title={t("admin.webhook.disabledDisabledAt", { disabled_at: formatRelative(hook.disabled_at) })}>{t("admin.webhook.valueTickActiveAnd", { value: hook.disabled_reason ?? "Too many failed deliveries." })}</Alert>
        </div>
      ) : null}
      <form className="space-y-3" onSubmit={editor.submit} noValidate>
        <WebhookFields form={editor.form} set={editor.set} errors={editor.errors} showActive />
        <EditorStatus editor={editor} placed={["url", "event_types", "active"]} />
        <FormActions editor={editor} saveLabel={t("admin.webhook.saveWebhook")} />
      </form>
      <div className="mt-6 space-y-3 border-t border-border pt-4">
        <h3 className="font-semibold">{t("admin.webhook.signingSecret")}</h3>
        {secret ? <SecretNotice secret={secret} onDone={() => setSecret(null)} /> : null}
        {rotate.isError ? <FailureAlert error={rotate.error} /> : null}
        {remove.isError ? <FailureAlert error={remove.error} /> : null}
        <div className="flex flex-wrap gap-2">
          <ConfirmButton size="md" confirmLabel={t("admin.webhook.makeANewSecret")} busy={rotate.isPending} onConfirm={() => rotate.mutate()}>
            {t("admin.webhook.rotateSecret")}
          </ConfirmButton>
          <ConfirmButton size="md" confirmLabel={t("admin.webhook.deleteWebhookAndLog")} busy={remove.isPending} onConfirm={() => remove.mutate()}>
            {t("admin.webhook.delete")}
          </ConfirmButton>
        </div>
        <p className="text-fg-muted">{t("admin.webhook.afterARotationThe")}</p>
      </div>
    </Card>
  );
}

export default function WebhookPage() {
  const { webhookId = "" } = useParams();
  const hook = useWebhook(webhookId);
  return (
    <>
      <p className="mb-2">
        <Link to="/admin/webhooks" className="text-accent-text underline">
          {t("admin.webhook.webhooks")}
        </Link>
      </p>
      {hook.isPending ? <Spinner label={t("admin.webhook.loadingTheWebhook")} /> : null}
      {hook.isError ? <FailureAlert error={hook.error} /> : null}
      {hook.data ? (
        <>
          <PageHeader title={<span className="break-all">{hook.data.url}</span>}>
            <span className="inline-flex items-center gap-2">
              <WebhookState hook={hook.data} />{" "}{t("admin.webhook.created")}{" "}{formatRelative(hook.data.created_at)}
            </span>
          </PageHeader>
          <div className="grid *:min-w-0 gap-6 xl:grid-cols-[24rem_1fr]">
            <WebhookEditor key={hook.data.id} hook={hook.data} />
            <DeliveryLog hook={hook.data} />
          </div>
        </>
      ) : null}
    </>
  );
}
