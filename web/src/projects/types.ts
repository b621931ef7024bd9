/** The projects API's shapes (issue 24), from its OpenAPI document (api/schema.d.ts). */
import type { components, paths } from "../api/schema";

type S = components["schemas"];

export type ProjectSummary = S["ProjectSummary"];
export type Project = S["ProjectPublic"];
export type ProjectStatus = Project["status"];
export type ProjectRole = NonNullable<Project["my_role"]>;
export type Column = S["ColumnPublic"];
export type ColumnCategory = Column["category"];
export type DateConflicts = NonNullable<S["ProjectSettings"]["date_conflicts"]>;
export type UserSummary = S["UserSummary"];
export type Member = S["MemberPublic"];
export type Task = S["TaskPublic"];
export type Priority = Task["priority"];
export type Blocker = Task["blocked_by"][number];
export type ChecklistItem = S["ChecklistItem"];
export type TicketLink = S["TicketLinkPublic"];
export type Dependency = S["DependencyPublic"];
export type DependencyType = Dependency["type"];
/** Read through its route: the schema's name is not unique across domains. */
export type Comment = paths["/v1/projects/{project_id}/tasks/{task_id}/comments"]["post"]["responses"]["201"]["content"]["application/json"];
export type Schedule = S["Schedule"];
export type ScheduledTask = S["ScheduledTask"];
export type ScheduleDependency = S["ScheduleDependency"];
export type Move = S["Move"];

export interface Page<T> {
  items: T[];
  next_cursor?: string | null;
}
