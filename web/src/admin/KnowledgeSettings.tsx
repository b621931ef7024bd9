import { api } from "../api/client";
import type { components } from "../api/schema";
import { Card, Field, Input, Spinner } from "../components/ui";
import { okTagged, type Tagged } from "./api";
import { Checkbox, toInt } from "./fields";
import { EditorStatus, type Errors, FailureAlert, FormActions } from "./forms";
import { useSettings, useSettingsForm, type SettingsSection } from "./settings";
import { t } from "../i18n/admin";

type KbSettings = components["schemas"]["KbSettings"];
type AssistantSettings = components["schemas"]["AssistantSettings"];

export const kbSettings: SettingsSection<KbSettings> = {
  key: ["admin", "settings", "kb"],
  get: (signal) => okTagged(api.GET("/v1/settings/kb", { signal })),
  put: (body, ifMatch) => okTagged(api.PUT("/v1/settings/kb", { params: { header: { "If-Match": ifMatch } }, body })),
};

export const assistantSettings: SettingsSection<AssistantSettings> = {
  key: ["admin", "settings", "assistant"],
  get: (signal) => okTagged(api.GET("/v1/assistant/settings", { signal })),
  put: (body, ifMatch) => okTagged(api.PUT("/v1/assistant/settings", { params: { header: { "If-Match": ifMatch } }, body })),
};

interface KbForm {
  require_review: boolean;
  deflection_enabled: boolean;
  drafts_from_tickets: boolean;
  suggestions: string;
  activity_retention_days: string;
}

function kbForm(tagged: Tagged<KbSettings> | null): KbForm {
  const s = tagged?.data;
  return {
    require_review: s?.require_review ?? true,
    deflection_enabled: s?.deflection_enabled ?? true,
    drafts_from_tickets: s?.drafts_from_tickets ?? true,
    suggestions: String(s?.suggestions ?? 5),
    activity_retention_days: String(s?.activity_retention_days ?? 400),
  };
}

function wholeIn(text: string, min: number, max: number): boolean {
  const n = toInt(text);
  return n !== null && n >= min && n <= max;
}

function KbSettingsForm({ settings }: { settings: Tagged<KbSettings> }) {
  const editor = useSettingsForm(kbSettings, settings, {
    toForm: kbForm,
    toBody: (form, base) => ({
      ...base,
      ...form,
      suggestions: Number(form.suggestions),
      activity_retention_days: Number(form.activity_retention_days),
    }),
    validate: (form) => {
      const errors: Errors = {};
      if (!wholeIn(form.suggestions, 1, 10)) errors.suggestions = t("admin.knowledgeSettings.aWholeNumberFrom");
      if (!wholeIn(form.activity_retention_days, 30, 3650)) errors.activity_retention_days = t("admin.knowledgeSettings.aWholeNumberFrom2");
      return errors;
    },
  });
  const { form, set, errors } = editor;
  return (
    <Card aria-labelledby="kb-settings-heading">
      <h2 id="kb-settings-heading" className="mb-3 font-semibold">
        {t("admin.knowledgeSettings.knowledgeBase")}
      </h2>
      <form className="space-y-4" onSubmit={editor.submit} noValidate>
        <Checkbox
          label={t("admin.knowledgeSettings.articlesAreReviewedBefore")}
          description={t("admin.knowledgeSettings.agentsSubmitAManager")}
          checked={form.require_review}
          onChange={(v) => set("require_review", v)}
          error={errors.require_review}
        />
        <Checkbox
          label={t("admin.knowledgeSettings.suggestArticlesWhileA")}
          description={t("admin.knowledgeSettings.requestersSeeMatchingArticles")}
          checked={form.deflection_enabled}
          onChange={(v) => set("deflection_enabled", v)}
          error={errors.deflection_enabled}
        />
        <Checkbox
          label={t("admin.knowledgeSettings.proposeADraftArticle")}
          checked={form.drafts_from_tickets}
          onChange={(v) => set("drafts_from_tickets", v)}
          error={errors.drafts_from_tickets}
        />
        <Field label={t("admin.knowledgeSettings.articlesSuggested")} error={errors.suggestions} description={t("admin.knowledgeSettings.onTheNewRequest")}>
          {(p) => <Input {...p} inputMode="numeric" className="max-w-32" value={form.suggestions} onChange={(e) => set("suggestions", e.target.value)} />}
        </Field>
        <Field
          label={t("admin.knowledgeSettings.daysToKeepSearch")}
          error={errors.activity_retention_days}
          description={t("admin.knowledgeSettings.theSearchLogAnd")}
        >
          {(p) => (
            <Input {...p} inputMode="numeric" className="max-w-32" value={form.activity_retention_days} onChange={(e) => set("activity_retention_days", e.target.value)} />
          )}
        </Field>
        <EditorStatus editor={editor} placed={["require_review", "deflection_enabled", "drafts_from_tickets", "suggestions", "activity_retention_days"]} />
        <FormActions editor={editor} saveLabel={t("admin.knowledgeSettings.saveKnowledgeBaseSettings")} />
      </form>
    </Card>
  );
}

