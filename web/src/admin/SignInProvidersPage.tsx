import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, etag, ok } from "../api/client";
import type { components } from "../api/schema";
import type { Role } from "../api/types";
import { useAuth } from "../auth/AuthProvider";
import { Badge, Button, Card, EmptyState, Field, Input, PageHeader, Select, Spinner, Textarea } from "../components/ui";
import { t } from "../i18n";
import { ROLES } from "../lib/domain";
import { Checkbox } from "./fields";
import { EditorStatus, FailureAlert, useEditor, type Errors } from "./forms";

type Provider = components["schemas"]["ProviderPublic"];

const KEY = ["admin", "identity-providers"] as const;
const SLUG = /^[a-z0-9][a-z0-9-]{0,39}$/;
const CALLBACK = "/v1/auth/sso/oidc/callback";
const ACS = "/v1/auth/sso/saml/callback";
const SP_METADATA = "/v1/auth/sso/saml/metadata";

type Kind = Provider["kind"];

interface SamlConfig {
  entity_id?: string;
  require_signed_assertion?: boolean;
  allow_idp_initiated?: boolean;
  sign_requests?: boolean;
  email_attribute?: string | null;
  name_attribute?: string | null;
}

interface ProviderForm {
  kind: Kind;
  metadata_xml: string;
  require_signed_assertion: boolean;
  allow_idp_initiated: boolean;
  sign_requests: boolean;
  email_attribute: string;
  name_attribute: string;
  name: string;
  slug: string;
  issuer: string;
  client_id: string;
  client_secret: string;
  domains: string;
  enabled: boolean;
  jit_enabled: boolean;
  default_role: Role;
  role_claim: string;
  role_map: string;
}

function toForm(provider: Provider | null): ProviderForm {
  const config = (provider?.config ?? {}) as { issuer?: string; client_id?: string } & SamlConfig;
  return {
    kind: provider?.kind ?? "oidc",
    metadata_xml: "",
    require_signed_assertion: config.require_signed_assertion ?? true,
    allow_idp_initiated: config.allow_idp_initiated ?? false,
    sign_requests: config.sign_requests ?? false,
    email_attribute: config.email_attribute ?? "",
    name_attribute: config.name_attribute ?? "",
    name: provider?.name ?? "",
    slug: provider?.slug ?? "",
    issuer: config.issuer ?? "",
    client_id: config.client_id ?? "",
    client_secret: "",
    domains: (provider?.domains ?? []).join(", "),
    enabled: provider?.enabled ?? true,
    jit_enabled: provider?.jit_enabled ?? true,
    default_role: provider?.default_role ?? "requester",
    role_claim: provider?.role_claim ?? "",
    role_map: Object.entries(provider?.role_map ?? {})
      .map(([value, role]) => `${value} = ${role}`)
      .join("\n"),
  };
}

function parseRoleMap(text: string): Record<string, Role> | null {
  const map: Record<string, Role> = {};
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    const at = line.lastIndexOf("=");
    const value = line.slice(0, at).trim();
    const role = line.slice(at + 1).trim() as Role;
    if (at < 1 || !value || !ROLES.includes(role)) return null;
    map[value] = role;
  }
  return map;
}

function domainsOf(text: string): string[] {
  return text
    .split(",")
    .map((d) => d.trim().toLowerCase())
    .filter(Boolean);
}

function validate(form: ProviderForm, provider: Provider | null): Errors {
  const errors: Errors = {};
  if (!form.name.trim()) errors.name = t("idp.required");
  if (!SLUG.test(form.slug)) errors.slug = t("idp.slugHelp");
  if (form.kind === "oidc") {
    if (!form.issuer.trim()) errors["config.issuer"] = t("idp.required");
    if (!form.client_id.trim()) errors["config.client_id"] = t("idp.required");
  } else if (!provider && !form.metadata_xml.trim()) {
    errors["config.metadata_xml"] = t("idp.required");
  }
  if (parseRoleMap(form.role_map) === null) errors.role_map = t("idp.roleMapFormat");
  return errors;
}

function config(form: ProviderForm): Record<string, unknown> {
  if (form.kind === "oidc") return { issuer: form.issuer.trim(), client_id: form.client_id.trim() };
  return {
    ...(form.metadata_xml.trim() ? { metadata_xml: form.metadata_xml.trim() } : {}),
    require_signed_assertion: form.require_signed_assertion,
    allow_idp_initiated: form.allow_idp_initiated,
    sign_requests: form.sign_requests,
    email_attribute: form.email_attribute.trim() || null,
    name_attribute: form.name_attribute.trim() || null,
  };
}

