import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { authFetch, etag, idempotencyKey } from "../api/client";
import { ApiError, isProblem } from "../api/problem";
import { labelled } from "../i18n/projects";
import { useFallbackPoll } from "../live/LiveProvider";
import type { Blocker, ColumnCategory, Comment, Dependency, Member, Page, Priority, Project, ProjectRole, ProjectStatus, ProjectSummary, Schedule, Task } from "./types";

export type * from "./types";

export const STATUS_LABELS: Record<ProjectStatus, string> = labelled({
  planned: "projects.status.planned",
  active: "projects.status.active",
  on_hold: "projects.status.on_hold",
  completed: "projects.status.completed",
  cancelled: "projects.status.cancelled",
});

export const ROLE_LABELS: Record<ProjectRole, string> = labelled({
  owner: "projects.role.owner",
  manager: "projects.role.manager",
  member: "projects.role.member",
  viewer: "projects.role.viewer",
});

export const CATEGORY_LABELS: Record<ColumnCategory, string> = labelled({
  todo: "projects.category.todo",
  in_progress: "projects.category.in_progress",
  done: "projects.category.done",
});

export const PRIORITY_LABELS: Record<Priority, string> = labelled({
  low: "projects.priority.low",
  normal: "projects.priority.normal",
  high: "projects.priority.high",
  urgent: "projects.priority.urgent",
});

/** Project roles that may edit tasks, and those that may change the settings. */
export function mayEdit(role: ProjectRole | null | undefined, manageAll: boolean): boolean {
  return manageAll || role === "owner" || role === "manager" || role === "member";
}

export function mayManage(role: ProjectRole | null | undefined, manageAll: boolean): boolean {
  return manageAll || role === "owner" || role === "manager";
}

/** One call to the projects API (/v1/projects): JSON in and out, a problem as an ApiError. */
export async function call<T>(method: string, path: string, options: { body?: unknown; query?: Record<string, string | number | boolean | null | undefined>; headers?: Record<string, string>; signal?: AbortSignal } = {}): Promise<T> {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(options.query ?? {})) if (value !== null && value !== undefined && value !== "") params.set(key, String(value));
  const search = params.toString();
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  const init: RequestInit = { method, headers };
  if (options.body !== undefined) init.body = JSON.stringify(options.body);
  if (options.signal) init.signal = options.signal;
  const response = await authFetch(new Request(`${path}${search ? `?${search}` : ""}`, init));
  const text = await response.text();
  const body: unknown = text ? JSON.parse(text) : null;
  if (!response.ok) throw new ApiError(response.status, isProblem(body) ? body : null);
  return body as T;
}

export const create = (path: string, body: unknown) => call<unknown>("POST", path, { body, headers: { "Idempotency-Key": idempotencyKey() } });
export const ifMatch = (version: number) => ({ "If-Match": etag(version) });

const P = "/v1/projects";
export const paths = {
  projects: P,
  project: (id: string) => `${P}/${id}`,
  columns: (id: string) => `${P}/${id}/columns`,
  members: (id: string) => `${P}/${id}/members`,
  member: (id: string, userId: string) => `${P}/${id}/members/${userId}`,
  tasks: (id: string) => `${P}/${id}/tasks`,
  task: (id: string, taskId: string) => `${P}/${id}/tasks/${taskId}`,
  move: (id: string, taskId: string) => `${P}/${id}/tasks/${taskId}/move`,
  comments: (id: string, taskId: string) => `${P}/${id}/tasks/${taskId}/comments`,
  watch: (id: string, taskId: string) => `${P}/${id}/tasks/${taskId}/watchers/me`,
  ticketLinks: (id: string, taskId: string) => `${P}/${id}/tasks/${taskId}/ticket-links`,
  ticketLink: (id: string, taskId: string, ticketId: string) => `${P}/${id}/tasks/${taskId}/ticket-links/${ticketId}`,
  dependencies: (id: string) => `${P}/${id}/dependencies`,
  dependency: (id: string, depId: string) => `${P}/${id}/dependencies/${depId}`,
  schedule: (id: string) => `${P}/${id}/schedule`,
  reschedule: (id: string, taskId: string) => `${P}/${id}/tasks/${taskId}/reschedule`,
  acrossTasks: `${P}/tasks`,
};

export interface ProjectFilters {
  q: string;
  status: ProjectStatus | "";
  archived: boolean;
}

export interface TaskFilters {
  q: string;
  assignee: string;
  label: string;
  priority: Priority | "";
  order: "board" | "due" | "created" | "priority";
}

export const projectKeys = {
  all: ["projects"] as const,
  list: (filters: ProjectFilters) => ["projects", "list", filters] as const,
  project: (id: string) => ["projects", "one", id] as const,
  members: (id: string) => ["projects", "one", id, "members"] as const,
  tasks: (id: string) => ["projects", "one", id, "tasks"] as const,
  taskList: (id: string, filters: TaskFilters) => ["projects", "one", id, "tasks", "list", filters] as const,
  task: (id: string, taskId: string) => ["projects", "one", id, "task", taskId] as const,
  comments: (id: string, taskId: string) => ["projects", "one", id, "task", taskId, "comments"] as const,
  attachments: (id: string, taskId: string) => ["projects", "one", id, "task", taskId, "attachments"] as const,
  dependencies: (id: string) => ["projects", "one", id, "dependencies"] as const,
  schedule: (id: string) => ["projects", "one", id, "schedule"] as const,
  mine: ["projects", "mine"] as const,
  ticket: (ticketId: string) => ["projects", "ticket", ticketId] as const,
};

