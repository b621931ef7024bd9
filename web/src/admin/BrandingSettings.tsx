import { useState, type CSSProperties } from "react";
import { api, idempotencyKey, ok } from "../api/client";
import { ApiError, describeError } from "../api/problem";
import { useMe } from "../auth/AuthProvider";
import { brandingSection, logoUrl, type Branding, type TaggedBranding } from "../branding/branding";
import { Card, Field, Input, Spinner, Textarea } from "../components/ui";
import { t } from "../i18n";
import { postForm } from "../tickets/upload";
import { EditorStatus, type Errors, FailureAlert, FormActions } from "./forms";
import { useSettings, useSettingsForm, type SettingsSection } from "./settings";
import { contrastProblems } from "./contrast";

const section = brandingSection as SettingsSection<Branding>;
const LOGO_TYPES = ["image/png", "image/jpeg", "image/webp"];
const LOGO_MAX_BYTES = 512 * 1024;
const HEX = /^#[0-9a-fA-F]{6}$/;

interface BrandingForm {
  display_name: string;
  primary_color: string;
  accent_color: string;
  welcome_text: string;
  logo_attachment_id: string | null;
}

function toForm(tagged: TaggedBranding | null): BrandingForm {
  const s = tagged?.data;
  return {
    display_name: s?.display_name ?? "",
    primary_color: s?.primary_color ?? "",
    accent_color: s?.accent_color ?? "",
    welcome_text: s?.welcome_text ?? "",
    logo_attachment_id: s?.logo_attachment_id ?? null,
  };
}

function toBody(form: BrandingForm, base: Branding): Branding {
  return {
    ...base,
    display_name: form.display_name.trim() || null,
    primary_color: form.primary_color.trim() || null,
    accent_color: form.accent_color.trim() || null,
    welcome_text: form.welcome_text.trim() || null,
    logo_attachment_id: form.logo_attachment_id,
  };
}

/** What the API would refuse, said before the save (the API checks the same again). */
function validate(form: BrandingForm): Errors {
  const errors: Errors = {};
  for (const name of ["primary_color", "accent_color"] as const) {
    const value = form[name].trim();
    if (!value) continue;
    if (!HEX.test(value)) errors[name] = t("branding.colourFormat");
    else {
      const problems = contrastProblems(name, value);
      if (problems.length) errors[name] = problems.join("; ");
    }
  }
  return errors;
}

async function uploadLogo(file: File): Promise<string> {
  const started = await ok(
    api.POST("/v1/attachments/branding-logo", {
      body: { filename: file.name || "logo", content_type: file.type || "application/octet-stream", size: file.size },
      params: { header: { "Idempotency-Key": idempotencyKey() } },
    }),
  );
  await postForm(started.upload.url, started.upload.fields, file, () => undefined);
  const done = await ok(api.POST("/v1/attachments/{attachment_id}/complete", { params: { path: { attachment_id: started.attachment.id } } }));
  return done.id;
}

/** The shell's header, a button, a link and the welcome as the form would make them. */
function Preview({ form, slug, fallbackName }: { form: BrandingForm; slug: string; fallbackName: string }) {
  const primary = HEX.test(form.primary_color) ? form.primary_color : undefined;
  const accent = HEX.test(form.accent_color) ? form.accent_color : undefined;
  const name = form.display_name.trim() || fallbackName;
  return (
    <figure
      aria-labelledby="branding-preview-caption"
      className="overflow-hidden rounded-md border border-border bg-bg"
      data-testid="branding-preview"
      // The page's own rule (tokens.css, [data-brand-primary]) scoped to the preview, so it
      // shows what each theme would make of the colour.
      data-brand-primary={primary}
      style={primary ? ({ "--sd-brand-primary": primary } as CSSProperties) : undefined}
    >
      <figcaption id="branding-preview-caption" className="sr-only">
        {t("branding.preview")}
      </figcaption>
      <div className="h-1" style={{ background: accent ?? "transparent" }} />
      <div className="flex items-center gap-2 border-b border-border bg-surface px-3 py-2 font-semibold text-fg">
        {form.logo_attachment_id ? <img src={logoUrl(slug, form.logo_attachment_id)} alt="" className="h-6 w-auto" /> : null}
        <span>{name}</span>
      </div>
      <div className="space-y-2 p-3">
        <p className="whitespace-pre-line text-fg">{form.welcome_text.trim() || t("branding.previewWelcome")}</p>
        <div className="flex items-center gap-3">
          <span className="inline-flex h-9 items-center rounded-md bg-accent px-3 font-medium text-accent-fg">
            {t("branding.previewButton")}
          </span>
          <span className="text-accent-text underline">
            {t("branding.previewLink")}
          </span>
        </div>
      </div>
    </figure>
  );
}

