import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { api, ok } from "../api/client";
import { ApiError, describeError } from "../api/problem";
import type { components } from "../api/schema";
import { CheckboxGroup, Checkbox } from "../admin/fields";
import { ConfirmDialog } from "../components/ConfirmDialog";
import { EditorStatus, useEditor, type Errors } from "../admin/forms";
import { Alert, Badge, Button, Card, EmptyState, Field, Input, PageHeader, Select, Spinner } from "../components/ui";
import { formatDateTime } from "../lib/format";
import { labelled, t } from "../i18n/cmdb";

type Schemas = components["schemas"];
type Source = Schemas["DiscoverySourcePublic"];
type Run = Schemas["DiscoveryRunPublic"];
type Region = Schemas["DiscoverySourceCreate"]["regions"][number];
type ResourceType = NonNullable<Schemas["DiscoverySourceCreate"]["resource_types"]>[number];
type Interval = Schemas["DiscoverySourceCreate"]["interval"];

const REGIONS: Region[] = [
  "us-east-1",
  "us-east-2",
  "us-west-1",
  "us-west-2",
  "ca-central-1",
  "sa-east-1",
  "eu-west-1",
  "eu-west-2",
  "eu-west-3",
  "eu-central-1",
  "eu-north-1",
  "eu-south-1",
  "ap-south-1",
  "ap-northeast-1",
  "ap-northeast-2",
  "ap-southeast-1",
  "ap-southeast-2",
];
const TYPES: ResourceType[] = [
  "ec2:instance",
  "ec2:vpc",
  "ec2:subnet",
  "ec2:volume",
  "ec2:security-group",
  "s3",
  "rds:db",
  "rds:cluster",
  "lambda:function",
  "dynamodb:table",
  "sqs",
  "sns",
  "elasticloadbalancing:loadbalancer",
  "ecs:cluster",
  "eks:cluster",
];
/** The server's rule (cmdb/discovery_schemas.py): an IAM role named servicedesk-discovery…. */
const ROLE_ARN = /^arn:aws(-cn|-us-gov)?:iam::\d{12}:role\/([\w+=,.@/-]*\/)?servicedesk-discovery[\w+=,.@-]*$/;

const STATUS_LABELS: Record<Run["status"], string> = labelled({
  queued: "cmdb.discovery.status.queued",
  running: "cmdb.discovery.status.running",
  succeeded: "cmdb.discovery.status.succeeded",
  failed: "cmdb.discovery.status.failed",
});
const STATUS_TONES: Record<Run["status"], "neutral" | "info" | "success" | "danger"> = {
  queued: "neutral",
  running: "info",
  succeeded: "success",
  failed: "danger",
};
const TRIGGER_LABELS: Record<Run["trigger"], string> = labelled({
  manual: "cmdb.discovery.trigger.manual",
  schedule: "cmdb.discovery.trigger.schedule",
});

const keys = {
  sources: ["cmdb", "discovery", "sources"] as const,
  runs: (id: string) => ["cmdb", "discovery", "runs", id] as const,
};

function useSources() {
  return useQuery({
    queryKey: keys.sources,
    queryFn: ({ signal }) => ok(api.GET("/v1/cis/discovery-sources", { params: { query: { limit: 100 } }, signal })),
    select: (page) => page.items,
  });
}

const isActive = (run: Run) => run.status === "queued" || run.status === "running";

function loadRuns(sourceId: string, signal: AbortSignal) {
  return ok(api.GET("/v1/cis/discovery-sources/{source_id}/runs", { params: { path: { source_id: sourceId }, query: { limit: 10 } }, signal }));
}

function useRuns(sourceId: string) {
  return useQuery({
    queryKey: keys.runs(sourceId),
    queryFn: ({ signal }) => loadRuns(sourceId, signal),
    select: (page) => page.items,
    // A queued or running run is watched until it ends.
    refetchInterval: (query) => (query.state.data?.items.some(isActive) ? 3000 : false),
  });
}

/** A "Run now" refused with 409 (a run was queued or running) holds only until the runs
 * list, refreshed after the refusal, shows no run in progress: then it is cleared. */
