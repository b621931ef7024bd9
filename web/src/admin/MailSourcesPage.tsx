import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, ok } from "../api/client";
import type { components } from "../api/schema";
import { Alert, Badge, Button, Card, EmptyState, Field, Input, PageHeader, Select, Spinner } from "../components/ui";
import { formatRelative } from "../lib/format";
import { Checkbox } from "./fields";
import { FailureAlert, useEditor, EditorStatus, type Errors } from "./forms";
import { t } from "../i18n/admin";

type Schemas = components["schemas"];
type MailHook = Schemas["MailHookPublic"];
type MailHookWithSecret = Schemas["MailHookWithSecret"];
type Mailbox = Schemas["MailboxPublic"];
type MailboxTest = Schemas["MailboxTest"];
type Provider = Schemas["MailHookCreate"]["provider"];
type TlsMode = NonNullable<Schemas["MailboxCreate"]["tls_mode"]>;

const keys = {
  hooks: ["admin", "mail", "hooks"] as const,
  mailboxes: ["admin", "mail", "mailboxes"] as const,
};

const PROVIDERS: { value: Provider; label: string; help: string }[] = [
  { value: "mailgun", label: t("admin.mailSources.mailgun"), help: t("admin.mailSources.aRouteSForward") },
  { value: "postmark", label: t("admin.mailSources.postmark"), help: t("admin.mailSources.theInboundWebhookUrl") },
  { value: "sendgrid", label: t("admin.mailSources.sendgrid"), help: t("admin.mailSources.inboundParseWithThe") },
  { value: "generic", label: t("admin.mailSources.genericSignedRawMime"), help: t("admin.mailSources.postTheRawMessage") },
];

/** The URL to give the provider: the API's origin, and Basic credentials where they go in it. */
function hookUrl(hook: MailHook, secret?: string | null): string {
  const origin = window.location.origin;
  if (hook.username && secret) {
    const url = new URL(hook.path, origin);
    url.username = hook.username;
    url.password = secret;
    return url.toString();
  }
  return new URL(hook.path, origin).toString();
}

function useMailHooks() {
  return useQuery({
    queryKey: keys.hooks,
    queryFn: ({ signal }) => ok(api.GET("/v1/mail/hooks", { params: { query: { limit: 100 } }, signal })),
    select: (page) => page.items,
  });
}

function useMailboxes() {
  return useQuery({
    queryKey: keys.mailboxes,
    queryFn: ({ signal }) => ok(api.GET("/v1/mail/mailboxes", { params: { query: { limit: 100 } }, signal })),
    select: (page) => page.items,
  });
}

// --- provider hooks -------------------------------------------------------------------------

interface HookForm {
  provider: Provider;
  name: string;
  signing_key: string;
}

function validateHook(form: HookForm): Errors {
  const errors: Errors = {};
  if (!form.name.trim()) errors.name = t("fields.required");
  if (form.provider === "mailgun" && form.signing_key.trim().length < 8) errors.signing_key = t("admin.mailSources.mailgunSHttpWebhook");
  return errors;
}

function NewHookForm({ onCreated }: { onCreated: (hook: MailHookWithSecret) => void }) {
  const editor = useEditor<MailHookWithSecret, HookForm>({
    entity: null,
    toForm: () => ({ provider: "generic", name: "", signing_key: "" }),
    tag: (h) => String(h.version),
    validate: validateHook,
    create: (form, key) =>
      ok(
        api.POST("/v1/mail/hooks", {
          params: { header: { "Idempotency-Key": key } },
          body: {
            provider: form.provider,
            name: form.name.trim(),
            enabled: true,
            signing_key: form.provider === "mailgun" ? form.signing_key.trim() : null,
          },
        }),
      ),
    onSaved: (hook) => onCreated(hook),
  });
  const provider = PROVIDERS.find((p) => p.value === editor.form.provider);
  return (
    <Card aria-labelledby="new-hook-heading">
      <h2 id="new-hook-heading" className="mb-3 font-semibold">
        {t("admin.mailSources.newProviderHook")}
      </h2>
      <form className="space-y-3" onSubmit={editor.submit} noValidate>
        <Field label={t("admin.mailSources.provider")} required description={provider?.help}>
          {(p) => (
            <Select {...p} value={editor.form.provider} onChange={(e) => editor.set("provider", e.target.value as Provider)}>
              {PROVIDERS.map((option) => (
                <option key={option.value} value={option.value}>
                  {option.label}
                </option>
              ))}
            </Select>
          )}
        </Field>
        <Field label={t("admin.mailSources.name")} required error={editor.errors.name}>
          {(p) => <Input {...p} maxLength={200} value={editor.form.name} onChange={(e) => editor.set("name", e.target.value)} />}
        </Field>
        {editor.form.provider === "mailgun" ? (
          <Field label={t("admin.mailSources.signingKey")} required error={editor.errors.signing_key} description={t("admin.mailSources.mailgunSendingWebhooksHttp")}>
            {(p) => <Input {...p} type="password" autoComplete="off" maxLength={256} value={editor.form.signing_key} onChange={(e) => editor.set("signing_key", e.target.value)} />}
          </Field>
        ) : null}
        <EditorStatus editor={editor} placed={["provider", "name", "signing_key"]} savedText={t("admin.mailSources.hookCreated")} />
        <Button type="submit" variant="primary" busy={editor.saving}>
          {t("admin.mailSources.createHook")}
        </Button>
      </form>
    </Card>
  );
}

