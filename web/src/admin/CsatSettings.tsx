import { api } from "../api/client";
import type { components } from "../api/schema";
import { Card, Field, Input, Spinner } from "../components/ui";
import { okTagged, type Tagged } from "./api";
import { Checkbox, toInt } from "./fields";
import { EditorStatus, type Errors, FailureAlert, FormActions } from "./forms";
import { useSettings, useSettingsForm, type SettingsSection } from "./settings";

type Csat = components["schemas"]["CsatSettings"];

export const csatSettings: SettingsSection<Csat> = {
  key: ["admin", "settings", "csat"],
  get: (signal) => okTagged(api.GET("/v1/settings/csat", { signal })),
  put: (body, ifMatch) => okTagged(api.PUT("/v1/settings/csat", { params: { header: { "If-Match": ifMatch } }, body })),
};

interface CsatForm {
  enabled: boolean;
  question: string;
  expires_days: string;
}

function inRange(text: string, min: number, max: number): boolean {
  const n = toInt(text);
  return n !== null && n >= min && n <= max;
}

function CsatSettingsForm({ settings }: { settings: Tagged<Csat> }) {
  const editor = useSettingsForm(csatSettings, settings, {
    toForm: (tagged): CsatForm => ({
      enabled: tagged?.data.enabled ?? true,
      question: tagged?.data.question ?? "",
      expires_days: String(tagged?.data.expires_days ?? 30),
    }),
    toBody: (form, base) => ({
      ...base,
      enabled: form.enabled,
      question: form.question.trim(),
      expires_days: Number(form.expires_days),
    }),
    validate: (form) => {
      const errors: Errors = {};
      const question = form.question.trim();
      if (!question || question.length > 200) errors.question = "1 to 200 characters";
      if (!inRange(form.expires_days, 1, 365)) errors.expires_days = "a whole number from 1 to 365";
      return errors;
    },
  });
  const { form, set, errors } = editor;
  return (
    <Card aria-labelledby="csat-settings-heading">
      <h2 id="csat-settings-heading" className="mb-3 font-semibold">
        Satisfaction surveys
      </h2>
      <form className="space-y-4" onSubmit={editor.submit} noValidate>
        <Checkbox
          label="Ask the requester to rate the support when a ticket is resolved"
          checked={form.enabled}
          onChange={(v) => set("enabled", v)}
          error={errors.enabled}
        />
        <Field label="Question" error={errors.question} description="Shown in the e-mail and on the survey page (up to 200 characters).">
          {(p) => <Input {...p} maxLength={200} value={form.question} onChange={(e) => set("question", e.target.value)} />}
        </Field>
        <Field label="Days a survey link stays valid" error={errors.expires_days}>
          {(p) => <Input {...p} inputMode="numeric" className="max-w-32" value={form.expires_days} onChange={(e) => set("expires_days", e.target.value)} />}
        </Field>
        <EditorStatus editor={editor} placed={["enabled", "question", "expires_days"]} />
        <FormActions editor={editor} saveLabel="Save survey settings" />
      </form>
    </Card>
  );
}

/** The satisfaction surveys' section of the tenant settings page. */
export function CsatSettings() {
  const csat = useSettings(csatSettings);
  return (
    <>
      {csat.isPending ? <Spinner label="Loading survey settings" /> : null}
      {csat.isError ? <FailureAlert error={csat.error} /> : null}
      {csat.data ? <CsatSettingsForm settings={csat.data} /> : null}
    </>
  );
}
