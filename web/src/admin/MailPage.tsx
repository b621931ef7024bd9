import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, ok } from "../api/client";
import { Alert, Button, Card, EmptyState, Field, Input, PageHeader, Select, Spinner } from "../components/ui";
import { adminKeys, useAdminCategories, useAdminTeams, type Tagged } from "./api";
import { Checkbox, toInt } from "./fields";
import { EditorStatus, FailureAlert, FormActions, type Errors } from "./forms";
import { mailSettings, useSettings, useSettingsForm } from "./settings";
import type { ClosedTicketReply, MailAddress, MailSettings } from "./types";
import { t } from "../i18n/admin";

/* Admin › E-mail: where the tenant receives mail (its default address and the aliases,
 * each routed to a category and/or team) and how the intake treats what comes in
 * (docs/email.md). */

const CLOSED: { value: ClosedTicketReply; label: string }[] = [
  { value: "reopen", label: t("admin.mail.reopenTheTicketWithin") },
  { value: "new_ticket", label: t("admin.mail.openANewTicket") },
  { value: "hold", label: t("admin.mail.holdTheMessageFor") },
];

interface MailForm {
  unknown_senders_may_open: boolean;
  closed_ticket_reply: ClosedTicketReply;
  sender_max_messages: string;
  sender_window_minutes: string;
}

function mailForm(tagged: Tagged<MailSettings> | null): MailForm {
  const s = tagged?.data;
  return {
    unknown_senders_may_open: s?.unknown_senders_may_open ?? true,
    closed_ticket_reply: s?.closed_ticket_reply ?? "reopen",
    sender_max_messages: String(s?.sender_max_messages ?? 30),
    sender_window_minutes: String(s?.sender_window_minutes ?? 60),
  };
}

function within(text: string, min: number, max: number): boolean {
  const n = toInt(text);
  return n !== null && Number.isInteger(n) && n >= min && n <= max;
}

function validateMail(form: MailForm): Errors {
  const errors: Errors = {};
  if (!within(form.sender_max_messages, 1, 10000)) errors.sender_max_messages = t("admin.mail.aWholeNumberFrom");
  if (!within(form.sender_window_minutes, 1, 1440)) errors.sender_window_minutes = t("admin.mail.aWholeNumberOf");
  return errors;
}

function mailBody(form: MailForm): MailSettings {
  return {
    unknown_senders_may_open: form.unknown_senders_may_open,
    closed_ticket_reply: form.closed_ticket_reply,
    sender_max_messages: Number(form.sender_max_messages),
    sender_window_minutes: Number(form.sender_window_minutes),
  };
}

function MailSettingsForm({ settings }: { settings: Tagged<MailSettings> }) {
  const editor = useSettingsForm(mailSettings, settings, { toForm: mailForm, toBody: mailBody, validate: validateMail });
  const { form, set, errors } = editor;
  return (
    <Card aria-labelledby="mail-settings-heading">
      <h2 id="mail-settings-heading" className="mb-3 font-semibold">
        {t("admin.mail.incomingMail")}
      </h2>
      <form className="space-y-4" onSubmit={editor.submit} noValidate>
        <Checkbox
          label={t("admin.mail.peopleWithoutAnAccount")}
          description={t("admin.mail.theyBecomeRequestersWithout")}
          checked={form.unknown_senders_may_open}
          onChange={(v) => set("unknown_senders_may_open", v)}
          error={errors.unknown_senders_may_open}
        />
        <Field label={t("admin.mail.aReplyToA")} error={errors.closed_ticket_reply}>
          {(p) => (
            <Select {...p} value={form.closed_ticket_reply} onChange={(e) => set("closed_ticket_reply", e.target.value as ClosedTicketReply)}>
              {CLOSED.map((c) => (
                <option key={c.value} value={c.value}>
                  {c.label}
                </option>
              ))}
            </Select>
          )}
        </Field>
        <div className="grid *:min-w-0 gap-3 sm:grid-cols-2">
          <Field label={t("admin.mail.messagesPerSenderBefore")} error={errors.sender_max_messages}>
            {(p) => <Input {...p} inputMode="numeric" value={form.sender_max_messages} onChange={(e) => set("sender_max_messages", e.target.value)} />}
          </Field>
          <Field label={t("admin.mail.withinMinutes")} error={errors.sender_window_minutes}>
            {(p) => <Input {...p} inputMode="numeric" value={form.sender_window_minutes} onChange={(e) => set("sender_window_minutes", e.target.value)} />}
          </Field>
        </div>
        <EditorStatus editor={editor} placed={["unknown_senders_may_open", "closed_ticket_reply", "sender_max_messages", "sender_window_minutes"]} />
        <FormActions editor={editor} saveLabel={t("admin.mail.saveMailSettings")} />
      </form>
    </Card>
  );
}

function useAddresses() {
  return useQuery({
    queryKey: adminKeys.mailAddresses,
    queryFn: ({ signal }) => ok(api.GET("/v1/mail/addresses", { params: { query: { limit: 100 } }, signal })),
  });
}

