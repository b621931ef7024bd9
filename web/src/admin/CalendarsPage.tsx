import { Link } from "react-router";
import { Card, EmptyState, PageHeader, Spinner } from "../components/ui";
import { useCalendars, usePolicies } from "./api";
import { describeWeek } from "./calendar";
import { ScrollArea } from "./fields";
import { FailureAlert } from "./forms";
import { t } from "../i18n/admin";

export default function CalendarsPage() {
  const calendars = useCalendars();
  const policies = usePolicies();
  const usedBy = (id: string) => (policies.data ?? []).filter((p) => p.calendar_id === id).map((p) => p.name);
  return (
    <>
      <PageHeader
        title={t("admin.calendars.calendars")}
        actions={
          <Link to="/admin/calendars/new" className="inline-flex h-10 items-center rounded-md bg-accent px-4 font-medium text-accent-fg hover:bg-accent-hover">
            {t("admin.calendars.newCalendar")}
          </Link>
        }
      >
        {t("admin.calendars.businessHoursForSla")}
      </PageHeader>
      <Card>
        {calendars.isPending ? <Spinner label={t("admin.calendars.loadingCalendars")} /> : null}
        {calendars.isError ? <FailureAlert error={calendars.error} /> : null}
        {calendars.data && !calendars.data.length ? <EmptyState title={t("admin.calendars.noCalendarsYet")}>{t("admin.calendars.slaClocksRunAround")}</EmptyState> : null}
        {calendars.data?.length ? (
          <ScrollArea label={t("admin.calendars.calendarsTable")}>
            <table className="w-full text-left">
              <caption className="sr-only">{t("admin.calendars.businessCalendars")}</caption>
              <thead className="border-b border-border text-fg-muted">
                <tr>
                  <th scope="col" className="px-2 py-2 font-medium">{t("admin.calendars.name")}</th>
                  <th scope="col" className="px-2 py-2 font-medium">{t("admin.calendars.timeZone")}</th>
                  <th scope="col" className="px-2 py-2 font-medium">{t("admin.calendars.hours")}</th>
                  <th scope="col" className="px-2 py-2 font-medium">{t("admin.calendars.holidays")}</th>
                  <th scope="col" className="px-2 py-2 font-medium">{t("admin.calendars.usedBy")}</th>
                </tr>
              </thead>
              <tbody data-testid="calendar-rows">
                {calendars.data.map((c) => (
                  <tr key={c.id} className="border-b border-border align-top last:border-0">
                    <td className="px-2 py-2">
                      <Link to={`/admin/calendars/${c.id}`} className="font-medium text-accent-text underline">
                        {c.name}
                      </Link>
                    </td>
                    <td className="px-2 py-2">{c.timezone}</td>
                    <td className="px-2 py-2">{describeWeek(c.week)}</td>
                    <td className="px-2 py-2">{c.holidays.length + c.yearly_holidays.length}</td>
                    <td className="px-2 py-2">{usedBy(c.id).join(", ") || "—"}</td>
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
