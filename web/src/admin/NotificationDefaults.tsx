import { api } from "../api/client";
import type { components } from "../api/schema";
import { Card, Spinner } from "../components/ui";
import { t } from "../i18n";
import { EVENT_LABELS, type EventType } from "../notifications/preferences";
import { okTagged, type Tagged } from "./api";
import { CheckboxGroup } from "./fields";
import { EditorStatus, FailureAlert, FormActions } from "./forms";
import { useSettings, useSettingsForm, type SettingsSection } from "./settings";

type Defaults = components["schemas"]["NotificationDefaults"];

export const notificationDefaults: SettingsSection<Defaults> = {
  key: ["admin", "settings", "notifications"],
  get: (signal) => okTagged(api.GET("/v1/settings/notifications", { signal })),
  put: (body, ifMatch) => okTagged(api.PUT("/v1/settings/notifications", { params: { header: { "If-Match": ifMatch } }, body })),
};

const EVENTS = Object.keys(EVENT_LABELS) as EventType[];

interface DefaultsForm {
  email_on: EventType[];
}

function DefaultsFormCard({ settings }: { settings: Tagged<Defaults> }) {
  const editor = useSettingsForm(notificationDefaults, settings, {
    toForm: (tagged): DefaultsForm => ({ email_on: EVENTS.filter((e) => !(tagged?.data.email_off ?? []).includes(e)) }),
    toBody: (form, base) => ({ ...base, email_off: EVENTS.filter((e) => !form.email_on.includes(e)) }),
  });
  const { form, set, errors } = editor;
  const options = EVENTS.map((e) => ({ value: e, label: t(EVENT_LABELS[e].label) }));
  return (
    <Card aria-labelledby="notification-defaults-heading">
      <h2 id="notification-defaults-heading" className="mb-1 font-semibold">
        {t("notifDefaults.heading")}
      </h2>
      <p className="mb-3 text-fg-muted">{t("notifDefaults.intro")}</p>
      <form className="space-y-4" onSubmit={editor.submit} noValidate>
        <CheckboxGroup
          legend={t("notifDefaults.legend")}
          columns
          options={options}
          value={form.email_on}
          onChange={(v) => set("email_on", v)}
          error={errors.email_off ?? Object.entries(errors).find(([k]) => k.startsWith("email_off."))?.[1]}
        />
        <EditorStatus editor={editor} placed={["email_off"]} />
        <FormActions editor={editor} saveLabel={t("notifDefaults.save")} />
      </form>
    </Card>
  );
}

/** The organisation's notification defaults (GET/PUT /v1/settings/notifications). */
export function NotificationDefaults() {
  const defaults = useSettings(notificationDefaults);
  return (
    <>
      {defaults.isPending ? <Spinner label={t("notifDefaults.loading")} /> : null}
      {defaults.isError ? <FailureAlert error={defaults.error} /> : null}
      {defaults.data ? <DefaultsFormCard settings={defaults.data} /> : null}
    </>
  );
}