function CreatedHook({ hook, onDone }: { hook: MailHookWithSecret; onDone: () => void }) {
  return (
    <Alert
      tone="warning"
      title={hook.secret ? t("admin.mailSources.giveTheProviderThis") : t("admin.mailSources.giveMailgunThisUrl")}
      action={
        <Button size="sm" onClick={onDone}>
          {t("admin.mailSources.done")}
        </Button>
      }
    >
      <p className="mt-1">{PROVIDERS.find((p) => p.value === hook.provider)?.help}</p>
      <code className="mt-2 block break-all rounded bg-surface px-2 py-1 font-mono text-fg" data-testid="hook-url">
        {hookUrl(hook, hook.username ? hook.secret : null)}
      </code>
      {hook.secret && !hook.username ? (
        <p className="mt-2">
          {t("admin.mailSources.signingSecret")}{" "}
          <code className="break-all rounded bg-surface px-2 py-1 font-mono text-fg" data-testid="hook-secret">
            {hook.secret}
          </code>
        </p>
      ) : null}
    </Alert>
  );
}

function HookRow({ hook }: { hook: MailHook }) {
  const client = useQueryClient();
  const remove = useMutation({
    mutationFn: () => ok(api.DELETE("/v1/mail/hooks/{hook_id}", { params: { path: { hook_id: hook.id } } })),
    onSuccess: () => client.invalidateQueries({ queryKey: keys.hooks }),
  });
  return (
    <li className="flex flex-wrap items-center justify-between gap-2 py-2">
      <div className="min-w-0">
        <p className="font-medium">
          {hook.name} <span className="text-fg-muted">· {PROVIDERS.find((p) => p.value === hook.provider)?.label}</span>
        </p>
        <p className="break-all font-mono text-fg-muted">{hook.path}</p>
        <p className="text-fg-muted">{hook.last_received_at ? t("admin.mailSources.lastMailWhen", { when: formatRelative(hook.last_received_at) }) : t("admin.mailSources.noMailYet")}</p>
        {remove.isError ? <FailureAlert error={remove.error} /> : null}
      </div>
      <div className="flex items-center gap-2">
        {hook.enabled ? <Badge tone="success">{t("admin.mailSources.on")}</Badge> : <Badge>{t("admin.mailSources.off")}</Badge>}
        <Button size="sm" busy={remove.isPending} onClick={() => remove.mutate()} aria-label={t("admin.mailSources.deleteHookName", { name: hook.name })}>
          {t("admin.mailSources.delete")}
        </Button>
      </div>
    </li>
  );
}

function Hooks() {
  const hooks = useMailHooks();
  const client = useQueryClient();
  const [created, setCreated] = useState<MailHookWithSecret | null>(null);
  const [resetKey, setResetKey] = useState(0);
  return (
    <>
      {created ? (
        <div className="mb-4">
          <CreatedHook hook={created} onDone={() => setCreated(null)} />
        </div>
      ) : null}
      <div className="grid *:min-w-0 gap-6 lg:grid-cols-[1fr_24rem]">
        <Card aria-labelledby="hooks-heading">
          <h2 id="hooks-heading" className="mb-3 font-semibold">
            {t("admin.mailSources.providerHooks")}
          </h2>
          {hooks.isPending ? <Spinner label={t("admin.mailSources.loadingHooks")} /> : null}
          {hooks.isError ? <FailureAlert error={hooks.error} /> : null}
          {hooks.data && !hooks.data.length ? <EmptyState title={t("admin.mailSources.noProviderHooksYet")}>{t("admin.mailSources.mailAtMailgunPostmark")}</EmptyState> : null}
          {hooks.data?.length ? (
            <ul className="divide-y divide-border" data-testid="hook-list">
              {hooks.data.map((h) => (
                <HookRow key={h.id} hook={h} />
              ))}
            </ul>
          ) : null}
        </Card>
        <NewHookForm
          key={resetKey}
          onCreated={(hook) => {
            void client.invalidateQueries({ queryKey: keys.hooks });
            setCreated(hook);
            setResetKey((k) => k + 1);
          }}
        />
      </div>
    </>
  );
}