function useClearWhenIdle(sourceId: string, run: { error: unknown; submittedAt: number; reset: () => void }) {
  const refused = run.error instanceof ApiError && run.error.status === 409;
  const runs = useQuery({
    queryKey: keys.runs(sourceId),
    queryFn: ({ signal }) => loadRuns(sourceId, signal),
    enabled: refused,
    refetchInterval: refused ? 3000 : false,
  });
  const { reset, submittedAt } = run;
  const idle = runs.data !== undefined && runs.dataUpdatedAt > submittedAt && !runs.data.items.some(isActive);
  useEffect(() => {
    if (refused && idle) reset();
  }, [refused, idle, reset]);
}

interface SourceForm {
  name: string;
  role_arn: string;
  regions: Region[];
  resource_types: ResourceType[];
  interval: Interval;
  enabled: boolean;
}

function toForm(source: Source | null): SourceForm {
  return {
    name: source?.name ?? "",
    role_arn: source?.role_arn ?? "",
    regions: (source?.regions as Region[] | undefined) ?? [],
    resource_types: (source?.resource_types as ResourceType[] | undefined) ?? [],
    interval: source?.interval ?? "daily",
    enabled: source?.enabled ?? true,
  };
}

function validate(form: SourceForm): Errors {
  const errors: Errors = {};
  if (!form.name.trim()) errors.name = t("fields.required");
  if (!ROLE_ARN.test(form.role_arn.trim())) errors.role_arn = t("cmdb.discovery.roleArnInvalid");
  if (form.regions.length === 0) errors.regions = t("cmdb.discovery.regionsRequired");
  return errors;
}

function body(form: SourceForm) {
  return { ...form, name: form.name.trim(), role_arn: form.role_arn.trim() };
}

/** Create (source null) or edit a source; the server's field errors land on their inputs. */
function SourceEditor({ source, onSaved }: { source: Source | null; onSaved: (saved: Source) => void }) {
  const client = useQueryClient();
  const editor = useEditor<Source, SourceForm>({
    entity: source,
    toForm,
    tag: (s) => String(s.version),
    validate,
    create: (form, key) => ok(api.POST("/v1/cis/discovery-sources", { params: { header: { "Idempotency-Key": key } }, body: body(form) })),
    update: (form, base, ifMatch) =>
      ok(
        api.PATCH("/v1/cis/discovery-sources/{source_id}", {
          params: { path: { source_id: base.id }, header: { "If-Match": ifMatch } },
          body: body(form),
        }),
      ),
    reload: async () => {
      if (!source) return null;
      return ok(api.GET("/v1/cis/discovery-sources/{source_id}", { params: { path: { source_id: source.id } } }));
    },
    onSaved: (saved) => {
      void client.invalidateQueries({ queryKey: keys.sources });
      onSaved(saved);
    },
  });
  const { form, set, errors } = editor;
  const prefix = source ? `edit-${source.id}` : "new";
  return (
    <form className="space-y-3" onSubmit={editor.submit} noValidate aria-labelledby={`${prefix}-heading`}>
      <Field label={t("cmdb.discovery.name")} required error={errors.name}>
        {(p) => <Input {...p} maxLength={100} value={form.name} onChange={(e) => set("name", e.target.value)} />}
      </Field>
      <Field label={t("cmdb.discovery.roleArn")} required error={errors.role_arn} description={t("cmdb.discovery.roleArnHelp")}>
        {(p) => <Input {...p} className="font-mono" maxLength={600} value={form.role_arn} onChange={(e) => set("role_arn", e.target.value)} />}
      </Field>
      <CheckboxGroup
        legend={t("cmdb.discovery.regions")}
        columns
        options={REGIONS.map((r) => ({ value: r, label: r }))}
        value={form.regions}
        onChange={(v) => set("regions", v)}
        error={errors.regions}
      />
      <CheckboxGroup
        legend={t("cmdb.discovery.types")}
        description={t("cmdb.discovery.typesHelp")}
        options={TYPES.map((r) => ({ value: r, label: r }))}
        value={form.resource_types}
        onChange={(v) => set("resource_types", v)}
        error={errors.resource_types}
      />
      <Field label={t("cmdb.discovery.interval")} error={errors.interval}>
        {(p) => (
          <Select {...p} value={form.interval} onChange={(e) => set("interval", e.target.value as Interval)}>
            <option value="hourly">{t("cmdb.discovery.hourly")}</option>
            <option value="daily">{t("cmdb.discovery.daily")}</option>
          </Select>
        )}
      </Field>
      <Checkbox label={t("cmdb.discovery.enabled")} checked={form.enabled} onChange={(v) => set("enabled", v)} />
      <EditorStatus
        editor={editor}
        placed={["name", "role_arn", "regions", "resource_types", "interval"]}
        savedText={source ? t("cmdb.discovery.saved") : t("cmdb.discovery.created")}
      />
      <Button type="submit" variant="primary" busy={editor.saving}>
        {source ? t("cmdb.discovery.save") : t("cmdb.discovery.create")}
      </Button>
    </form>
  );
}

