import { ticketNumber } from "../lib/ticketNumber";
import type { Level } from "../api/types";
import { Card, Field, Input, PageHeader, Select, Spinner } from "../components/ui";
import { LEVELS, LEVEL_LABELS } from "../lib/format";
import { useAdminTeams, type Tagged } from "./api";
import { Checkbox, CheckboxGroup, ScrollArea, toInt } from "./fields";
import { EditorStatus, type Errors, FailureAlert, FormActions } from "./forms";
import { KnowledgeSettings } from "./KnowledgeSettings";
import { CsatSettings } from "./CsatSettings";
import { BrandingSettings } from "./BrandingSettings";
import { PortalSettings } from "./PortalSettings";
import { NotificationDefaults } from "./NotificationDefaults";
import { DirectorySettings } from "./DirectorySettings";
import { SecuritySettings } from "./SecuritySettings";
import { ScimSettings } from "./ScimSettings";
import { t } from "../i18n/admin";
import { attachmentSettings, ticketSettings, useSettings, useSettingsForm } from "./settings";
import type { AttachmentSettings, AttachmentType, TicketSettings } from "./types";

type Matrix = Record<Level, Record<Level, Level>>;

interface TicketForm {
  number_prefix: string;
  reopen_window_days: string;
  comment_edit_window_minutes: string;
  agents_see_all: boolean;
  priority_matrix: Matrix;
  triage_team_id: string;
  default_team_id: string;
  assign_on_first_reply: boolean;
}

function fullMatrix(matrix: TicketSettings["priority_matrix"] | undefined): Matrix {
  const out = {} as Matrix;
  for (const impact of LEVELS) {
    out[impact] = {} as Record<Level, Level>;
    for (const urgency of LEVELS) out[impact][urgency] = matrix?.[impact]?.[urgency] ?? "medium";
  }
  return out;
}

function ticketForm(tagged: Tagged<TicketSettings> | null): TicketForm {
  const s = tagged?.data;
  return {
    number_prefix: s?.number_prefix ?? "TCK",
    reopen_window_days: String(s?.reopen_window_days ?? 7),
    comment_edit_window_minutes: String(s?.comment_edit_window_minutes ?? 15),
    agents_see_all: s?.agents_see_all ?? false,
    priority_matrix: fullMatrix(s?.priority_matrix),
    triage_team_id: s?.triage_team_id ?? "",
    default_team_id: s?.default_team_id ?? "",
    assign_on_first_reply: s?.assign_on_first_reply ?? false,
  };
}

function wholeIn(text: string, min: number, max: number): boolean {
  const n = toInt(text);
  return n !== null && Number.isInteger(n) && n >= min && n <= max;
}

function validateTickets(form: TicketForm): Errors {
  const errors: Errors = {};
  if (!/^[A-Z]{2,8}$/.test(form.number_prefix)) errors.number_prefix = t("admin.settings.2To8Capital");
  if (!wholeIn(form.reopen_window_days, 0, 365)) errors.reopen_window_days = t("admin.settings.aWholeNumberOf");
  if (!wholeIn(form.comment_edit_window_minutes, 0, 10080)) errors.comment_edit_window_minutes = t("admin.settings.aWholeNumberOf2");
  return errors;
}

function ticketBody(form: TicketForm, base: TicketSettings): TicketSettings {
  return {
    ...base, // settings this form does not show are kept
    number_prefix: form.number_prefix,
    reopen_window_days: Number(form.reopen_window_days),
    comment_edit_window_minutes: Number(form.comment_edit_window_minutes),
    agents_see_all: form.agents_see_all,
    priority_matrix: form.priority_matrix,
    triage_team_id: form.triage_team_id || null,
    default_team_id: form.default_team_id || null,
    assign_on_first_reply: form.assign_on_first_reply,
  };
}

