import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { ApiError, describeError } from "../api/problem";
import { t } from "../i18n/projects";
import { blockersOf, call, paths, projectKeys, type Blocker, type Project, type Task } from "./api";
import { groupBoard, locate, moveCard, neighbours, type Board } from "./board";

export interface MoveRequest {
  task: Task;
  column_id: string;
  index: number;
  override?: boolean;
}

export interface Blocked extends MoveRequest {
  blockers: Blocker[];
  detail: string;
}

/** The board's moves: applied at once (optimistic), sent with the neighbours the card sits
 * between and the version it was read at; a 409 (open blockers) offers "Move anyway", a
 * 412 (someone else changed it) reloads the board and says so; anything else puts the card
 * back. Each outcome is announced in the board's live region. */
export function useMove(project: Project) {
  const client = useQueryClient();
  const key = projectKeys.tasks(project.id);
  const columns = [...project.columns].sort((a, b) => a.position - b.position);
  const columnIds = columns.map((c) => c.id);
  const [announcement, setAnnouncement] = useState("");
  const [blocked, setBlocked] = useState<Blocked | null>(null);
  const [notice, setNotice] = useState<{ tone: "warning" | "danger"; text: string } | null>(null);
  const nameOf = (columnId: string) => columns.find((c) => c.id === columnId)?.name ?? "";

  const mutation = useMutation({
    mutationFn: async (request: MoveRequest & { board: Board<Task> }) => {
      const next = moveCard(request.board, request.task.id, request.column_id, request.index);
      return call<Task>("POST", paths.move(project.id, request.task.id), {
        body: { column_id: request.column_id, ...neighbours(next, request.task.id), ...(request.override ? { override: true } : {}), version: request.task.version },
      });
    },
    onMutate: async (request) => {
      await client.cancelQueries({ queryKey: key });
      const before = client.getQueryData<Task[]>(key);
      const next = moveCard(request.board, request.task.id, request.column_id, request.index);
      client.setQueryData<Task[]>(key, columnIds.flatMap((id) => next[id] ?? []));
      setNotice(null);
      return { before };
    },
    onError: (error, request, context) => {
      if (context?.before) client.setQueryData(key, context.before);
      const blockedBy = blockersOf(error);
      if (blockedBy) {
        setBlocked({ task: request.task, column_id: request.column_id, index: request.index, ...blockedBy });
        setAnnouncement(t("projects.board.blockedAnnounce", { key: request.task.key }));
        return;
      }
      if (error instanceof ApiError && error.status === 412) {
        void client.invalidateQueries({ queryKey: key });
        void client.invalidateQueries({ queryKey: projectKeys.task(project.id, request.task.id) });
        // The notice is an alert: it is announced as it shows (not twice).
        setNotice({ tone: "warning", text: t("projects.board.stale", { key: request.task.key }) });
        setAnnouncement("");
        return;
      }
      setNotice({ tone: "danger", text: t("projects.board.moveFailed", { key: request.task.key, reason: describeError(error) }) });
      setAnnouncement("");
    },
    onSettled: () => {
      // The server's order has the last word (a poll may have raced the optimistic move).
      void client.invalidateQueries({ queryKey: key });
    },
    onSuccess: (saved, request) => {
      client.setQueryData<Task[]>(key, (now) => now?.map((task) => (task.id === saved.id ? saved : task)));
      client.setQueryData(projectKeys.task(project.id, saved.id), saved);
      void client.invalidateQueries({ queryKey: projectKeys.schedule(project.id) });
      void client.invalidateQueries({ queryKey: projectKeys.project(project.id) });
      const board = groupBoard(columnIds, client.getQueryData<Task[]>(key) ?? []);
      const at = locate(board, saved.id);
      setAnnouncement(
        t(request.override ? "projects.board.movedAnyway" : "projects.board.moved", {
          key: saved.key,
          column: nameOf(saved.column_id),
          position: (at?.index ?? 0) + 1,
          count: board[saved.column_id]?.length ?? 1,
        }),
      );
    },
  });

  const move = (board: Board<Task>, request: MoveRequest) => {
    const at = locate(board, request.task.id);
    if (at && at.column_id === request.column_id && at.index === request.index && !request.override) return;
    mutation.mutate({ ...request, board });
  };
  return { move, pending: mutation.isPending, announcement, blocked, setBlocked, notice, setNotice, columns, columnIds };
}