function TrustPolicy({ source }: { source: Source }) {
  const [copied, setCopied] = useState<"" | "done" | "failed">("");
  const policy = JSON.stringify(source.trust_policy, null, 2);
  async function copy() {
    try {
      await navigator.clipboard.writeText(policy);
      setCopied("done");
    } catch {
      setCopied("failed");
    }
  }
  return (
    <div className="space-y-2">
      <p>
        <span className="font-medium">{t("cmdb.discovery.externalId")}: </span>
        <code className="break-all font-mono" data-testid="external-id">
          {source.external_id}
        </code>
      </p>
      <p className="text-fg-muted">{t("cmdb.discovery.externalIdHelp")}</p>
      <h3 id={`policy-${source.id}`} className="font-medium">
        {t("cmdb.discovery.trustPolicy")}
      </h3>
      <pre className="overflow-x-auto rounded bg-surface-muted p-2 font-mono text-sm" aria-labelledby={`policy-${source.id}`} data-testid="trust-policy" tabIndex={0}>
        {policy}
      </pre>
      <div className="flex items-center gap-3">
        <Button size="sm" onClick={() => void copy()}>
          {t("cmdb.discovery.copy")}
        </Button>
        <span role="status" aria-live="polite">
          {copied === "done" ? t("cmdb.discovery.copied") : copied === "failed" ? t("cmdb.discovery.copyFailed") : ""}
        </span>
      </div>
      <p className="text-fg-muted">{t("cmdb.discovery.permissions")}</p>
    </div>
  );
}

