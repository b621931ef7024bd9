import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { useSearchParams } from "react-router";
import { api, etag, idempotencyKey, ok } from "../api/client";
import { ApiError } from "../api/problem";
import type { components } from "../api/schema";
import type { TicketStatus } from "../api/types";
import { Alert, Badge, Button, Card, EmptyState, Field, Input, PageHeader, Select, Spinner } from "../components/ui";
import { t } from "../i18n/admin";
import { ACTIVE_STATUSES, FINISHED_STATUSES } from "../lib/domain";
import { statusLabel } from "../lib/format";
import { FailureAlert, type Errors } from "./forms";
import { SecretNotice } from "./WebhooksPage";

type Integration = components["schemas"]["IntegrationPublic"];
type Kind = Integration["kind"];

const KEY = ["admin", "integrations"] as const;
const TEAMS = ["admin", "integrations", "teams"] as const;

interface ConnectForm {
  kind: Kind;
  name: string;
  owner: string;
  repo: string;
  token: string;
  api_url: string;
  pr_merged_status: string;
  client_id: string;
  client_secret: string;
  signing_secret: string;
  default_channel: string;
  channels: Record<string, string>;
}

const EMPTY: ConnectForm = {
  kind: "github",
  name: "",
  owner: "",
  repo: "",
  token: "",
  api_url: "",
  pr_merged_status: "",
  client_id: "",
  client_secret: "",
  signing_secret: "",
  default_channel: "",
  channels: {},
};

function validate(form: ConnectForm): Errors {
  const errors: Errors = {};
  const required = form.kind === "github" ? (["owner", "repo", "token"] as const) : (["client_id", "client_secret", "signing_secret"] as const);
  if (!form.name.trim()) errors.name = t("admin.integrations.required");
  for (const field of required) if (!form[field].trim()) errors[`${form.kind}.${field}`] = t("admin.integrations.required");
  return errors;
}

function channelsOf(channels: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(channels).filter(([, channel]) => channel.trim()).map(([team, channel]) => [team, channel.trim()]));
}

function body(form: ConnectForm) {
  if (form.kind === "github") {
    return {
      kind: form.kind,
      name: form.name.trim(),
      enabled: true,
      github: {
        owner: form.owner.trim(),
        repo: form.repo.trim(),
        token: form.token,
        api_url: form.api_url.trim() || null,
        pr_merged_status: (form.pr_merged_status || null) as TicketStatus | null,
      },
    };
  }
  return {
    kind: form.kind,
    name: form.name.trim(),
    enabled: true,
    slack: {
      client_id: form.client_id.trim(),
      client_secret: form.client_secret,
      signing_secret: form.signing_secret,
      default_channel: form.default_channel.trim() || null,
      channels: channelsOf(form.channels),
    },
  };
}

function useTeams() {
  return useQuery({
    queryKey: TEAMS,
    queryFn: ({ signal }) => ok(api.GET("/v1/teams", { params: { query: { limit: 100 } }, signal })),
    select: (page) => page.items,
  });
}

function TeamChannels({ value, onChange }: { value: Record<string, string>; onChange: (next: Record<string, string>) => void }) {
  const teams = useTeams();
  if (!teams.data?.length) return null;
  return (
    <fieldset className="space-y-2 rounded border border-border p-3">
      <legend className="px-1 font-medium">{t("admin.integrations.channelPerTeam")}</legend>
      {teams.data.map((team) => (
        <Field key={team.id} label={t("admin.integrations.channelOf", { team: team.name })}>
          {(p) => <Input {...p} spellCheck={false} maxLength={64} value={value[team.id] ?? ""} onChange={(e) => onChange({ ...value, [team.id]: e.target.value })} />}
        </Field>
      ))}
    </fieldset>
  );
}