interface AssistantForm {
  enabled: boolean;
  monthly_token_budget: string;
  messages_per_minute: string;
}

function AssistantSettingsForm({ settings }: { settings: Tagged<AssistantSettings> }) {
  const editor = useSettingsForm(assistantSettings, settings, {
    toForm: (tagged): AssistantForm => ({
      enabled: tagged?.data.enabled ?? true,
      monthly_token_budget: String(tagged?.data.monthly_token_budget ?? 2_000_000),
      messages_per_minute: String(tagged?.data.messages_per_minute ?? 10),
    }),
    toBody: (form, base) => ({
      ...base,
      enabled: form.enabled,
      monthly_token_budget: Number(form.monthly_token_budget),
      messages_per_minute: Number(form.messages_per_minute),
    }),
    validate: (form) => {
      const errors: Errors = {};
      if (!wholeIn(form.monthly_token_budget, 0, 10_000_000_000)) errors.monthly_token_budget = t("admin.knowledgeSettings.aWholeNumberFrom3");
      if (!wholeIn(form.messages_per_minute, 1, 600)) errors.messages_per_minute = t("admin.knowledgeSettings.aWholeNumberFrom4");
      return errors;
    },
  });
  const { form, set, errors } = editor;
  return (
    <Card aria-labelledby="assistant-settings-heading">
      <h2 id="assistant-settings-heading" className="mb-3 font-semibold">
        {t("admin.knowledgeSettings.aiAssistant")}
      </h2>
      <form className="space-y-4" onSubmit={editor.submit} noValidate>
        <Checkbox
          label={t("admin.knowledgeSettings.offerTheAssistantIn")}
          checked={form.enabled}
          onChange={(v) => set("enabled", v)}
          error={errors.enabled}
        />
        <div className="grid *:min-w-0 gap-3 sm:grid-cols-2">
          <Field label={t("admin.knowledgeSettings.tokensAMonth")} error={errors.monthly_token_budget} description={t("admin.knowledgeSettings.whatTheModelMay")}>
            {(p) => <Input {...p} inputMode="numeric" value={form.monthly_token_budget} onChange={(e) => set("monthly_token_budget", e.target.value)} />}
          </Field>
          <Field label={t("admin.knowledgeSettings.messagesPerPersonPer")} error={errors.messages_per_minute}>
            {(p) => <Input {...p} inputMode="numeric" value={form.messages_per_minute} onChange={(e) => set("messages_per_minute", e.target.value)} />}
          </Field>
        </div>
        <EditorStatus editor={editor} placed={["enabled", "monthly_token_budget", "messages_per_minute"]} />
        <FormActions editor={editor} saveLabel={t("admin.knowledgeSettings.saveAssistantSettings")} />
      </form>
    </Card>
  );
}

/** The knowledge base's and the assistant's sections of the tenant settings page. */
export function KnowledgeSettings() {
  const kb = useSettings(kbSettings);
  const assistant = useSettings(assistantSettings);
  return (
    <>
      {kb.isPending ? <Spinner label={t("admin.knowledgeSettings.loadingKnowledgeBaseSettings")} /> : null}
      {kb.isError ? <FailureAlert error={kb.error} /> : null}
      {kb.data ? <KbSettingsForm settings={kb.data} /> : null}
      {assistant.isPending ? <Spinner label={t("admin.knowledgeSettings.loadingAssistantSettings")} /> : null}
      {assistant.isError ? <FailureAlert error={assistant.error} /> : null}
      {assistant.data ? <AssistantSettingsForm settings={assistant.data} /> : null}
    </>
  );
}