function Runs({ source }: { source: Source }) {
  const runs = useRuns(source.id);
  const heading = `runs-${source.id}`;
  return (
    <Card aria-labelledby={heading}>
      <h2 id={heading} className="mb-3 font-semibold">
        {t("cmdb.discovery.runs", { name: source.name })}
      </h2>
      {runs.isPending ? <Spinner /> : null}
      {runs.isError ? <Alert title={t("cmdb.loadFailed")}>{describeError(runs.error)}</Alert> : null}
      {runs.data && runs.data.length === 0 ? <p className="text-fg-muted">{t("cmdb.discovery.noRuns")}</p> : null}
      {runs.data && runs.data.length > 0 ? (
        <div className="overflow-x-auto" aria-live="polite">
          <table className="w-full text-left" data-testid="discovery-runs">
            <caption className="sr-only">{t("cmdb.discovery.runs", { name: source.name })}</caption>
            <thead className="border-b border-border text-fg-muted">
              <tr>
                <th scope="col" className="px-2 py-2">{t("cmdb.discovery.started")}</th>
                <th scope="col" className="px-2 py-2">{t("cmdb.discovery.status")}</th>
                <th scope="col" className="px-2 py-2">{t("cmdb.discovery.counts")}</th>
              </tr>
            </thead>
            <tbody>
              {runs.data.map((run) => (
                <tr key={run.id} className="border-b border-border align-top last:border-b-0">
                  <td className="px-2 py-2">
                    {formatDateTime(run.started_at ?? run.created_at)}
                    <span className="block text-fg-muted">{TRIGGER_LABELS[run.trigger]}</span>
                  </td>
                  <td className="px-2 py-2">
                    <Badge tone={STATUS_TONES[run.status]}>{STATUS_LABELS[run.status]}</Badge>
                  </td>
                  <td className="px-2 py-2">
                    {run.status === "succeeded" ? t("cmdb.discovery.countsText", {
                          resources: run.resources,
                          created: run.created,
                          updated: run.updated,
                          unchanged: run.unchanged,
                          retired: run.retired,
                          relationships: run.relationships,
                        }) : null}
                    {run.truncated ? <span className="block text-fg-muted">{t("cmdb.discovery.truncated")}</span> : null}
                    {run.error ? (
                      <span className="block text-danger-text">
                        {t("cmdb.discovery.error")}: {run.error}
                      </span>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </Card>
  );
}

function DeleteSource({ source, onDeleted }: { source: Source; onDeleted: (message: string) => void }) {
  const client = useQueryClient();
  const [open, setOpen] = useState(false);
  const remove = useMutation({
    mutationFn: () => ok(api.DELETE("/v1/cis/discovery-sources/{source_id}", { params: { path: { source_id: source.id } } })),
    onSuccess: () => {
      setOpen(false);
      client.removeQueries({ queryKey: keys.runs(source.id) });
      void client.invalidateQueries({ queryKey: keys.sources });
      onDeleted(t("cmdb.discovery.deleted", { name: source.name }));
    },
  });
  return (
    <>
      <Button size="sm" variant="danger" onClick={() => setOpen(true)} aria-label={t("cmdb.discovery.delete", { name: source.name })}>
        {t("cmdb.discovery.deleteShort")}
      </Button>
      <ConfirmDialog
        open={open}
        title={t("cmdb.discovery.deleteTitle", { name: source.name })}
        confirmLabel={t("cmdb.form.delete")}
        busy={remove.isPending}
        onConfirm={() => remove.mutate()}
        onClose={() => {
          setOpen(false);
          remove.reset();
        }}
      >
        <p>{t("cmdb.discovery.deleteBody")}</p>
        {remove.isError ? <Alert>{describeError(remove.error)}</Alert> : null}
      </ConfirmDialog>
    </>
  );
}

function SourceRow({
  source,
  selected,
  onSelect,
  onQueued,
  onDeleted,
}: {
  source: Source;
  selected: boolean;
  onSelect: () => void;
  onQueued: (message: string) => void;
  onDeleted: (message: string) => void;
}) {
  const client = useQueryClient();
  const run = useMutation({
    mutationFn: () => ok(api.POST("/v1/cis/discovery-sources/{source_id}/run", { params: { path: { source_id: source.id } } })),
    onSuccess: () => {
      onQueued(t("cmdb.discovery.queued", { name: source.name }));
      void client.invalidateQueries({ queryKey: keys.runs(source.id) });
    },
  });
  const toggle = useMutation({
    mutationFn: () =>
      ok(
        api.PATCH("/v1/cis/discovery-sources/{source_id}", {
          params: { path: { source_id: source.id }, header: { "If-Match": String(source.version) } },
          body: { enabled: !source.enabled },
        }),
      ),
    onSettled: () => client.invalidateQueries({ queryKey: keys.sources }),
  });
  useClearWhenIdle(source.id, run);
  const failure = run.error ?? toggle.error;
  return (
    <tr className="border-b border-border align-top last:border-b-0" aria-current={selected ? "true" : undefined}>
      <td className="px-2 py-2">
        <button type="button" className="font-medium text-accent-text underline" onClick={onSelect} aria-label={t("cmdb.discovery.show", { name: source.name })}>
          {source.name}
        </button>
        <span className="block break-all font-mono text-sm text-fg-muted">{source.role_arn}</span>
        {failure ? <span className="block text-danger-text">{describeError(failure)}</span> : null}
      </td>
      <td className="px-2 py-2">{source.regions.join(", ")}</td>
      <td className="px-2 py-2">
        {source.enabled ? <Badge tone="success">{t("cmdb.discovery.on")}</Badge> : <Badge>{t("cmdb.discovery.off")}</Badge>}{" "}
        {source.interval === "hourly" ? t("cmdb.discovery.hourly") : t("cmdb.discovery.daily")}
      </td>
      <td className="px-2 py-2">{source.last_success_at ? formatDateTime(source.last_success_at) : t("cmdb.discovery.never")}</td>
      <td className="px-2 py-2">
        <div className="flex flex-wrap gap-2">
          <Button size="sm" busy={run.isPending} onClick={() => run.mutate()} aria-label={t("cmdb.discovery.runNowNamed", { name: source.name })}>
            {t("cmdb.discovery.runNow")}
          </Button>
          <Button
            size="sm"
            busy={toggle.isPending}
            onClick={() => toggle.mutate()}
            aria-label={source.enabled ? t("cmdb.discovery.disable", { name: source.name }) : t("cmdb.discovery.enable", { name: source.name })}
          >
            {source.enabled ? t("cmdb.discovery.disableShort") : t("cmdb.discovery.enableShort")}
          </Button>
          <DeleteSource source={source} onDeleted={onDeleted} />
        </div>
      </td>
    </tr>
  );
}

/** /admin/aws-discovery (cmdb:write): the sources, a new one, the selected one's role set-up
 * (external id, trust policy to copy), its edit form and its recent runs. */
export default function DiscoveryPage() {
  const sources = useSources();
  const [selectedId, setSelectedId] = useState<string | null>(null);
  const [announcement, setAnnouncement] = useState("");
  // The new-source form starts blank again after each creation.
  const [created, setCreated] = useState(0);
  const selected = sources.data?.find((s) => s.id === selectedId) ?? null;
  return (
    <>
      <PageHeader title={t("cmdb.discovery.title")}>{t("cmdb.discovery.intro")}</PageHeader>
      <p role="status" aria-live="polite" className="mb-2">
        {announcement}
      </p>
      <div className="grid *:min-w-0 gap-6 lg:grid-cols-[1fr_24rem]">
        <Card aria-labelledby="sources-heading">
          <h2 id="sources-heading" className="mb-3 font-semibold">
            {t("cmdb.discovery.sources")}
          </h2>
          {sources.isPending ? <Spinner label={t("cmdb.discovery.loading")} /> : null}
          {sources.isError ? <Alert title={t("cmdb.loadFailed")}>{describeError(sources.error)}</Alert> : null}
          {sources.data && sources.data.length === 0 ? <EmptyState title={t("cmdb.discovery.none")}>{t("cmdb.discovery.noneHint")}</EmptyState> : null}
          {sources.data && sources.data.length > 0 ? (
            <div className="overflow-x-auto">
              <table className="w-full text-left" data-testid="discovery-sources">
                <caption className="sr-only">{t("cmdb.discovery.sources")}</caption>
                <thead className="border-b border-border text-fg-muted">
                  <tr>
                    <th scope="col" className="px-2 py-2">{t("cmdb.discovery.name")}</th>
                    <th scope="col" className="px-2 py-2">{t("cmdb.discovery.regions")}</th>
                    <th scope="col" className="px-2 py-2">{t("cmdb.discovery.interval")}</th>
                    <th scope="col" className="px-2 py-2">{t("cmdb.discovery.lastSuccess")}</th>
                    <th scope="col" className="px-2 py-2"><span className="sr-only">{t("cmdb.discovery.runNow")}</span></th>
                  </tr>
                </thead>
                <tbody>
                  {sources.data.map((source) => (
                    <SourceRow
                      key={source.id}
                      source={source}
                      selected={source.id === selectedId}
                      onSelect={() => setSelectedId(source.id)}
                      onQueued={setAnnouncement}
                      onDeleted={(message) => {
                        if (source.id === selectedId) setSelectedId(null);
                        setAnnouncement(message);
                      }}
                    />
                  ))}
                </tbody>
              </table>
            </div>
          ) : null}
        </Card>
        <Card aria-labelledby="new-heading">
          <h2 id="new-heading" className="mb-3 font-semibold">
            {t("cmdb.discovery.new")}
          </h2>
          <SourceEditor
            key={created}
            source={null}
            onSaved={(saved) => {
              setSelectedId(saved.id);
              setAnnouncement(t("cmdb.discovery.created"));
              setCreated((n) => n + 1);
            }}
          />
        </Card>
      </div>
      {selected ? (
        <div className="mt-6 grid *:min-w-0 gap-6 lg:grid-cols-2">
          <Card aria-labelledby={`setup-${selected.id}`}>
            <div className="mb-3 flex items-start justify-between gap-2">
              <h2 id={`setup-${selected.id}`} className="font-semibold">
                {t("cmdb.discovery.setup", { name: selected.name })}
              </h2>
              <Button size="sm" onClick={() => setSelectedId(null)}>
                {t("cmdb.discovery.close")}
              </Button>
            </div>
            <TrustPolicy source={selected} />
            <h3 id={`edit-${selected.id}-heading`} className="mb-2 mt-4 font-medium">
              {t("cmdb.discovery.edit", { name: selected.name })}
            </h3>
            <SourceEditor key={selected.id} source={selected} onSaved={() => undefined} />
          </Card>
          <Runs source={selected} />
        </div>
      ) : null}
    </>
  );
}