/** Every page of a keyset list, up to `max` items (a board shows its whole project). */
export async function allPages<T>(path: string, query: Record<string, string | number | boolean | null | undefined>, signal?: AbortSignal, max = 1000): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null = null;
  do {
    const page: Page<T> = await call<Page<T>>("GET", path, { query: { ...query, limit: 100, cursor }, ...(signal ? { signal } : {}) });
    items.push(...page.items);
    cursor = page.next_cursor ?? null;
  } while (cursor && items.length < max);
  return items;
}

export function useProjects(filters: ProjectFilters, enabled = true) {
  return useQuery({
    queryKey: projectKeys.list(filters),
    enabled,
    queryFn: ({ signal }) => allPages<ProjectSummary>(paths.projects, { q: filters.q.trim() || null, status: filters.status || null, archived: filters.archived }, signal, 500),
  });
}

export function useProject(id: string) {
  return useQuery({ queryKey: projectKeys.project(id), queryFn: ({ signal }) => call<Project>("GET", paths.project(id), { signal }) });
}

export function useMembers(id: string) {
  return useQuery({ queryKey: projectKeys.members(id), queryFn: ({ signal }) => call<Member[] | Page<Member>>("GET", paths.members(id), { signal }), select: listOf });
}

/** While the realtime socket is down, an open board asks again this often (and whenever
 * the window gets the focus back); while it is up, the project's room says when. */
export const BOARD_POLL_MS = 30_000;

/** The whole board: every task in column then rank order. */
export function useBoardTasks(id: string) {
  const poll = useFallbackPoll(BOARD_POLL_MS);
  return useQuery({ queryKey: projectKeys.tasks(id), queryFn: ({ signal }) => allPages<Task>(paths.tasks(id), { order: "board" }, signal), refetchInterval: poll });
}

export function useTaskList(id: string, filters: TaskFilters) {
  return useQuery({
    queryKey: projectKeys.taskList(id, filters),
    queryFn: ({ signal }) =>
      allPages<Task>(paths.tasks(id), { q: filters.q.trim() || null, assignee: filters.assignee || null, label: filters.label.trim() || null, priority: filters.priority || null, order: filters.order }, signal, 500),
  });
}

export function useTask(id: string, taskId: string) {
  return useQuery({ queryKey: projectKeys.task(id, taskId), queryFn: ({ signal }) => call<Task>("GET", paths.task(id, taskId), { signal }) });
}

export function useComments(id: string, taskId: string) {
  return useQuery({ queryKey: projectKeys.comments(id, taskId), queryFn: ({ signal }) => call<Comment[] | Page<Comment>>("GET", paths.comments(id, taskId), { signal }), select: listOf });
}

export function useDependencies(id: string) {
  return useQuery({ queryKey: projectKeys.dependencies(id), queryFn: ({ signal }) => call<Dependency[] | Page<Dependency>>("GET", paths.dependencies(id), { signal }), select: listOf });
}

/** The rows of the schedule a timeline shows: a window of days, a page of rows. */
export interface ScheduleWindow {
  start: string;
  end: string;
  offset: number;
}

export const SCHEDULE_ROWS = 200;

/** The schedule (the critical path and summary of the whole project); with `window`, only
 * the rows whose earliest bar meets it, a page at a time. */
export function useSchedule(id: string, window?: ScheduleWindow) {
  const query = window ? { window_start: window.start, window_end: window.end, offset: window.offset, limit: SCHEDULE_ROWS } : {};
  return useQuery({
    queryKey: [...projectKeys.schedule(id), window ?? null],
    queryFn: ({ signal }) => call<Schedule>("GET", paths.schedule(id), { signal, query }),
    placeholderData: keepPreviousData,
  });
}

/** The caller's tasks: open ones only, or all (`open=false` would be the done ones only). */
export function useMyTasks(open: boolean) {
  return useQuery({ queryKey: [...projectKeys.mine, open], queryFn: ({ signal }) => allPages<Task>(paths.acrossTasks, { assignee: "me", open: open || null }, signal, 500) });
}

export function useTicketTasks(ticketId: string, enabled: boolean) {
  return useQuery({ queryKey: projectKeys.ticket(ticketId), enabled, queryFn: ({ signal }) => allPages<Task>(paths.acrossTasks, { ticket_id: ticketId }, signal, 200) });
}

/** A list answered bare or as a page. */
export function listOf<T>(answer: T[] | Page<T>): T[] {
  return Array.isArray(answer) ? answer : answer.items;
}

/** The open tasks a blocked move names (409 on .../move): the problem's `blockers`, else
 * the text of its `column_id` error. */
export function blockersOf(error: unknown): { blockers: Blocker[]; detail: string } | null {
  if (!(error instanceof ApiError) || error.status !== 409) return null;
  const raw = error.problem?.blockers;
  const blockers = Array.isArray(raw) ? (raw as Blocker[]) : [];
  return { blockers, detail: error.fieldErrors.column_id ?? error.problem?.detail ?? "" };
}
