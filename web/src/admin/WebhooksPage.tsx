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

export const EVENTS: { value: WebhookEvent; label: string }[] = [
  { value: "ticket.created", label: "Ticket created" },
  { value: "ticket.assigned", label: "Ticket assigned" },
  { value: "ticket.status_changed", label: "Status changed" },
  { value: "comment.public", label: "Public reply" },
  { value: "comment.internal", label: "Internal note" },
  { value: "sla.warning", label: "SLA warning" },
  { value: "sla.breached", label: "SLA breached" },
  { value: "sla.escalation", label: "SLA escalation" },
  { value: "csat.rated", label: "Satisfaction rating" },
];

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
  if (!form.url.trim()) errors.url = "required";
  if (!form.event_types.length) errors.event_types = "choose at least one event";
  return errors;
}

/** URL, events and the switch: shared by the new-webhook form and the webhook page. */
export function WebhookFields({ form, set, errors, showActive }: { form: WebhookForm; set: <K extends keyof WebhookForm>(k: K, v: WebhookForm[K]) => void; errors: Errors; showActive: boolean }) {
  const all = form.event_types.includes("*");
  return (
    <>
      <Field label="Payload URL" required error={errors.url} description="https; receives POSTs signed in the Servicedesk-Signature header (t=…,v1=…).">
        {(p) => <Input {...p} type="url" inputMode="url" spellCheck={false} maxLength={2048} placeholder="https://example.com/hooks/servicedesk" value={form.url} onChange={(e) => set("url", e.target.value)} />}
      </Field>
      <Checkbox label="Every event, including new kinds" checked={all} onChange={(v) => set("event_types", v ? ["*"] : ["ticket.created"])} />
      {all ? null : (
        <CheckboxGroup
          legend="Events"
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
          label="Active"
          checked={form.active}
          onChange={(v) => set("active", v)}
          error={errors.active}
          description="Turning it on again re-enables an endpoint switched off after repeated failures."
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
      title="Store the signing secret now: it is shown only once"
      action={
        <Button size="sm" onClick={onDone}>
          I stored it
        </Button>
      }
    >
      <p className="mt-1">The receiver uses it to check the signature of every delivery.</p>
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
          {copied ? "Copied" : "Copy"}
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
        New webhook
      </h2>
      <form className="space-y-3" onSubmit={editor.submit} noValidate>
        <WebhookFields form={editor.form} set={editor.set} errors={editor.errors} showActive={false} />
        <EditorStatus editor={editor} placed={["url", "event_types"]} savedText="Webhook created." />
        <Button type="submit" variant="primary" busy={editor.saving}>
          Create webhook
        </Button>
      </form>
    </Card>
  );
}

export function WebhookState({ hook }: { hook: Webhook }) {
  if (hook.disabled_at) return <Badge tone="danger">Disabled</Badge>;
  if (!hook.active) return <Badge>Off</Badge>;
  if (hook.consecutive_failures > 0) return <Badge tone="warning">Failing ({hook.consecutive_failures})</Badge>;
  return <Badge tone="success">Active</Badge>;
}

export default function WebhooksPage() {
  const hooks = useWebhooks();
  const [created, setCreated] = useState<WebhookWithSecret | null>(null);
  return (
    <>
      <PageHeader title="Webhooks">Tell other systems about tickets as they change: signed POSTs, retried, logged.</PageHeader>
      {created ? (
        <div className="mb-4 space-y-2">
          <SecretNotice secret={created.secret} onDone={() => setCreated(null)} />
          <p>
            <Link to={`/admin/webhooks/${created.id}`} className="font-medium text-accent-text underline">
              Open the new webhook to send a test ping
            </Link>
          </p>
        </div>
      ) : null}
      <div className="grid *:min-w-0 gap-6 lg:grid-cols-[1fr_24rem]">
        <Card aria-labelledby="webhooks-heading">
          <h2 id="webhooks-heading" className="mb-3 font-semibold">
            Endpoints
          </h2>
          {hooks.isPending ? <Spinner label="Loading webhooks" /> : null}
          {hooks.isError ? <FailureAlert error={hooks.error} /> : null}
          {hooks.data && !hooks.data.length ? <EmptyState title="No webhooks yet" /> : null}
          {hooks.data?.length ? (
            <ul className="divide-y divide-border" data-testid="webhook-list">
              {hooks.data.map((h) => (
                <li key={h.id} className="flex flex-wrap items-center justify-between gap-2 py-2">
                  <div className="min-w-0">
                    <Link to={`/admin/webhooks/${h.id}`} className="break-all font-medium text-accent-text underline">
                      {h.url}
                    </Link>
                    <p className="text-fg-muted">
                      {h.event_types.includes("*") ? "Every event" : h.event_types.join(", ")} · changed {formatRelative(h.updated_at)}
                    </p>
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