function body(form: ProviderForm) {
  return {
    name: form.name.trim(),
    slug: form.slug,
    domains: domainsOf(form.domains),
    enabled: form.enabled,
    config: config(form),
    client_secret: form.kind === "oidc" ? form.client_secret || null : null,
    jit_enabled: form.jit_enabled,
    default_role: form.default_role,
    role_claim: form.role_claim.trim() || null,
    role_map: parseRoleMap(form.role_map) ?? {},
  };
}

const PLACED = [
  "name",
  "slug",
  "config.issuer",
  "config.client_id",
  "client_secret",
  "config.metadata_xml",
  "config.sign_requests",
  "config.email_attribute",
  "config.name_attribute",
  "domains",
  "default_role",
  "role_claim",
  "role_map",
];

function ReadOnly({ label, value, testId }: { label: string; value: string; testId: string }) {
  return <Field label={label}>{(p) => <Input {...p} readOnly spellCheck={false} value={value} data-testid={testId} />}</Field>;
}

/** What the admin gives the SAML IdP: our entity id, ACS URL and metadata URL. */
function SamlServiceProvider({ provider }: { provider: Provider | null }) {
  const origin = window.location.origin;
  const metadata = provider?.sp_metadata_url ?? `${origin}${SP_METADATA}`;
  return (
    <fieldset className="space-y-3 rounded border border-border p-3">
      <legend className="px-1 font-medium">{t("idp.saml.giveIdp")}</legend>
      <ReadOnly label={t("idp.saml.entityId")} value={provider?.sp_entity_id ?? metadata} testId="idp-sp-entity-id" />
      <ReadOnly label={t("idp.saml.acsUrl")} value={provider?.redirect_uri ?? `${origin}${ACS}`} testId="idp-acs-url" />
      <ReadOnly label={t("idp.saml.metadataUrl")} value={metadata} testId="idp-sp-metadata-url" />
    </fieldset>
  );
}