function BrandingSettingsForm({ settings }: { settings: TaggedBranding }) {
  const me = useMe();
  const editor = useSettingsForm(section, settings, { toForm, toBody, validate });
  const { form, set, errors } = editor;
  const [logoState, setLogoState] = useState<"idle" | "uploading" | "ready">("idle");
  const [logoError, setLogoError] = useState<string | null>(null);

  async function chooseLogo(file: File | undefined) {
    setLogoError(null);
    if (!file) return;
    if (!LOGO_TYPES.includes(file.type)) return setLogoError(t("branding.logoType"));
    if (file.size > LOGO_MAX_BYTES) return setLogoError(t("branding.logoTooLarge"));
    setLogoState("uploading");
    try {
      set("logo_attachment_id", await uploadLogo(file));
      setLogoState("ready");
    } catch (error) {
      setLogoState("idle");
      setLogoError(error instanceof ApiError ? describeError(error) : String(error));
    }
  }

  const colour = (name: "primary_color" | "accent_color", label: string, help: string) => (
    <Field label={label} error={errors[name]} description={help}>
      {(p) => (
        <div className="flex items-center gap-2">
          <input
            type="color"
            aria-hidden="true"
            tabIndex={-1}
            className="h-10 w-12 shrink-0 rounded-md border border-border-strong bg-surface"
            value={HEX.test(form[name]) ? form[name] : "#1f4fd1"}
            onChange={(e) => set(name, e.target.value)}
          />
          <Input {...p} value={form[name]} placeholder="#1f4fd1" maxLength={7} onChange={(e) => set(name, e.target.value.trim())} />
        </div>
      )}
    </Field>
  );

  return (
    <Card aria-labelledby="branding-settings-heading">
      <h2 id="branding-settings-heading" className="mb-1 font-semibold">
        {t("branding.heading")}
      </h2>
      <p className="mb-3 text-fg-muted">{t("branding.intro")}</p>
      <div className="grid gap-6 *:min-w-0 lg:grid-cols-2">
        <form className="space-y-4" onSubmit={editor.submit} noValidate>
          <Field label={t("branding.displayName")} error={errors.display_name} description={t("branding.displayNameHelp")}>
            {(p) => <Input {...p} value={form.display_name} maxLength={100} onChange={(e) => set("display_name", e.target.value)} />}
          </Field>
          <div className="grid gap-3 *:min-w-0 sm:grid-cols-2">
            {colour("primary_color", t("branding.primary"), t("branding.primaryHelp"))}
            {colour("accent_color", t("branding.accent"), t("branding.accentHelp"))}
          </div>
          <Field label={t("branding.logo")} error={logoError ?? errors.logo_attachment_id} description={t("branding.logoHelp")}>
            {(p) => <input {...p} type="file" accept={LOGO_TYPES.join(",")} onChange={(e) => void chooseLogo(e.target.files?.[0])} className="block w-full text-fg" />}
          </Field>
          {logoState === "uploading" ? <Spinner label={t("branding.logoUploading")} /> : null}
          {logoState === "ready" ? <p role="status" className="text-fg-muted">{t("branding.logoReady")}</p> : null}
          {form.logo_attachment_id ? (
            <button type="button" className="text-accent-text underline" onClick={() => set("logo_attachment_id", null)}>
              {t("branding.logoRemove")}
            </button>
          ) : (
            <p className="text-fg-muted">{t("branding.logoNone")}</p>
          )}
          <Field label={t("branding.welcome")} error={errors.welcome_text} description={t("branding.welcomeHelp")}>
            {(p) => <Textarea {...p} rows={4} maxLength={2000} value={form.welcome_text} onChange={(e) => set("welcome_text", e.target.value)} />}
          </Field>
          <EditorStatus editor={editor} placed={["display_name", "primary_color", "accent_color", "welcome_text", "logo_attachment_id"]} />
          <FormActions editor={editor} saveLabel={t("branding.save")} />
        </form>
        <div>
          <h3 className="mb-2 font-medium">{t("branding.preview")}</h3>
          <Preview form={form} slug={me.tenant.slug} fallbackName={me.tenant.name} />
        </div>
      </div>
    </Card>
  );
}

export function BrandingSettings() {
  const settings = useSettings(section);
  return (
    <>
      {settings.isPending ? <Spinner label={t("branding.heading")} /> : null}
      {settings.isError ? <FailureAlert error={settings.error} /> : null}
      {settings.data ? <BrandingSettingsForm settings={settings.data} /> : null}
    </>
  );
}