function Connect({ onCreated }: { onCreated: (secret: string | null) => void }) {
  const client = useQueryClient();
  const [form, setForm] = useState<ConnectForm>(EMPTY);
  const [errors, setErrors] = useState<Errors>({});
  // One key per logical create: a retried submit reuses it, the next connection gets its own.
  const [key, setKey] = useState(idempotencyKey);
  const set = <K extends keyof ConnectForm>(field: K, value: ConnectForm[K]) => setForm((f) => ({ ...f, [field]: value }));
  const create = useMutation({
    mutationFn: () => ok(api.POST("/v1/integrations", { params: { header: { "Idempotency-Key": key } }, body: body(form) })),
    onSuccess: (made) => {
      void client.invalidateQueries({ queryKey: KEY });
      setForm({ ...EMPTY, kind: form.kind });
      setKey(idempotencyKey());
      onCreated(made.webhook_secret ?? null);
    },
    onError: (error) => {
      if (error instanceof ApiError) setErrors(error.fieldErrors);
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const found = validate(form);
    setErrors(found);
    if (!Object.keys(found).length) create.mutate();
  };
  const field = (name: keyof ConnectForm, label: string, options: { required?: boolean; secret?: boolean; help?: string } = {}) => (
    <Field label={label} required={options.required} error={errors[`${form.kind}.${name}`]} description={options.help}>
      {(p) => (
        <Input
          {...p}
          type={options.secret ? "password" : "text"}
          autoComplete={options.secret ? "new-password" : "off"}
          spellCheck={false}
          value={form[name] as string}
          onChange={(e) => set(name, e.target.value)}
        />
      )}
    </Field>
  );
  return (
    <Card aria-labelledby="integration-connect-heading">
      <h2 id="integration-connect-heading" className="mb-3 font-semibold">
        {t("admin.integrations.connect")}
      </h2>
      <form className="space-y-3" onSubmit={submit} noValidate>
        <Field label={t("admin.integrations.kind")}>
          {(p) => (
            <Select {...p} value={form.kind} onChange={(e) => set("kind", e.target.value as Kind)}>
              <option value="github">{t("admin.integrations.kind.github")}</option>
              <option value="slack">{t("admin.integrations.kind.slack")}</option>
            </Select>
          )}
        </Field>
        <Field label={t("admin.integrations.name")} required error={errors.name}>
          {(p) => <Input {...p} maxLength={80} value={form.name} onChange={(e) => set("name", e.target.value)} />}
        </Field>
        {form.kind === "github" ? (
          <>
            {field("owner", t("admin.integrations.owner"), { required: true })}
            {field("repo", t("admin.integrations.repo"), { required: true })}
            {field("token", t("admin.integrations.token"), { required: true, secret: true, help: t("admin.integrations.tokenHelp") })}
            {field("api_url", t("admin.integrations.apiUrl"), { help: t("admin.integrations.apiUrlHelp") })}
            <Field label={t("admin.integrations.prMerged")} description={t("admin.integrations.prMergedHelp")}>
              {(p) => (
                <Select {...p} value={form.pr_merged_status} onChange={(e) => set("pr_merged_status", e.target.value)}>
                  <option value="">{t("admin.integrations.prMergedNone")}</option>
                  {[...ACTIVE_STATUSES, ...FINISHED_STATUSES].map((status) => (
                    <option key={status} value={status}>
                      {statusLabel(status, true)}
                    </option>
                  ))}
                </Select>
              )}
            </Field>
          </>
        ) : (
          <>
            {field("client_id", t("admin.integrations.clientId"), { required: true })}
            {field("client_secret", t("admin.integrations.clientSecret"), { required: true, secret: true })}
            {field("signing_secret", t("admin.integrations.signingSecret"), { required: true, secret: true })}
            {field("default_channel", t("admin.integrations.defaultChannel"), { help: t("admin.integrations.channelHelp") })}
            <TeamChannels value={form.channels} onChange={(next) => set("channels", next)} />
          </>
        )}
        {create.isError && !Object.keys(errors).length ? <FailureAlert error={create.error} /> : null}
        <Button type="submit" variant="primary" busy={create.isPending}>
          {t("admin.integrations.connectButton")}
        </Button>
      </form>
    </Card>
  );
}

function Row({ integration }: { integration: Integration }) {
  const client = useQueryClient();
  const done = () => client.invalidateQueries({ queryKey: KEY });
  const toggle = useMutation({
    mutationFn: () =>
      ok(
        api.PATCH("/v1/integrations/{integration_id}", {
          params: { path: { integration_id: integration.id }, header: { "If-Match": etag(integration.version) } },
          body: { enabled: !integration.enabled },
        }),
      ),
    onSuccess: done,
  });
  const remove = useMutation({
    mutationFn: () => ok(api.DELETE("/v1/integrations/{integration_id}", { params: { path: { integration_id: integration.id } } })),
    onSuccess: done,
  });
  const install = useMutation({
    mutationFn: () => ok(api.POST("/v1/integrations/{integration_id}/slack/install", { params: { path: { integration_id: integration.id } } })),
    onSuccess: (answer) => window.location.assign(answer.authorize_url),
  });
  const config = integration.config as { owner?: string; repo?: string; team_name?: string; pr_merged_status?: string | null };
  const installText = integration.installed ? t("admin.integrations.reinstall") : t("admin.integrations.install");
  const action = integration.enabled ? t("admin.integrations.disable") : t("admin.integrations.enable");
  const where =
    integration.kind === "github"
      ? t("admin.integrations.repoSummary", { repo: `${config.owner ?? ""}/${config.repo ?? ""}` })
      : integration.installed
        ? t("admin.integrations.workspace", { team: config.team_name ?? "" })
        : t("admin.integrations.notInstalled");
  return (
    <li className="space-y-2 py-3">
      <div className="flex flex-wrap items-center justify-between gap-2">
        <div className="min-w-0">
          <p className="font-medium">{integration.name}</p>
          <p className="break-all text-fg-muted">
            {t(`admin.integrations.kind.${integration.kind}`)} · {where}
          </p>
          <p className="break-all text-fg-muted">{t("admin.integrations.inboundUrl", { url: integration.inbound_url })}</p>
        </div>
        <div className="flex flex-wrap items-center gap-2">
          {integration.enabled ? <Badge tone="success">{t("admin.integrations.on")}</Badge> : <Badge>{t("admin.integrations.off")}</Badge>}
          {integration.kind === "slack" ? (
            <Button size="sm" busy={install.isPending} onClick={() => install.mutate()} aria-label={t("admin.integrations.installLabel", { action: installText, name: integration.name })}>
              {installText}
            </Button>
          ) : null}
          <Button size="sm" busy={toggle.isPending} onClick={() => toggle.mutate()} aria-label={t("admin.integrations.toggleLabel", { action, name: integration.name })}>
            {action}
          </Button>
          <Button size="sm" busy={remove.isPending} onClick={() => remove.mutate()} aria-label={t("admin.integrations.disconnectLabel", { name: integration.name })}>
            {t("admin.integrations.disconnect")}
          </Button>
        </div>
      </div>
      {toggle.isError ? <FailureAlert error={toggle.error} /> : null}
      {remove.isError ? <FailureAlert error={remove.error} /> : null}
      {install.isError ? <FailureAlert error={install.error} /> : null}
    </li>
  );
}

const RETURNS = { installing: "admin.integrations.slackInstalling", installed: "admin.integrations.slackInstalling", denied: "admin.integrations.slackDenied" } as const;

export default function IntegrationsPage() {
  const [params] = useSearchParams();
  const returned = params.get("slack");
  const integrations = useQuery({
    queryKey: KEY,
    queryFn: ({ signal }) => ok(api.GET("/v1/integrations", { params: { query: { limit: 100 } }, signal })),
    select: (page) => page.items,
  });
  const [secret, setSecret] = useState<string | null>(null);
  return (
    <>
      <PageHeader title={t("admin.integrations.title")}>{t("admin.integrations.intro")}</PageHeader>
      {returned && returned in RETURNS ? (
        <Alert tone={returned === "denied" ? "warning" : "success"} title={t(RETURNS[returned as keyof typeof RETURNS])} />
      ) : null}
      {secret ? <SecretNotice secret={secret} onDone={() => setSecret(null)} /> : null}
      <div className="grid *:min-w-0 gap-6 lg:grid-cols-[1fr_26rem]">
        <Card aria-labelledby="integration-list-heading">
          <h2 id="integration-list-heading" className="mb-3 font-semibold">
            {t("admin.integrations.listTitle")}
          </h2>
          {integrations.isPending ? <Spinner label={t("admin.integrations.loading")} /> : null}
          {integrations.isError ? <FailureAlert error={integrations.error} /> : null}
          {integrations.data && !integrations.data.length ? <EmptyState title={t("admin.integrations.none")}>{t("admin.integrations.noneHelp")}</EmptyState> : null}
          {integrations.data?.length ? (
            <ul className="divide-y divide-border" data-testid="integration-list">
              {integrations.data.map((integration) => (
                <Row key={integration.id} integration={integration} />
              ))}
            </ul>
          ) : null}
        </Card>
        <Connect onCreated={setSecret} />
      </div>
    </>
  );
}