function ProviderEditor({ provider, onDone }: { provider: Provider | null; onDone: () => void }) {
  const client = useQueryClient();
  const editor = useEditor<Provider, ProviderForm>({
    entity: provider,
    toForm,
    tag: (p) => etag(p.version),
    validate: (form) => validate(form, provider),
    create: (form, key) => ok(api.POST("/v1/identity-providers", { params: { header: { "Idempotency-Key": key } }, body: { kind: form.kind, ...body(form) } })),
    update: (form, base, ifMatch) =>
      ok(
        api.PATCH("/v1/identity-providers/{provider_id}", {
          params: { path: { provider_id: base.id }, header: { "If-Match": ifMatch } },
          body: { ...body(form), remove_client_secret: false },
        }),
      ),
    reload: () => ok(api.GET("/v1/identity-providers/{provider_id}", { params: { path: { provider_id: provider?.id ?? "" } } })),
    onSaved: () => {
      void client.invalidateQueries({ queryKey: KEY });
      if (!provider) onDone();
    },
  });
  const { form, set, errors } = editor;
  const heading = provider ? t("idp.editTitle", { name: provider.name }) : t("idp.newTitle");
  const saml = form.kind === "saml";
  const idpEntity = (provider?.config as SamlConfig | undefined)?.entity_id;
  const upload = async (file: File | undefined) => {
    if (file) set("metadata_xml", await file.text());
  };
  return (
    <Card aria-labelledby="idp-editor-heading">
      <h2 id="idp-editor-heading" className="mb-3 font-semibold">
        {heading}
      </h2>
      <form className="space-y-3" onSubmit={editor.submit} noValidate>
        {provider ? null : (
          <Field label={t("idp.kind")}>
            {(p) => (
              <Select {...p} value={form.kind} onChange={(e) => set("kind", e.target.value as Kind)}>
                <option value="oidc">{t("idp.kind.oidc")}</option>
                <option value="saml">{t("idp.kind.saml")}</option>
              </Select>
            )}
          </Field>
        )}
        {saml ? (
          <SamlServiceProvider provider={provider} />
        ) : (
          <Field label={t("idp.redirectUri")}>
            {(p) => <Input {...p} readOnly value={provider?.redirect_uri ?? `${window.location.origin}${CALLBACK}`} data-testid="idp-redirect-uri" />}
          </Field>
        )}
        <Field label={t("idp.name")} required error={errors.name} description={t("idp.nameHelp", { name: form.name || "…" })}>
          {(p) => <Input {...p} maxLength={80} value={form.name} onChange={(e) => set("name", e.target.value)} />}
        </Field>
        <Field label={t("idp.slug")} required error={errors.slug} description={t("idp.slugHelp")}>
          {(p) => <Input {...p} maxLength={40} spellCheck={false} value={form.slug} onChange={(e) => set("slug", e.target.value)} />}
        </Field>
        {saml ? (
          <>
            <Field
              label={t("idp.saml.metadata")}
              required={!provider}
              error={errors["config.metadata_xml"]}
              description={idpEntity ? t("idp.saml.metadataKeep", { entity: idpEntity }) : t("idp.saml.metadataHelp")}
            >
              {(p) => <Textarea {...p} rows={5} spellCheck={false} value={form.metadata_xml} onChange={(e) => set("metadata_xml", e.target.value)} />}
            </Field>
            <Field label={t("idp.saml.upload")}>
              {(p) => <input {...p} type="file" accept=".xml,application/xml,text/xml,application/samlmetadata+xml" onChange={(e) => void upload(e.target.files?.[0])} />}
            </Field>
            <Checkbox
              label={t("idp.saml.requireSigned")}
              description={t("idp.saml.requireSignedHelp")}
              checked={form.require_signed_assertion}
              onChange={(v) => set("require_signed_assertion", v)}
            />
            <Checkbox label={t("idp.saml.idpInitiated")} description={t("idp.saml.idpInitiatedHelp")} checked={form.allow_idp_initiated} onChange={(v) => set("allow_idp_initiated", v)} />
            <Checkbox
              label={t("idp.saml.signRequests")}
              description={t("idp.saml.signRequestsHelp")}
              error={errors["config.sign_requests"]}
              checked={form.sign_requests}
              onChange={(v) => set("sign_requests", v)}
            />
            <Field label={t("idp.saml.emailAttribute")} error={errors["config.email_attribute"]} description={t("idp.saml.emailAttributeHelp")}>
              {(p) => <Input {...p} spellCheck={false} maxLength={200} value={form.email_attribute} onChange={(e) => set("email_attribute", e.target.value)} />}
            </Field>
            <Field label={t("idp.saml.nameAttribute")} error={errors["config.name_attribute"]} description={t("idp.saml.nameAttributeHelp")}>
              {(p) => <Input {...p} spellCheck={false} maxLength={200} value={form.name_attribute} onChange={(e) => set("name_attribute", e.target.value)} />}
            </Field>
          </>
        ) : (
          <>
            <Field label={t("idp.issuer")} required error={errors["config.issuer"] ?? errors["discovery.issuer"]} description={t("idp.issuerHelp")}>
              {(p) => <Input {...p} type="url" spellCheck={false} maxLength={500} value={form.issuer} onChange={(e) => set("issuer", e.target.value)} />}
            </Field>
            <Field label={t("idp.clientId")} required error={errors["config.client_id"]}>
              {(p) => <Input {...p} spellCheck={false} maxLength={255} value={form.client_id} onChange={(e) => set("client_id", e.target.value)} />}
            </Field>
            <Field label={t("idp.clientSecret")} error={errors.client_secret} description={provider?.has_secret ? t("idp.clientSecretKeep") : t("idp.clientSecretHelp")}>
              {(p) => <Input {...p} type="password" autoComplete="new-password" maxLength={1024} value={form.client_secret} onChange={(e) => set("client_secret", e.target.value)} />}
            </Field>
          </>
        )}
        <Field label={t("idp.domains")} error={errors.domains} description={t("idp.domainsHelp")}>
          {(p) => <Input {...p} spellCheck={false} value={form.domains} onChange={(e) => set("domains", e.target.value)} />}
        </Field>
        <Checkbox label={t("idp.jit")} description={t("idp.jitHelp")} checked={form.jit_enabled} onChange={(v) => set("jit_enabled", v)} />
        <Field label={t("idp.defaultRole")} error={errors.default_role}>
          {(p) => (
            <Select {...p} value={form.default_role} onChange={(e) => set("default_role", e.target.value as Role)}>
              {ROLES.map((role) => (
                <option key={role} value={role}>
                  {t(`idp.role.${role}`)}
                </option>
              ))}
            </Select>
          )}
        </Field>
        <Field label={t("idp.roleClaim")} error={errors.role_claim} description={t("idp.roleClaimHelp")}>
          {(p) => <Input {...p} spellCheck={false} maxLength={100} value={form.role_claim} onChange={(e) => set("role_claim", e.target.value)} />}
        </Field>
        <Field label={t("idp.roleMap")} error={errors.role_map} description={t("idp.roleMapHelp")}>
          {(p) => <Textarea {...p} rows={3} spellCheck={false} value={form.role_map} onChange={(e) => set("role_map", e.target.value)} />}
        </Field>
        <Checkbox label={t("idp.enabled")} checked={form.enabled} onChange={(v) => set("enabled", v)} />
        <EditorStatus editor={editor} placed={PLACED} savedText={provider ? t("idp.saved") : t("idp.added")} />
        <div className="flex flex-wrap gap-2">
          <Button type="submit" variant="primary" busy={editor.saving}>
            {provider ? t("idp.save") : t("idp.add")}
          </Button>
          {provider ? (
            <Button type="button" onClick={onDone}>
              {t("idp.cancel")}
            </Button>
          ) : null}
        </div>
      </form>
    </Card>
  );
}

