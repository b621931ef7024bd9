import { Link } from "react-router";
import { Card, EmptyState, PageHeader, Spinner } from "../components/ui";
import { useCalendars, usePolicies } from "./api";
import { describeWeek } from "./calendar";
import { ScrollArea } from "./fields";
import { FailureAlert } from "./forms";

export default function CalendarsPage() {
  const calendars = useCalendars();
  const policies = usePolicies();
  const usedBy = (id: string) => (policies.data ?? []).filter((p) => p.calendar_id === id).map((p) => p.name);
  return (
    <>
      <PageHeader
        title="Calendars"
        actions={
          <Link to="/admin/calendars/new" className="inline-flex h-10 items-center rounded-md bg-accent px-4 font-medium text-accent-fg hover:bg-accent-hover">
            New calendar
          </Link>
        }
      >
        Business hours for SLA clocks. A policy without a calendar counts around the clock.
      </PageHeader>
      <Card>
        {calendars.isPending ? <Spinner label="Loading calendars" /> : null}
        {calendars.isError ? <FailureAlert error={calendars.error} /> : null}
        {calendars.data && !calendars.data.length ? <EmptyState title="No calendars yet">SLA clocks run around the clock until you add one.</EmptyState> : null}
        {calendars.data?.length ? (
          <ScrollArea label="Calendars table">
            <table className="w-full text-left">
              <caption className="sr-only">Business calendars</caption>
              <thead className="border-b border-border text-fg-muted">
                <tr>
                  <th scope="col" className="px-2 py-2 font-medium">Name</th>
                  <th scope="col" className="px-2 py-2 font-medium">Time zone</th>
                  <th scope="col" className="px-2 py-2 font-medium">Hours</th>
                  <th scope="col" className="px-2 py-2 font-medium">Holidays</th>
                  <th scope="col" className="px-2 py-2 font-medium">Used by</th>
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
