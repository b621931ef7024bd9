import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "react-router";
import { api, ok } from "../api/client";
import { describeError } from "../api/problem";
import { Alert, Button, PageHeader, Spinner } from "../components/ui";
import { t } from "../i18n/changes";
import { changeKeys, useSettings, type Settings } from "./api";
import { Choice, Section, onSubmit } from "./parts";
import { Blackouts } from "./Blackouts";
import { QuestionnaireEditor } from "./QuestionnaireEditor";
import { Templates } from "./Templates";

/** Change settings (managers and admins): the CAB and emergency approval flows and the
 * risk questionnaire with its thresholds, blackout windows and standard-change
 * templates. */
export default function SettingsPage() {
  const settings = useSettings();
  return (
    <>
      <p className="mb-2">
        <Link to="/changes" className="text-accent-text underline">
          {t("changes.back")}
        </Link>
      </p>
      <PageHeader title={t("changes.settings")}>{t("changes.settings.intro")}</PageHeader>
      {settings.isPending ? <Spinner label={t("changes.loading")} /> : null}
      {settings.isError ? <Alert title={t("changes.loadFailed")}>{describeError(settings.error)}</Alert> : null}
      <div className="grid gap-4 lg:grid-cols-2">
        {settings.data ? <Flows settings={settings.data} /> : null}
        <Blackouts />
        <Templates />
        {settings.data ? <QuestionnaireEditor settings={settings.data} /> : null}
      </div>
    </>
  );
}

function Flows({ settings }: { settings: Settings }) {
  const client = useQueryClient();
  const flows = useQuery({
    queryKey: ["approvals", "flows", "active"],
    queryFn: ({ signal }) => ok(api.GET("/v1/approvals/flows", { params: { query: { limit: 100, active: true } }, signal })),
    select: (page) => page.items,
  });
  const [cab, setCab] = useState(settings.cab_flow_id ?? "");
  const [emergency, setEmergency] = useState(settings.emergency_flow_id ?? "");
  const save = useMutation({
    mutationFn: () =>
      ok(
        api.PATCH("/v1/changes/settings", {
          body: { cab_flow_id: cab || null, emergency_flow_id: emergency || null, version: settings.version },
        }),
      ),
    onSuccess: (next) => client.setQueryData(changeKeys.settings, next),
  });
  const submit = onSubmit(() => save.mutate());
  const options = (flows.data ?? []).map((f) => [f.id, f.name] as const);
  return (
    <Section id="settings-flows" title={t("changes.settings.flows")}>
      <form className="grid gap-3" onSubmit={submit}>
        <Choice label={t("changes.settings.cab")} value={cab} empty={t("changes.settings.none")} options={options} onChange={setCab} />
        <Choice
          label={t("changes.settings.emergency")}
          description={t("changes.settings.emergencyHint")}
          value={emergency}
          empty={t("changes.settings.none")}
          options={options}
          onChange={setEmergency}
        />
        {save.isError ? <Alert>{describeError(save.error)}</Alert> : null}
        {save.isSuccess ? <Alert tone="success">{t("changes.settings.saved")}</Alert> : null}
        <div>
          <Button type="submit" variant="primary" busy={save.isPending}>
            {t("changes.settings.save")}
          </Button>
        </div>
      </form>
    </Section>
  );
}