function TicketSettingsForm({ settings }: { settings: Tagged<TicketSettings> }) {
  const editor = useSettingsForm(ticketSettings, settings, { toForm: ticketForm, toBody: ticketBody, validate: validateTickets });
  const { form, set, errors } = editor;
  const teams = useAdminTeams();
  const setCell = (impact: Level, urgency: Level, value: Level) =>
    set("priority_matrix", { ...form.priority_matrix, [impact]: { ...form.priority_matrix[impact], [urgency]: value } });
  const matrixError = errors.priority_matrix ?? Object.entries(errors).find(([k]) => k.startsWith("priority_matrix."))?.[1];
  return (
    <Card aria-labelledby="ticket-settings-heading">
      <h2 id="ticket-settings-heading" className="mb-3 font-semibold">
        {t("admin.settings.tickets")}
      </h2>
      <form className="space-y-4" onSubmit={editor.submit} noValidate>
        <div className="grid *:min-w-0 gap-3 sm:grid-cols-3">
          <Field label={t("admin.settings.numberPrefix")} error={errors.number_prefix} description={t("admin.settings.newTicketsAreNumbered", { value: ticketNumber(/^[A-Z]{2,8}$/.test(form.number_prefix) ? form.number_prefix : "TCK", new Date().getFullYear(), 42) })}>
            {(p) => <Input {...p} maxLength={8} autoCapitalize="characters" value={form.number_prefix} onChange={(e) => set("number_prefix", e.target.value.toUpperCase())} />}
          </Field>
          <Field label={t("admin.settings.reopenWindowDays")} error={errors.reopen_window_days} description={t("admin.settings.howLongARequester")}>
            {(p) => <Input {...p} inputMode="numeric" value={form.reopen_window_days} onChange={(e) => set("reopen_window_days", e.target.value)} />}
          </Field>
          <Field label={t("admin.settings.commentEditWindowMinutes")} error={errors.comment_edit_window_minutes} description={t("admin.settings.howLongAnAuthor")}>
            {(p) => <Input {...p} inputMode="numeric" value={form.comment_edit_window_minutes} onChange={(e) => set("comment_edit_window_minutes", e.target.value)} />}
          </Field>
        </div>
        <Checkbox
          label={t("admin.settings.agentsSeeEveryTicket")}
          checked={form.agents_see_all}
          onChange={(v) => set("agents_see_all", v)}
          error={errors.agents_see_all}
          description={t("admin.settings.otherwiseAgentsSeeTheir")}
        />
        <div className="max-w-sm">
          <Field label={t("settings.triageTeam")} error={errors.triage_team_id} description={t("settings.triageTeamHelp")}>
            {(p) => (
              <Select {...p} value={form.triage_team_id} onChange={(e) => set("triage_team_id", e.target.value)}>
                <option value="">{t("settings.triageTeamNone")}</option>
                {(teams.data ?? []).map((team) => (
                  <option key={team.id} value={team.id}>
                    {team.name}
                  </option>
                ))}
              </Select>
            )}
          </Field>
          <Field label={t("settings.defaultTeam")} error={errors.default_team_id} description={t("settings.defaultTeamHelp")}>
            {(p) => (
              <Select {...p} value={form.default_team_id} onChange={(e) => set("default_team_id", e.target.value)}>
                <option value="">{t("settings.defaultTeamNone")}</option>
                {(teams.data ?? []).map((team) => (
                  <option key={team.id} value={team.id}>
                    {team.name}
                  </option>
                ))}
              </Select>
            )}
          </Field>
        </div>
        <Checkbox
          label={t("settings.assignOnFirstReply")}
          checked={form.assign_on_first_reply}
          onChange={(v) => set("assign_on_first_reply", v)}
          error={errors.assign_on_first_reply}
        />
        <fieldset className="min-w-0" aria-describedby={matrixError ? "matrix-error" : "matrix-help"}>
          <legend className="mb-1 font-medium">{t("admin.settings.priorityFromImpactAnd")}</legend>
          <p id="matrix-help" className="mb-2 text-fg-muted">
            {t("admin.settings.thePriorityATicket")}
          </p>
          <ScrollArea label={t("admin.settings.priorityMatrix")}>
            <table className="text-left">
              <caption className="sr-only">{t("admin.settings.priorityByImpactRows")}</caption>
              <thead>
                <tr>
                  <th scope="col" className="px-2 py-1 font-medium text-fg-muted">
                    {t("admin.settings.impactUrgency")}
                  </th>
                  {LEVELS.map((u) => (
                    <th key={u} scope="col" className="px-2 py-1 font-medium">
                      {LEVEL_LABELS[u]}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {LEVELS.map((impact) => (
                  <tr key={impact}>
                    <th scope="row" className="px-2 py-1 font-medium">
                      {LEVEL_LABELS[impact]}
                    </th>
                    {LEVELS.map((urgency) => (
                      <td key={urgency} className="px-2 py-1">
                        <label className="sr-only" htmlFor={`pm-${impact}-${urgency}`}>{t("admin.settings.priorityForImpactUrgency", { impact: LEVEL_LABELS[impact], urgency: LEVEL_LABELS[urgency] })}</label>
                        <div className="w-32">
                          <Select
                            id={`pm-${impact}-${urgency}`}
                            value={form.priority_matrix[impact][urgency]}
                            onChange={(e) => setCell(impact, urgency, e.target.value as Level)}
                          >
                            {LEVELS.map((l) => (
                              <option key={l} value={l}>
                                {LEVEL_LABELS[l]}
                              </option>
                            ))}
                          </Select>
                        </div>
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </ScrollArea>
          {matrixError ? (
            <p id="matrix-error" className="mt-1 font-medium text-danger-text">
              {matrixError}
            </p>
          ) : null}
        </fieldset>
        <EditorStatus editor={editor} placed={["number_prefix", "reopen_window_days", "comment_edit_window_minutes", "agents_see_all", "priority_matrix", "triage_team_id", "default_team_id", "assign_on_first_reply"]} />
        <FormActions editor={editor} saveLabel={t("admin.settings.saveTicketSettings")} />
      </form>
    </Card>
  );
}

const TYPES: { value: AttachmentType; label: string }[] = [
  { value: "image/png", label: t("admin.settings.pngImages") },
  { value: "image/jpeg", label: t("admin.settings.jpegImages") },
  { value: "image/gif", label: t("admin.settings.gifImages") },
  { value: "image/webp", label: t("admin.settings.webpImages") },
  { value: "application/pdf", label: t("admin.settings.pdf") },
  { value: "text/plain", label: t("admin.settings.plainText") },
  { value: "text/csv", label: t("admin.settings.csv") },
  { value: "application/zip", label: t("admin.settings.zipArchives") },
  { value: "application/vnd.openxmlformats-officedocument.wordprocessingml.document", label: t("admin.settings.wordDocx") },
  { value: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", label: t("admin.settings.excelXlsx") },
  { value: "application/vnd.openxmlformats-officedocument.presentationml.presentation", label: t("admin.settings.powerpointPptx") },
  { value: "application/msword", label: t("admin.settings.word97Doc") },
  { value: "application/vnd.ms-excel", label: t("admin.settings.excel97Xls") },
  { value: "application/vnd.ms-powerpoint", label: t("admin.settings.powerpoint97Ppt") },
];
const MIB = 1024 * 1024;
const HARD_MAX_MIB = 100;

interface AttachmentForm {
  max_size_mib: string;
  max_per_ticket: string;
  allowed_types: AttachmentType[];
}

function attachmentForm(tagged: Tagged<AttachmentSettings> | null): AttachmentForm {
  const s = tagged?.data;
  const bytes = s?.max_size_bytes ?? 25 * MIB;
  return {
    max_size_mib: String(Math.round((bytes / MIB) * 100) / 100),
    max_per_ticket: String(s?.max_per_ticket ?? 50),
    allowed_types: s?.allowed_types ?? TYPES.map((item) => item.value),
  };
}

function validateAttachments(form: AttachmentForm): Errors {
  const errors: Errors = {};
  const mib = toInt(form.max_size_mib);
  if (mib === null || mib <= 0 || mib > HARD_MAX_MIB) errors.max_size_bytes = t("admin.settings.fromAFractionOf", { HARD_MAX_MIB });
  if (!wholeIn(form.max_per_ticket, 1, 1000)) errors.max_per_ticket = t("admin.settings.aWholeNumberFrom");
  if (!form.allowed_types.length) errors.allowed_types = t("admin.settings.allowAtLeastOne");
  return errors;
}

function attachmentBody(form: AttachmentForm): AttachmentSettings {
  return {
    max_size_bytes: Math.max(1, Math.round(Number(form.max_size_mib) * MIB)),
    max_per_ticket: Number(form.max_per_ticket),
    allowed_types: form.allowed_types,
  };
}

function AttachmentSettingsForm({ settings }: { settings: Tagged<AttachmentSettings> }) {
  const editor = useSettingsForm(attachmentSettings, settings, { toForm: attachmentForm, toBody: attachmentBody, validate: validateAttachments });
  const { form, set, errors } = editor;
  return (
    <Card aria-labelledby="attachment-settings-heading">
      <h2 id="attachment-settings-heading" className="mb-3 font-semibold">
        {t("admin.settings.attachments")}
      </h2>
      <form className="space-y-4" onSubmit={editor.submit} noValidate>
        <div className="grid *:min-w-0 gap-3 sm:grid-cols-2">
          <Field label={t("admin.settings.largestFileMb")} error={errors.max_size_bytes} description={t("admin.settings.atMostMb", { max: HARD_MAX_MIB })}>
            {(p) => <Input {...p} inputMode="decimal" value={form.max_size_mib} onChange={(e) => set("max_size_mib", e.target.value)} />}
          </Field>
          <Field label={t("admin.settings.filesPerTicket")} error={errors.max_per_ticket}>
            {(p) => <Input {...p} inputMode="numeric" value={form.max_per_ticket} onChange={(e) => set("max_per_ticket", e.target.value)} />}
          </Field>
        </div>
        <CheckboxGroup
          legend={t("admin.settings.allowedKindsOfFile")}
          columns
          options={TYPES}
          value={form.allowed_types}
          onChange={(v) => set("allowed_types", v)}
          error={errors.allowed_types ?? Object.entries(errors).find(([k]) => k.startsWith("allowed_types."))?.[1]}
        />
        <EditorStatus editor={editor} placed={["max_size_bytes", "max_per_ticket", "allowed_types"]} />
        <FormActions editor={editor} saveLabel={t("admin.settings.saveAttachmentLimits")} />
      </form>
    </Card>
  );
}

export default function SettingsPage() {
  const tickets = useSettings(ticketSettings);
  const attachments = useSettings(attachmentSettings);
  return (
    <>
      <PageHeader title={t("settings.title")}>{t("settings.intro")}</PageHeader>
      <div className="space-y-6">
        <BrandingSettings />
        <PortalSettings />
        <NotificationDefaults />
        {tickets.isPending ? <Spinner label={t("admin.settings.loadingTicketSettings")} /> : null}
        {tickets.isError ? <FailureAlert error={tickets.error} /> : null}
        {tickets.data ? <TicketSettingsForm settings={tickets.data} /> : null}
        {attachments.isPending ? <Spinner label={t("admin.settings.loadingAttachmentLimits")} /> : null}
        {attachments.isError ? <FailureAlert error={attachments.error} /> : null}
        {attachments.data ? <AttachmentSettingsForm settings={attachments.data} /> : null}
        <KnowledgeSettings />
        <CsatSettings />
        <SecuritySettings />
        <DirectorySettings />
        <ScimSettings />
      </div>
    </>
  );
}
