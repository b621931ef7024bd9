/** Where a notification leads: its ticket or task, or the page of the app its event is about. */
export function notificationHref(n: {
  ticket_id?: string | null;
  project_id?: string | null;
  task_id?: string | null;
  event_type: string;
}): string | null {
  if (n.ticket_id) return `/tickets/${n.ticket_id}`;
  if (n.project_id && n.task_id) return `/projects/${n.project_id}/tasks/${n.task_id}`;
  if (n.event_type.startsWith("export.")) return "/exports";
  if (n.event_type === "mail.held") return "/held-mail";
  return null;
}
