import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "react-router";
import { api, ok } from "../api/client";
import { Alert, Badge, Button, Card, EmptyState, Field, Input, PageHeader, Spinner } from "../components/ui";
import { formatRelative } from "../lib/format";
import { adminKeys, useWebhooks } from "./api";
import { Checkbox, CheckboxGroup } from "./fields";
import { EditorStatus, FailureAlert, useEditor, type Errors } from "./forms";
import type { Webhook, WebhookEvent, WebhookWithSecret } from "./types";
import { t } from "../i18n/admin";

// Every event of the API's catalogue, by type: a new event type without a label here is a
// type error (the Record's keys are the OpenAPI enum's).
const LABELS: Record<Exclude<WebhookEvent, "*">, string> = {
  "ticket.created": t("admin.webhooks.ticketCreated"),
  "ticket.assigned": t("admin.webhooks.ticketAssigned"),
  "ticket.status_changed": t("admin.webhooks.statusChanged"),
  "comment.public": t("admin.webhooks.publicReply"),
  "comment.internal": t("admin.webhooks.internalNote"),
  "sla.warning": t("admin.webhooks.slaWarning"),
  "sla.breached": t("admin.webhooks.slaBreached"),
  "sla.escalation": t("admin.webhooks.slaEscalation"),
  "mail.received": t("admin.webhooks.mailReceived"),
  "mail.held": t("admin.webhooks.mailHeld"),
  "mail.rejected": t("admin.webhooks.mailRejected"),
  "csat.rated": t("admin.webhooks.satisfactionRating"),
  "identity_provider.created": t("admin.webhooks.providerCreated"),
  "identity_provider.updated": t("admin.webhooks.providerUpdated"),
  "identity_provider.deleted": t("admin.webhooks.providerDeleted"),
  "scim.user.provisioned": t("admin.webhooks.scimUserProvisioned"),
  "scim.user.updated": t("admin.webhooks.scimUserUpdated"),
  "scim.user.deactivated": t("admin.webhooks.scimUserDeactivated"),
  "scim.user.role_changed": t("admin.webhooks.scimUserRoleChanged"),
  "scim.group.created": t("admin.webhooks.scimGroupCreated"),
  "scim.group.updated": t("admin.webhooks.scimGroupUpdated"),
  "scim.group.deleted": t("admin.webhooks.scimGroupDeleted"),
  "scim.group.members_changed": t("admin.webhooks.scimGroupMembersChanged"),
  "scim.group.mapped": t("admin.webhooks.scimGroupMapped"),
  "role.created": t("admin.webhooks.roleCreated"),
  "role.updated": t("admin.webhooks.roleUpdated"),
  "role.deleted": t("admin.webhooks.roleDeleted"),
  "ci.created": t("admin.webhooks.ciCreated"),
  "ci.updated": t("admin.webhooks.ciUpdated"),
  "ci.deleted": t("admin.webhooks.ciDeleted"),
  "ci.imported": t("admin.webhooks.ciImported"),
  "ci.relationship.created": t("admin.webhooks.ciRelationshipCreated"),
  "ci.relationship.deleted": t("admin.webhooks.ciRelationshipDeleted"),
  "integration.created": t("admin.webhooks.integrationCreated"),
  "integration.updated": t("admin.webhooks.integrationUpdated"),
  "integration.deleted": t("admin.webhooks.integrationDeleted"),
  "integration.installed": t("admin.webhooks.integrationInstalled"),
  "integration.linked": t("admin.webhooks.integrationLinked"),
  "approval.requested": t("admin.webhooks.approvalRequested"),
  "approval.decided": t("admin.webhooks.approvalDecided"),
  "approval.approved": t("admin.webhooks.approvalApproved"),
  "approval.rejected": t("admin.webhooks.approvalRejected"),
  "approval.escalated": t("admin.webhooks.approvalEscalated"),
  "change.created": t("admin.webhooks.changeCreated"),
  "change.updated": t("admin.webhooks.changeUpdated"),
  "change.state_changed": t("admin.webhooks.changeStateChanged"),
  "project.created": t("admin.webhooks.projectCreated"),
  "project.updated": t("admin.webhooks.projectUpdated"),
  "task.created": t("admin.webhooks.taskCreated"),
  "task.updated": t("admin.webhooks.taskUpdated"),
  "task.moved": t("admin.webhooks.taskMoved"),
  "task.deleted": t("admin.webhooks.taskDeleted"),
  "task.commented": t("admin.webhooks.taskCommented"),
  "task.dependency_added": t("admin.webhooks.taskDependencyAdded"),
  "task.dependency_removed": t("admin.webhooks.taskDependencyRemoved"),
};

