import { Link } from "react-router";
import { Badge, Card, EmptyState, PageHeader, Spinner } from "../components/ui";
import { LEVEL_LABELS, formatList } from "../lib/format";
import { useAdminCategories, useAdminTeams, useCalendars, usePolicies } from "./api";
import { ScrollArea } from "./fields";
import { FailureAlert } from "./forms";
import { formatMinutes } from "./format";
import type { Policy } from "./types";
import { t } from "../i18n/admin";

function useDescribe() {
  const teams = useAdminTeams();
  const categories = useAdminCategories();
  return (policy: Policy): string => {
    const c = policy.conditions;
    const parts: string[] = [];
    if (c.priorities?.length) parts.push(formatList(c.priorities.map((p) => LEVEL_LABELS[p]), "or"));
    if (c.team_ids?.length) parts.push(t("admin.policies.teamValue", { value: formatList(c.team_ids.map((id) => teams.data?.find((item) => item.id === id)?.name ?? "?"), "or") }));
    if (c.category_ids?.length)
      parts.push(t("admin.policies.categoryValue", { value: formatList(c.category_ids.map((id) => categories.data?.find((x) => x.id === id)?.name ?? "?"), "or") }));
    if (c.requester_tags?.length) parts.push(t("admin.policies.requesterTaggedValue", { value: formatList(c.requester_tags, "or") }));
    return parts.length ? parts.join("; ") : t("admin.policies.everyTicket");
  };
}

export default function PoliciesPage() {
  const policies = usePolicies();
  const calendars = useCalendars();
  const describe = useDescribe();
  const calendarName = (id: string | null) => (id ? (calendars.data?.find((c) => c.id === id)?.name ?? "?") : "24×7");
  const minutes = (n: number | null) => (n ? formatMinutes(n) : "—");
  return (
    <>
      <PageHeader
        title={t("admin.policies.slaPolicies")}
        actions={
          <Link to="/admin/sla-policies/new" className="inline-flex h-10 items-center rounded-md bg-accent px-4 font-medium text-accent-fg hover:bg-accent-hover">
            {t("admin.policies.newPolicy")}
          </Link>
        }
      >
        {t("admin.policies.triedInOrderThe")}
      </PageHeader>
      <Card>
        {policies.isPending ? <Spinner label={t("admin.policies.loadingPolicies")} /> : null}
        {policies.isError ? <FailureAlert error={policies.error} /> : null}
        {policies.data && !policies.data.length ? <EmptyState title={t("admin.policies.noSlaPoliciesYet")}>{t("admin.policies.ticketsGetNoTargets")}</EmptyState> : null}
        {policies.data?.length ? (
          <ScrollArea label={t("admin.policies.slaPoliciesTable")}>
            <table className="w-full text-left">
              <caption className="sr-only">{t("admin.policies.slaPoliciesInPrecedence")}</caption>
              <thead className="border-b border-border text-fg-muted">
                <tr>
                  <th scope="col" className="px-2 py-2 font-medium">{t("admin.policies.position")}</th>
                  <th scope="col" className="px-2 py-2 font-medium">{t("admin.policies.name")}</th>
                  <th scope="col" className="px-2 py-2 font-medium">{t("admin.policies.appliesTo")}</th>
                  <th scope="col" className="px-2 py-2 font-medium">{t("admin.policies.firstResponse")}</th>
                  <th scope="col" className="px-2 py-2 font-medium">{t("admin.policies.resolution")}</th>
                  <th scope="col" className="px-2 py-2 font-medium">{t("admin.policies.calendar")}</th>
                  <th scope="col" className="px-2 py-2 font-medium">{t("admin.policies.state")}</th>
                </tr>
              </thead>
              <tbody data-testid="policy-rows">
                {policies.data.map((p) => (
                  <tr key={p.id} className="border-b border-border align-top last:border-0">
                    <td className="px-2 py-2 font-mono">{p.position}</td>
                    <td className="px-2 py-2">
                      <Link to={`/admin/sla-policies/${p.id}`} className="font-medium text-accent-text underline">
                        {p.name}
                      </Link>
                    </td>
                    <td className="px-2 py-2">{describe(p)}</td>
                    <td className="whitespace-nowrap px-2 py-2">{minutes(p.first_response_minutes)}</td>
                    <td className="whitespace-nowrap px-2 py-2">{minutes(p.resolution_minutes)}</td>
                    <td className="px-2 py-2">{calendarName(p.calendar_id)}</td>
                    <td className="px-2 py-2">{p.active ? <Badge tone="success">{t("admin.policies.active")}</Badge> : <Badge>{t("admin.policies.inactive")}</Badge>}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </ScrollArea>
        ) : null}
      </Card>
    </>
  );
}
