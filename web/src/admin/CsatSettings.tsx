import { api } from "../api/client";
import type { components } from "../api/schema";
import { Card, Field, Input, Select, Spinner } from "../components/ui";
import { okTagged, type Tagged } from "./api";
import { Checkbox, toInt } from "./fields";
import { EditorStatus, type Errors, FailureAlert, FormActions } from "./forms";
import { useSettings, useSettingsForm, type SettingsSection } from "./settings";
import { t } from "../i18n/admin";

type Csat = components["schemas"]["CsatSettings"];

export const csatSettings: SettingsSection<Csat> = {
  key: ["admin", "settings", "csat"],
  get: (signal) => okTagged(api.GET("/v1/settings/csat", { signal })),
  put: (body, ifMatch) => okTagged(api.PUT("/v1/settings/csat", { params: { header: { "If-Match": ifMatch } }, body })),
};

interface CsatForm {
  enabled: boolean;
  question: string;
  scale: Csat["scale"];
  delay_minutes: string;
  expires_days: string;
}

/** A week: servicedesk/csat/settings.py MAX_DELAY_MINUTES. */
const MAX_DELAY_MINUTES = 10080;

function inRange(text: string, min: number, max: number): boolean {
  const n = toInt(text);
  return n !== null && n >= min && n <= max;
}

function CsatSettingsForm({ settings }: { settings: Tagged<Csat> }) {
  const editor = useSettingsForm(csatSettings, settings, {
    toForm: (tagged): CsatForm => ({
      enabled: tagged?.data.enabled ?? true,
      question: tagged?.data.question ?? "",
      scale: tagged?.data.scale ?? "1-5",
      delay_minutes: String(tagged?.data.delay_minutes ?? 0),
      expires_days: String(tagged?.data.expires_days ?? 30),
    }),
    toBody: (form, base) => ({
      ...base,
      enabled: form.enabled,
      question: form.question.trim(),
      scale: form.scale,
      delay_minutes: Number(form.delay_minutes),
      expires_days: Number(form.expires_days),
    }),
    validate: (form) => {
      const errors: Errors = {};
      const question = form.question.trim();
      if (!question || question.length > 200) errors.question = t("admin.csatSettings.1To200Characters");
      if (!inRange(form.delay_minutes, 0, MAX_DELAY_MINUTES)) errors.delay_minutes = t("admin.csatSettings.aWholeNumberFrom", { MAX_DELAY_MINUTES });
      if (!inRange(form.expires_days, 1, 365)) errors.expires_days = t("admin.csatSettings.aWholeNumberFrom2");
      return errors;
    },
  });
  const { form, set, errors } = editor;
  return (
    <Card aria-labelledby="csat-settings-heading">
      <h2 id="csat-settings-heading" className="mb-3 font-semibold">
        {t("admin.csatSettings.satisfactionSurveys")}
      </h2>
      <form className="space-y-4" onSubmit={editor.submit} noValidate>
        <Checkbox
          label={t("admin.csatSettings.askTheRequesterTo")}
          checked={form.enabled}
          onChange={(v) => set("enabled", v)}
          error={errors.enabled}
        />
        <Field label={t("admin.csatSettings.question")} error={errors.question} description={t("admin.csatSettings.shownInTheE")}>
          {(p) => <Input {...p} maxLength={200} value={form.question} onChange={(e) => set("question", e.target.value)} />}
        </Field>
        <Field
          label={t("admin.csatSettings.ratingScale")}
          error={errors.scale}
          description={t("admin.csatSettings.goodOrBadTwo")}
        >
          {(p) => (
            <Select {...p} className="max-w-64" value={form.scale} onChange={(e) => set("scale", e.target.value as CsatForm["scale"])}>
              <option value="1-5">{t("admin.csatSettings.1To5Very")}</option>
              <option value="good-bad">{t("admin.csatSettings.goodOrBad")}</option>
            </Select>
          )}
        </Field>
        <Field
          label={t("admin.csatSettings.minutesToWaitBefore")}
          error={errors.delay_minutes}
          description={t("admin.csatSettings.0SendsTheSurvey")}
        >
          {(p) => <Input {...p} inputMode="numeric" className="max-w-32" value={form.delay_minutes} onChange={(e) => set("delay_minutes", e.target.value)} />}
        </Field>
        <Field label={t("admin.csatSettings.daysASurveyLink")} error={errors.expires_days}>
          {(p) => <Input {...p} inputMode="numeric" className="max-w-32" value={form.expires_days} onChange={(e) => set("expires_days", e.target.value)} />}
        </Field>
        <EditorStatus editor={editor} placed={["enabled", "question", "scale", "delay_minutes", "expires_days"]} />
        <FormActions editor={editor} saveLabel={t("admin.csatSettings.saveSurveySettings")} />
      </form>
    </Card>
  );
}

/** The satisfaction surveys' section of the tenant settings page. */
export function CsatSettings() {
  const csat = useSettings(csatSettings);
  return (
    <>
      {csat.isPending ? <Spinner label={t("admin.csatSettings.loadingSurveySettings")} /> : null}
      {csat.isError ? <FailureAlert error={csat.error} /> : null}
      {csat.data ? <CsatSettingsForm settings={csat.data} /> : null}
    </>
  );
}