export const EVENTS: { value: WebhookEvent; label: string }[] = (Object.keys(LABELS) as Exclude<WebhookEvent, "*">[]).map((value) => ({ value, label: LABELS[value] }));

export interface WebhookForm {
  url: string;
  event_types: WebhookEvent[];
  active: boolean;
}

export function webhookForm(hook: Webhook | null): WebhookForm {
  return { url: hook?.url ?? "", event_types: (hook?.event_types as WebhookEvent[] | undefined) ?? ["ticket.created"], active: hook?.active ?? true };
}

export function validateWebhook(form: WebhookForm): Errors {
  const errors: Errors = {};
  if (!form.url.trim()) errors.url = t("fields.required");
  if (!form.event_types.length) errors.event_types = t("admin.webhooks.chooseAtLeastOne");
  return errors;
}

/** URL, events and the switch: shared by the new-webhook form and the webhook page. */
export function WebhookFields({ form, set, errors, showActive }: { form: WebhookForm; set: <K extends keyof WebhookForm>(k: K, v: WebhookForm[K]) => void; errors: Errors; showActive: boolean }) {
  const all = form.event_types.includes("*");
  return (
    <>
      <Field label={t("admin.webhooks.payloadUrl")} required error={errors.url} description={t("admin.webhooks.httpsReceivesPostsSigned")}>
        {(p) => <Input {...p} type="url" inputMode="url" spellCheck={false} maxLength={2048} placeholder={t("admin.webhooks.httpsExampleComHooks")} value={form.url} onChange={(e) => set("url", e.target.value)} />}
      </Field>
      <Checkbox label={t("admin.webhooks.everyEventIncludingNew")} checked={all} onChange={(v) => set("event_types", v ? ["*"] : ["ticket.created"])} />
      {all ? null : (
        <CheckboxGroup
          legend={t("admin.webhooks.events")}
          columns
          options={EVENTS}
          value={form.event_types}
          onChange={(v) => set("event_types", v)}
          error={errors.event_types ?? Object.entries(errors).find(([k]) => k.startsWith("event_types."))?.[1]}
        />
      )}
      {all && errors.event_types ? <p className="font-medium text-danger-text">{errors.event_types}</p> : null}
      {showActive ? (
        <Checkbox
          label={t("admin.webhooks.active")}
          checked={form.active}
          onChange={(v) => set("active", v)}
          error={errors.active}
          description={t("admin.webhooks.turningItOnAgain")}
        />
      ) : null}
    </>
  );
}

export function SecretNotice({ secret, onDone }: { secret: string; onDone: () => void }) {
  const [copied, setCopied] = useState(false);
  return (
    <Alert
      tone="warning"
      title={t("admin.webhooks.storeTheSigningSecret")}
      action={
        <Button size="sm" onClick={onDone}>
          {t("admin.webhooks.iStoredIt")}
        </Button>
      }
    >
      <p className="mt-1">{t("admin.webhooks.theReceiverUsesIt")}</p>
      <div className="mt-2 flex flex-wrap items-center gap-2">
        <code className="break-all rounded bg-surface px-2 py-1 font-mono text-fg" data-testid="webhook-secret">
          {secret}
        </code>
        <Button
          size="sm"
          onClick={() => {
            void navigator.clipboard?.writeText(secret).then(() => setCopied(true));
          }}
        >
          {copied ? t("admin.webhooks.copied") : t("admin.webhooks.copy")}
        </Button>
      </div>
    </Alert>
  );
}

function NewWebhook({ onCreated }: { onCreated: (hook: WebhookWithSecret) => void }) {
  const client = useQueryClient();
  const [resetKey, setResetKey] = useState(0);
  return (
    <NewWebhookForm
      key={resetKey}
      onCreated={(hook) => {
        void client.invalidateQueries({ queryKey: adminKeys.webhooks });
        onCreated(hook);
        setResetKey((k) => k + 1);
      }}
    />
  );
}

