import { register } from "./index";

export { labelled, plural, t } from "./index";

/** The manager screens' words: a lazy part of the catalogue (i18n/index.ts), loaded with the
 * first screen that imports `t` from here rather than with the shell. */
export const manager = {
  "manager.dashboard.dashboard": "Dashboard",
  "manager.dashboard.reports": "Reports",
  "manager.dashboard.refresh": "Refresh",
  "manager.dashboard.updatedWhenTzLive": "Updated {when} · {tz} · live",
  "manager.dashboard.liveFigures": "Live figures",
  "manager.dashboard.loading": "Loading",
  "manager.dashboard.keyFigures": "Key figures",
  "manager.dashboard.labelTextShowThe": "{label}: {text}, show the tickets",
  "manager.dashboard.createdAndResolvedThe": "Created and resolved, the last 14 days",
  "manager.dashboard.inTheLast14": "In the last 14 days, {created} tickets were created and {resolved} resolved{value}.",
  "manager.dashboard.backlogByPriority": "Backlog by priority",
  "manager.dashboard.openTicketsByPriority": "Open tickets by priority",
  "manager.dashboard.backlogByTeam": "Backlog by team",
  "manager.dashboard.openTicketsByTeam": "Open tickets by team",
  "manager.dashboard.noOpenTickets": "No open tickets.",
  "manager.dashboard.eachFigureOpensThe": "Each figure opens the tickets it counts. Response times are business time on each ticket’s SLA calendar. More in the",
  "manager.dashboard.reports2": "reports",
  "manager.dashboard.aDashMeansThere": ". A dash (—) means there is nothing to measure yet.",
  "manager.charts.group": "Group",
  "manager.charts.share": "Share",
  "manager.charts.legend": "Legend",
  "manager.charts.showTheNumbersAs": "Show the numbers as a table",
  "manager.charts.titleNumbers": "{title}: numbers",
  "manager.charts.period": "Period",
  "manager.panels.loading": "Loading",
  "manager.charts.tickets": "Tickets",
  "manager.dashboard.seriesCreated": "Created",
  "manager.dashboard.seriesResolved": "Resolved",
};

export type ManagerKey = keyof typeof manager;

register(manager);
