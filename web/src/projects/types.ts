/**
 * The projects API's shapes (PROJECTS-CONTRACT.md, issue 24), as the web reads them.
 * Written by hand against the contract while the API was built beside it; the OpenAPI
 * document has the last word (scripts/export_openapi.py).
 */

export type ProjectStatus = "planned" | "active" | "on_hold" | "completed" | "cancelled";
export type ProjectRole = "owner" | "manager" | "member" | "viewer";
export type ColumnCategory = "todo" | "in_progress" | "done";
export type Priority = "low" | "normal" | "high" | "urgent";
export type DependencyType = "finish_to_start" | "start_to_start";
export type DateConflicts = "warn" | "refuse";

export interface UserSummary {
  id: string;
  name: string;
  email: string;
}

export interface Column {
  id: string;
  name: string;
  category: ColumnCategory;
  position: number;
  wip_limit?: number | null;
}

export interface ProjectSummary {
  id: string;
  key: string;
  name: string;
  status: ProjectStatus;
  owner?: UserSummary | null;
  start_date?: string | null;
  target_date?: string | null;
  archived: boolean;
  my_role?: ProjectRole | null;
  counts?: { tasks: number; open_tasks: number };
}

export interface Project extends ProjectSummary {
  description: string;
  version: number;
  columns: Column[];
  settings: { date_conflicts: DateConflicts };
  created_at: string;
  updated_at: string;
}

export interface Member {
  user: UserSummary;
  role: ProjectRole;
}

export interface ChecklistItem {
  id?: string;
  text: string;
  done: boolean;
}

export interface Blocker {
  task_id: string;
  key: string;
  title: string;
  open?: boolean;
}

export interface TicketLink {
  ticket_id: string;
  number: number | string;
  subject: string;
  waits: boolean;
}

export interface Task {
  id: string;
  project_id: string;
  number: number;
  key: string;
  title: string;
  description: string;
  column_id: string;
  status_category: ColumnCategory;
  assignee: UserSummary | null;
  estimate_days: number | null;
  start_date: string | null;
  due_date: string | null;
  priority: Priority;
  labels: string[];
  checklist: ChecklistItem[];
  rank: string;
  watchers: (UserSummary | string)[];
  blocked_by: Blocker[];
  ticket_links: TicketLink[];
  change_id?: string | null;
  version: number;
  created_at: string;
  updated_at: string;
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export interface Dependency {
  id: string;
  predecessor_id: string;
  successor_id: string;
  type: DependencyType;
  lag_days: number;
}

export interface Comment {
  id: string;
  body: string;
  author?: UserSummary | null;
  created_at: string;
}

export interface ScheduledTask {
  task_id: string;
  key: string;
  title: string;
  duration_days: number;
  earliest_start: string;
  earliest_finish: string;
  latest_start: string;
  latest_finish: string;
  slack_days: number;
  critical: boolean;
  start_date: string | null;
  due_date: string | null;
  conflicts: unknown[];
}

export interface Schedule {
  project_start: string | null;
  project_finish: string | null;
  critical_path: string[];
  tasks: ScheduledTask[];
}

export interface Move {
  task_id: string;
  key: string;
  old_start: string | null;
  new_start: string | null;
  old_due: string | null;
  new_due: string | null;
}
