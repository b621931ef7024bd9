import { expect, test } from "vitest";
import { notificationHref } from "./links";

test("a notification leads to its ticket, or to the page of its event", () => {
  expect(notificationHref({ ticket_id: "t1", event_type: "ticket.assigned" })).toBe("/tickets/t1");
  expect(notificationHref({ ticket_id: null, event_type: "export.ready" })).toBe("/exports");
  expect(notificationHref({ ticket_id: null, event_type: "mail.held" })).toBe("/held-mail");
  expect(
    notificationHref({ ticket_id: null, project_id: "p1", task_id: "k1", event_type: "task.moved" }),
  ).toBe("/projects/p1/tasks/k1");
  expect(notificationHref({ ticket_id: null, project_id: "p1", task_id: null, event_type: "task.moved" })).toBeNull();
  expect(notificationHref({ ticket_id: null, event_type: "something.else" })).toBeNull();
});