function NewWebhookForm({ onCreated }: { onCreated: (hook: WebhookWithSecret) => void }) {
  const editor = useEditor<WebhookWithSecret, WebhookForm>({
    entity: null,
    toForm: () => webhookForm(null),
    tag: (h) => String(h.version),
    validate: validateWebhook,
    create: (form, key) =>
      ok(
        api.POST("/v1/webhooks", {
          params: { header: { "Idempotency-Key": key } },
          body: { url: form.url.trim(), event_types: form.event_types, active: true },
        }),
      ),
    onSaved: (hook) => onCreated(hook),
  });
  return (
    <Card aria-labelledby="new-webhook-heading">
      <h2 id="new-webhook-heading" className="mb-3 font-semibold">
        {t("admin.webhooks.newWebhook")}
      </h2>
      <form className="space-y-3" onSubmit={editor.submit} noValidate>
        <WebhookFields form={editor.form} set={editor.set} errors={editor.errors} showActive={false} />
        <EditorStatus editor={editor} placed={["url", "event_types"]} savedText={t("admin.webhooks.webhookCreated")} />
        <Button type="submit" variant="primary" busy={editor.saving}>
          {t("admin.webhooks.createWebhook")}
        </Button>
      </form>
    </Card>
  );
}

export function WebhookState({ hook }: { hook: Webhook }) {
  if (hook.disabled_at) return <Badge tone="danger">{t("admin.webhooks.disabled")}</Badge>;
  if (!hook.active) return <Badge>{t("admin.webhooks.off")}</Badge>;
  if (hook.consecutive_failures > 0) return <Badge tone="warning">{t("admin.webhooks.failingConsecutivefailures", { consecutivefailures: hook.consecutive_failures })}</Badge>;
  return <Badge tone="success">{t("admin.webhooks.active")}</Badge>;
}

export default function WebhooksPage() {
  const hooks = useWebhooks();
  const [created, setCreated] = useState<WebhookWithSecret | null>(null);
  return (
    <>
      <PageHeader title={t("admin.webhooks.webhooks")}>{t("admin.webhooks.tellOtherSystemsAbout")}</PageHeader>
      {created ? (
        <div className="mb-4 space-y-2">
          <SecretNotice secret={created.secret} onDone={() => setCreated(null)} />
          <p>
            <Link to={`/admin/webhooks/${created.id}`} className="font-medium text-accent-text underline">
              {t("admin.webhooks.openTheNewWebhook")}
            </Link>
          </p>
        </div>
      ) : null}
      <div className="grid *:min-w-0 gap-6 lg:grid-cols-[1fr_24rem]">
        <Card aria-labelledby="webhooks-heading">
          <h2 id="webhooks-heading" className="mb-3 font-semibold">
            {t("admin.webhooks.endpoints")}
          </h2>
          {hooks.isPending ? <Spinner label={t("admin.webhooks.loadingWebhooks")} /> : null}
          {hooks.isError ? <FailureAlert error={hooks.error} /> : null}
          {hooks.data && !hooks.data.length ? <EmptyState title={t("admin.webhooks.noWebhooksYet")} /> : null}
          {hooks.data?.length ? (
            <ul className="divide-y divide-border" data-testid="webhook-list">
              {hooks.data.map((h) => (
                <li key={h.id} className="flex flex-wrap items-center justify-between gap-2 py-2">
                  <div className="min-w-0">
                    <Link to={`/admin/webhooks/${h.id}`} className="break-all font-medium text-accent-text underline">
                      {h.url}
                    </Link>
                    <p className="text-fg-muted">{t("admin.webhooks.valueChangedWhen", { value: h.event_types.includes("*") ? "Every event" : h.event_types.join(", "), when: formatRelative(h.updated_at) })}</p>
                  </div>
                  <WebhookState hook={h} />
                </li>
              ))}
            </ul>
          ) : null}
        </Card>
        <NewWebhook onCreated={setCreated} />
      </div>
    </>
  );
}