function NewAlias() {
  const client = useQueryClient();
  const teams = useAdminTeams();
  const categories = useAdminCategories();
  const [address, setAddress] = useState("");
  const [teamId, setTeamId] = useState("");
  const [categoryId, setCategoryId] = useState("");
  const [failure, setFailure] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const add = async (event: React.FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setFailure(null);
    try {
      await ok(
        api.POST("/v1/mail/addresses", {
          body: { address: address.trim(), team_id: teamId || null, category_id: categoryId || null, description: "" },
        }),
      );
      setAddress("");
      setTeamId("");
      setCategoryId("");
      await client.invalidateQueries({ queryKey: adminKeys.mailAddresses });
    } catch (error) {
      setFailure(error);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="space-y-3" onSubmit={add} noValidate aria-labelledby="new-alias-heading">
      <h3 id="new-alias-heading" className="font-medium">
        {t("admin.mail.addAnAlias")}
      </h3>
      <div className="grid *:min-w-0 gap-3 sm:grid-cols-3">
        <Field label={t("admin.mail.address")} required description={t("admin.mail.yourslugWordOurInbound")}>
          {(p) => <Input {...p} type="email" spellCheck={false} maxLength={254} value={address} onChange={(e) => setAddress(e.target.value)} />}
        </Field>
        <Field label={t("admin.mail.team")}>
          {(p) => (
            <Select {...p} value={teamId} onChange={(e) => setTeamId(e.target.value)}>
              <option value="">{t("admin.mail.noTeam")}</option>
              {(teams.data ?? []).filter((item) => item.active).map((item) => (
                <option key={item.id} value={item.id}>
                  {item.name}
                </option>
              ))}
            </Select>
          )}
        </Field>
        <Field label={t("admin.mail.category")}>
          {(p) => (
            <Select {...p} value={categoryId} onChange={(e) => setCategoryId(e.target.value)}>
              <option value="">{t("admin.mail.noCategory")}</option>
              {(categories.data ?? []).filter((c) => c.active).map((c) => (
                <option key={c.id} value={c.id}>
                  {c.name}
                </option>
              ))}
            </Select>
          )}
        </Field>
      </div>
      {failure ? <FailureAlert error={failure} /> : null}
      <Button type="submit" variant="primary" busy={busy} disabled={!address.trim()}>
        {t("admin.mail.addAlias")}
      </Button>
    </form>
  );
}

function AliasRow({ alias, teamName, categoryName }: { alias: MailAddress; teamName?: string; categoryName?: string }) {
  const client = useQueryClient();
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<unknown>(null);
  const remove = async () => {
    setBusy(true);
    try {
      await ok(api.DELETE("/v1/mail/addresses/{address_id}", { params: { path: { address_id: alias.id } } }));
      await client.invalidateQueries({ queryKey: adminKeys.mailAddresses });
    } catch (error) {
      setFailure(error);
      setBusy(false);
    }
  };
  return (
    <li className="flex flex-wrap items-center justify-between gap-2 py-2">
      <div>
        <p className="font-mono">{alias.address}</p>
        <p className="text-fg-muted">{[teamName && t("admin.mail.teamTeamname", { teamName }), categoryName && t("admin.mail.categoryCategoryname", { categoryName })].filter(Boolean).join(" · ") || t("admin.mail.noRouting")}</p>
        {failure ? <FailureAlert error={failure} /> : null}
      </div>
      <Button size="sm" onClick={remove} busy={busy} aria-label={t("admin.mail.removeAddress", { address: alias.address })}>
        {t("admin.mail.remove")}
      </Button>
    </li>
  );
}

function Addresses() {
  const addresses = useAddresses();
  const teams = useAdminTeams();
  const categories = useAdminCategories();
  const teamNames = new Map((teams.data ?? []).map((item) => [item.id, item.name]));
  const categoryNames = new Map((categories.data ?? []).map((c) => [c.id, c.name]));
  return (
    <Card aria-labelledby="mail-addresses-heading">
      <h2 id="mail-addresses-heading" className="mb-3 font-semibold">
        {t("admin.mail.addresses")}
      </h2>
      {addresses.isPending ? <Spinner label={t("admin.mail.loadingAddresses")} /> : null}
      {addresses.isError ? <FailureAlert error={addresses.error} /> : null}
      {addresses.data ? (
        <>
          <Alert tone="info" title={t("admin.mail.yourAddress")}>
            {t("admin.mail.mailTo")}{" "}<span className="font-mono">{addresses.data.default_address}</span>{" "}{t("admin.mail.opensRequestsRepliesTo")}
          </Alert>
          {addresses.data.items.length ? (
            <ul className="my-3 divide-y divide-border" aria-label={t("admin.mail.aliases")}>
              {addresses.data.items.map((a) => (
                <AliasRow key={a.id} alias={a} teamName={a.team_id ? teamNames.get(a.team_id) : undefined} categoryName={a.category_id ? categoryNames.get(a.category_id) : undefined} />
              ))}
            </ul>
          ) : (
            <EmptyState title={t("admin.mail.noAliasesYet")}>{t("admin.mail.addOneToRoute")}</EmptyState>
          )}
          <NewAlias />
        </>
      ) : null}
    </Card>
  );
}

export default function MailPage() {
  const settings = useSettings(mailSettings);
  return (
    <>
      <PageHeader title={t("admin.mail.eMail")}>{t("admin.mail.whereRequestsArriveBy")}</PageHeader>
      <div className="space-y-6">
        <Addresses />
        {settings.isPending ? <Spinner label={t("admin.mail.loadingMailSettings")} /> : null}
        {settings.isError ? <FailureAlert error={settings.error} /> : null}
        {settings.data ? <MailSettingsForm settings={settings.data} /> : null}
      </div>
    </>
  );
}