// --- IMAP mailboxes -------------------------------------------------------------------------

interface MailboxForm {
  name: string;
  host: string;
  port: string;
  tls_mode: TlsMode;
  username: string;
  password: string;
  folder: string;
  enabled: boolean;
}

function validateMailbox(form: MailboxForm): Errors {
  const errors: Errors = {};
  if (!form.name.trim()) errors.name = t("fields.required");
  if (!form.host.trim()) errors.host = t("fields.required");
  const port = Number(form.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) errors.port = t("admin.mailSources.aPortFrom1");
  if (!form.username.trim()) errors.username = t("fields.required");
  if (!form.password) errors.password = t("fields.required");
  if (!form.folder.trim()) errors.folder = t("fields.required");
  return errors;
}

function NewMailboxForm({ onCreated }: { onCreated: () => void }) {
  const editor = useEditor<Mailbox, MailboxForm>({
    entity: null,
    toForm: () => ({ name: "", host: "", port: "993", tls_mode: "implicit", username: "", password: "", folder: "INBOX", enabled: true }),
    tag: (m) => String(m.version),
    validate: validateMailbox,
    create: (form, key) =>
      ok(
        api.POST("/v1/mail/mailboxes", {
          params: { header: { "Idempotency-Key": key } },
          body: {
            name: form.name.trim(),
            host: form.host.trim(),
            port: Number(form.port),
            tls_mode: form.tls_mode,
            username: form.username.trim(),
            password: form.password,
            folder: form.folder.trim(),
            enabled: form.enabled,
          },
        }),
      ),
    onSaved: () => onCreated(),
  });
  const { form, set, errors } = editor;
  return (
    <Card aria-labelledby="new-mailbox-heading">
      <h2 id="new-mailbox-heading" className="mb-3 font-semibold">
        {t("admin.mailSources.newImapMailbox")}
      </h2>
      <form className="space-y-3" onSubmit={editor.submit} noValidate>
        <Field label={t("admin.mailSources.name")} required error={errors.name}>
          {(p) => <Input {...p} maxLength={200} value={form.name} onChange={(e) => set("name", e.target.value)} />}
        </Field>
        <Field label={t("admin.mailSources.server")} required error={errors.host} description={t("admin.mailSources.hostNameOfThe")}>
          {(p) => <Input {...p} spellCheck={false} maxLength={253} value={form.host} onChange={(e) => set("host", e.target.value)} />}
        </Field>
        <div className="grid grid-cols-2 gap-3">
          <Field label={t("admin.mailSources.port")} required error={errors.port}>
            {(p) => <Input {...p} inputMode="numeric" value={form.port} onChange={(e) => set("port", e.target.value)} />}
          </Field>
          <Field label={t("admin.mailSources.encryption")} required>
            {(p) => (
              <Select
                {...p}
                value={form.tls_mode}
                onChange={(e) => {
                  const mode = e.target.value as TlsMode;
                  set("tls_mode", mode);
                  set("port", mode === "implicit" ? "993" : "143");
                }}
              >
                <option value="implicit">{t("admin.mailSources.tls993")}</option>
                <option value="starttls">{t("admin.mailSources.starttls143")}</option>
              </Select>
            )}
          </Field>
        </div>
        <Field label={t("admin.mailSources.userName")} required error={errors.username}>
          {(p) => <Input {...p} autoComplete="off" spellCheck={false} maxLength={320} value={form.username} onChange={(e) => set("username", e.target.value)} />}
        </Field>
        <Field label={t("admin.mailSources.password")} required error={errors.password} description={t("admin.mailSources.storedInSecretsManager")}>
          {(p) => <Input {...p} type="password" autoComplete="new-password" maxLength={1024} value={form.password} onChange={(e) => set("password", e.target.value)} />}
        </Field>
        <Field label={t("admin.mailSources.folder")} required error={errors.folder}>
          {(p) => <Input {...p} maxLength={200} value={form.folder} onChange={(e) => set("folder", e.target.value)} />}
        </Field>
        <Checkbox label={t("admin.mailSources.pollThisMailbox")} checked={form.enabled} onChange={(v) => set("enabled", v)} />
        <EditorStatus editor={editor} placed={["name", "host", "port", "tls_mode", "username", "password", "folder"]} savedText={t("admin.mailSources.mailboxAdded")} />
        <Button type="submit" variant="primary" busy={editor.saving}>
          {t("admin.mailSources.addMailbox")}
        </Button>
      </form>
    </Card>
  );
}

function MailboxState({ mailbox }: { mailbox: Mailbox }) {
  if (!mailbox.enabled) return <Badge>{t("admin.mailSources.off")}</Badge>;
  if (mailbox.consecutive_failures > 0) return <Badge tone="danger">{t("admin.mailSources.failingConsecutivefailures", { consecutivefailures: mailbox.consecutive_failures })}</Badge>;
  if (!mailbox.last_polled_at) return <Badge tone="info">{t("admin.mailSources.waiting")}</Badge>;
  return <Badge tone="success">{t("admin.mailSources.polling")}</Badge>;
}