function ProviderRow({ provider, tenant, onEdit }: { provider: Provider; tenant: string; onEdit: () => void }) {
  const client = useQueryClient();
  const done = () => client.invalidateQueries({ queryKey: KEY });
  const toggle = useMutation({
    mutationFn: () =>
      ok(
        api.PATCH("/v1/identity-providers/{provider_id}", {
          params: { path: { provider_id: provider.id }, header: { "If-Match": etag(provider.version) } },
          body: { enabled: !provider.enabled, remove_client_secret: false },
        }),
      ),
    onSuccess: done,
  });
  const remove = useMutation({
    mutationFn: () => ok(api.DELETE("/v1/identity-providers/{provider_id}", { params: { path: { provider_id: provider.id } } })),
    onSuccess: done,
  });
  const action = provider.enabled ? t("idp.disable") : t("idp.enable");
  const test = `/v1/auth/sso/${encodeURIComponent(tenant)}/${encodeURIComponent(provider.slug)}/start?return_to=${encodeURIComponent("/admin/sign-in-providers")}`;
  return (
    <li className="space-y-2 py-3">
      <div className="flex flex-wrap items-center justify-between gap-2">
        <div className="min-w-0">
          <p className="font-medium">{provider.name}</p>
          <p className="break-all text-fg-muted">
            {t("idp.summary", { kind: provider.kind.toUpperCase(), slug: provider.slug, domains: provider.domains.join(", ") || t("idp.noDomains") })}
          </p>
          <p className="break-all text-fg-muted">
            {provider.kind === "saml"
              ? t("idp.saml.idpEntity", { entity: (provider.config as SamlConfig).entity_id ?? "" })
              : provider.has_secret
                ? t("idp.secret")
                : t("idp.noSecret")}
          </p>
        </div>
        <div className="flex flex-wrap items-center gap-2">
          {provider.enabled ? <Badge tone="success">{t("idp.on")}</Badge> : <Badge>{t("idp.off")}</Badge>}
          {provider.enabled ? (
            <a className="text-accent-text underline" href={test} aria-label={t("idp.testLabel", { name: provider.name })}>
              {t("idp.test")}
            </a>
          ) : null}
          <Button size="sm" onClick={onEdit} aria-label={t("idp.editLabel", { name: provider.name })}>
            {t("idp.edit")}
          </Button>
          <Button size="sm" busy={toggle.isPending} onClick={() => toggle.mutate()} aria-label={t("idp.toggleLabel", { action, name: provider.name })}>
            {action}
          </Button>
          <Button size="sm" busy={remove.isPending} onClick={() => remove.mutate()} aria-label={t("idp.deleteLabel", { name: provider.name })}>
            {t("idp.delete")}
          </Button>
        </div>
      </div>
      {toggle.isError ? <FailureAlert error={toggle.error} /> : null}
      {remove.isError ? <FailureAlert error={remove.error} /> : null}
    </li>
  );
}

export default function SignInProvidersPage() {
  const { state } = useAuth();
  const tenant = state.status === "signedIn" ? state.me.tenant.slug : "";
  const providers = useQuery({
    queryKey: KEY,
    queryFn: ({ signal }) => ok(api.GET("/v1/identity-providers", { params: { query: { limit: 100 } }, signal })),
    select: (page) => page.items,
  });
  const [editing, setEditing] = useState<string | null>(null);
  const [resetKey, setResetKey] = useState(0);
  const current = providers.data?.find((p) => p.id === editing) ?? null;
  return (
    <>
      <PageHeader title={t("idp.title")}>{t("idp.intro")}</PageHeader>
      <div className="grid *:min-w-0 gap-6 lg:grid-cols-[1fr_26rem]">
        <Card aria-labelledby="idp-list-heading">
          <h2 id="idp-list-heading" className="mb-3 font-semibold">
            {t("idp.listTitle")}
          </h2>
          {providers.isPending ? <Spinner label={t("idp.loading")} /> : null}
          {providers.isError ? <FailureAlert error={providers.error} /> : null}
          {providers.data && !providers.data.length ? <EmptyState title={t("idp.none")}>{t("idp.noneHelp")}</EmptyState> : null}
          {providers.data?.length ? (
            <ul className="divide-y divide-border" data-testid="idp-list">
              {providers.data.map((p) => (
                <ProviderRow key={p.id} provider={p} tenant={tenant} onEdit={() => setEditing(p.id)} />
              ))}
            </ul>
          ) : null}
        </Card>
        {current ? (
          <ProviderEditor key={current.id} provider={current} onDone={() => setEditing(null)} />
        ) : (
          <ProviderEditor key={`new-${resetKey}`} provider={null} onDone={() => setResetKey((k) => k + 1)} />
        )}
      </div>
    </>
  );
}