function MailboxRow({ mailbox }: { mailbox: Mailbox }) {
  const client = useQueryClient();
  const test = useMutation({
    mutationFn: (): Promise<MailboxTest> => ok(api.POST("/v1/mail/mailboxes/{mailbox_id}/test", { params: { path: { mailbox_id: mailbox.id } } })),
  });
  const remove = useMutation({
    mutationFn: () => ok(api.DELETE("/v1/mail/mailboxes/{mailbox_id}", { params: { path: { mailbox_id: mailbox.id } } })),
    onSuccess: () => client.invalidateQueries({ queryKey: keys.mailboxes }),
  });
  return (
    <li className="space-y-2 py-3">
      <div className="flex flex-wrap items-center justify-between gap-2">
        <div className="min-w-0">
          <p className="font-medium">{mailbox.name}</p>
          <p className="break-all text-fg-muted">{t("admin.mailSources.usernameAtHostPort", { username: mailbox.username, host: mailbox.host, port: mailbox.port, folder: mailbox.folder, value: mailbox.tls_mode === "implicit" ? "TLS" : "STARTTLS" })}</p>
          <p className="text-fg-muted">{t("admin.mailSources.valueMessagestakenTaken", { value: mailbox.last_polled_at ? `polled ${formatRelative(mailbox.last_polled_at)}` : "not polled yet", messagestaken: mailbox.messages_taken })}</p>
        </div>
        <div className="flex flex-wrap items-center gap-2">
          <MailboxState mailbox={mailbox} />
          <Button size="sm" busy={test.isPending} onClick={() => test.mutate()} aria-label={t("admin.mailSources.testConnectionToName", { name: mailbox.name })}>
            {t("admin.mailSources.testConnection")}
          </Button>
          <Button size="sm" busy={remove.isPending} onClick={() => remove.mutate()} aria-label={t("admin.mailSources.deleteMailboxName", { name: mailbox.name })}>
            {t("admin.mailSources.delete")}
          </Button>
        </div>
      </div>
      {mailbox.last_error ? (
        <Alert tone="danger" title={t("admin.mailSources.lastError")}>
          <p className="break-all">{mailbox.last_error}</p>
        </Alert>
      ) : null}
      <div aria-live="polite">
        {test.data ? (
          test.data.ok ? (
            <Alert tone="success" title={t("admin.mailSources.connected")}>
              <p>{t("admin.mailSources.unseenUnreadMessageS", { unseen: test.data.unseen ?? 0, folder: mailbox.folder })}</p>
            </Alert>
          ) : (
            <Alert tone="danger" title={t("admin.mailSources.couldNotConnect")}>
              <p className="break-all">{test.data.error}</p>
            </Alert>
          )
        ) : null}
      </div>
      {test.isError ? <FailureAlert error={test.error} /> : null}
      {remove.isError ? <FailureAlert error={remove.error} /> : null}
    </li>
  );
}

function Mailboxes() {
  const mailboxes = useMailboxes();
  const client = useQueryClient();
  const [resetKey, setResetKey] = useState(0);
  return (
    <div className="grid *:min-w-0 gap-6 lg:grid-cols-[1fr_24rem]">
      <Card aria-labelledby="mailboxes-heading">
        <h2 id="mailboxes-heading" className="mb-3 font-semibold">
          {t("admin.mailSources.imapMailboxes")}
        </h2>
        {mailboxes.isPending ? <Spinner label={t("admin.mailSources.loadingMailboxes")} /> : null}
        {mailboxes.isError ? <FailureAlert error={mailboxes.error} /> : null}
        {mailboxes.data && !mailboxes.data.length ? <EmptyState title={t("admin.mailSources.noMailboxesYet")}>{t("admin.mailSources.unreadMailInA")}</EmptyState> : null}
        {mailboxes.data?.length ? (
          <ul className="divide-y divide-border" data-testid="mailbox-list">
            {mailboxes.data.map((m) => (
              <MailboxRow key={m.id} mailbox={m} />
            ))}
          </ul>
        ) : null}
      </Card>
      <NewMailboxForm
        key={resetKey}
        onCreated={() => {
          void client.invalidateQueries({ queryKey: keys.mailboxes });
          setResetKey((k) => k + 1);
        }}
      />
    </div>
  );
}

export default function MailSourcesPage() {
  return (
    <>
      <PageHeader title={t("admin.mailSources.mailSources")}>{t("admin.mailSources.mailThatReachesYour")}</PageHeader>
      <div className="space-y-8">
        <Hooks />
        <Mailboxes />
      </div>
    </>
  );
}
