import * as DropdownMenu from "@radix-ui/react-dropdown-menu";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useEffect, useMemo, useState, type DragEvent, type KeyboardEvent } from "react";
import { Link } from "react-router";
import { ApiError, describeError } from "../api/problem";
import { ConfirmDialog } from "../components/ConfirmDialog";
import { Alert, Badge, Button, cx, Field, Input, Select, Spinner } from "../components/ui";
import { onSubmit } from "../changes/parts";
import { t } from "../i18n/projects";
import { create, paths, PRIORITY_LABELS, useBoardTasks, type Project, type Task } from "./api";
import { dropIndex, groupBoard, keyMove as arrowMove, keyTarget, type KeyMove } from "./board";
import { useMove } from "./useMove";

const DRAG_TYPE = "application/x-servicedesk-task";
const ITEM = "cursor-pointer rounded px-2 py-1.5 outline-none data-[highlighted]:bg-surface-muted data-[disabled]:opacity-50";

/** The project's columns with their cards in rank order. Cards move by drag and drop
 * (native HTML drag events, no library) or by each card's "Move" menu (keyboard and screen
 * readers); every move is announced in a live region. */
export function Board({ project, editable }: { project: Project; editable: boolean }) {
  const tasks = useBoardTasks(project.id);
  const moves = useMove(project);
  const { columns, columnIds } = moves;
  const joined = columnIds.join(",");
  const board = useMemo(() => groupBoard(joined.split(","), tasks.data ?? []), [joined, tasks.data]);
  const [dragging, setDragging] = useState<string | null>(null);
  const byId = useMemo(() => new Map((tasks.data ?? []).map((task) => [task.id, task])), [tasks.data]);

  const drop = (e: DragEvent, columnId: string, overId: string | null) => {
    e.preventDefault();
    e.stopPropagation();
    const id = e.dataTransfer.getData(DRAG_TYPE) || dragging;
    setDragging(null);
    const task = id ? byId.get(id) : undefined;
    if (!task) return;
    moves.move(board, { task, column_id: columnId, index: dropIndex(board, task.id, columnId, overId) });
  };
  // After a keyboard move the card is elsewhere in the page (another column remounts it):
  // the focus follows it to its Move button.
  const [follow, setFollow] = useState<string | null>(null);
  useEffect(() => {
    if (!follow) return;
    const button = moveButton(follow);
    if (!button) return;
    button.focus();
    setFollow(null);
  }, [follow, board]);
  const keyMove = (task: Task, kind: KeyMove) => {
    const target = keyTarget(board, columnIds, task.id, kind);
    if (!target) return;
    setFollow(task.id);
    moves.move(board, { task, ...target });
  };
  /** Alt with an arrow key (Home, End) on a card moves it, as the Move menu does. */
  const onCardKey = (e: KeyboardEvent, task: Task) => {
    const kind = e.altKey ? arrowMove(e.key) : null;
    if (!kind) return;
    e.preventDefault();
    keyMove(task, kind);
  };

  if (tasks.isPending) return <Spinner label={t("projects.board.loading")} />;
  if (tasks.isError) return <Alert title={t("projects.board.loadFailed")}>{describeError(tasks.error)}</Alert>;
  const blocked = moves.blocked;
  return (
    <div className="space-y-3">
      {editable ? <NewTask project={project} /> : null}
      <p className="text-fg-muted" id="board-help">
        {editable ? t("projects.board.help") : t("projects.board.readOnly")}
      </p>
      {moves.notice ? (
        <Alert tone={moves.notice.tone} action={<Button size="sm" onClick={() => moves.setNotice(null)}>{t("projects.dismiss")}</Button>}>
          {moves.notice.text}
        </Alert>
      ) : null}
      <div role="status" aria-live="polite" className="sr-only" data-testid="board-announcer">
        {moves.announcement}
      </div>
      <div className="flex gap-3 overflow-x-auto pb-2" data-testid="board">
        {columns.map((column, c) => {
          const cards = board[column.id] ?? [];
          const over = column.wip_limit ? cards.length > column.wip_limit : false;
          return (
            <section
              key={column.id}
              aria-labelledby={`column-${column.id}`}
              className={cx("flex w-72 shrink-0 flex-col rounded-lg border bg-surface-muted p-2", over ? "border-warning-text" : "border-border")}
              data-testid="board-column"
              onDragOver={editable ? (e) => e.preventDefault() : undefined}
              onDrop={editable ? (e) => drop(e, column.id, null) : undefined}
            >
              <h3 id={`column-${column.id}`} className="mb-2 flex items-center justify-between gap-2 px-1 font-semibold">
                <span>{column.name}</span>
                <span className="text-sm font-normal text-fg-muted">
                  {column.wip_limit ? t("projects.board.wip", { n: cards.length, limit: column.wip_limit }) : t("projects.board.count", { n: cards.length })}
                </span>
              </h3>
              {over ? <p className="mb-2 px-1 text-sm font-medium text-warning-text">{t("projects.board.overLimit")}</p> : null}
              <ol className="flex min-h-16 flex-col gap-2" aria-labelledby={`column-${column.id}`}>
                {cards.map((task, i) => (
                  <li
                    key={task.id}
                    draggable={editable}
                    onDragStart={(e) => {
                      e.dataTransfer.setData(DRAG_TYPE, task.id);
                      e.dataTransfer.effectAllowed = "move";
                      setDragging(task.id);
                    }}
                    onDragEnd={() => setDragging(null)}
                    onKeyDown={editable ? (e) => onCardKey(e, task) : undefined}
                    onDragOver={editable ? (e) => e.preventDefault() : undefined}
                    onDrop={editable ? (e) => drop(e, column.id, task.id) : undefined}
                    className={cx("rounded-md border border-border bg-surface p-2 shadow-card", dragging === task.id && "opacity-60")}
                    data-testid="task-card"
                    data-task-key={task.key}
                  >
                    <CardBody project={project} task={task} />
                    {editable ? (
                      <MoveMenu
                        task={task}
                        first={i === 0}
                        last={i === cards.length - 1}
                        leftName={columns[c - 1]?.name}
                        rightName={columns[c + 1]?.name}
                        columns={columns.filter((x) => x.id !== column.id)}
                        onKey={(kind) => keyMove(task, kind)}
                        onColumn={(columnId) => {
                          setFollow(task.id);
                          moves.move(board, { task, column_id: columnId, index: (board[columnId] ?? []).length });
                        }}
                      />
                    ) : null}
                  </li>
                ))}
              </ol>
            </section>
          );
        })}
      </div>
      <ConfirmDialog
        open={blocked !== null}
        title={t("projects.board.blockedTitle", { key: blocked?.task.key ?? "" })}
        confirmLabel={t("projects.board.moveAnyway")}
        cancelLabel={t("projects.board.keepWhereItIs")}
        busy={moves.pending}
        onClose={() => moves.setBlocked(null)}
        onConfirm={() => {
          if (!blocked) return;
          const task = byId.get(blocked.task.id) ?? blocked.task;
          moves.setBlocked(null);
          moves.move(board, { task, column_id: blocked.column_id, index: blocked.index, override: true });
        }}
      >
        <span data-testid="blockers">
          {blocked?.blockers.length
            ? t("projects.board.blockedBy", { tasks: blocked.blockers.map((b) => `${b.key} ${b.title}`).join(", ") })
            : blocked?.detail}
        </span>
      </ConfirmDialog>
    </div>
  );
}

function moveButton(taskId: string): HTMLElement | null {
  return document.querySelector<HTMLElement>(`[data-move-for="${taskId}"]`);
}

function CardBody({ project, task }: { project: Project; task: Task }) {
  const open = task.blocked_by.filter((b) => b.open !== false);
  return (
    <div className="space-y-1">
      <Link to={`/projects/${project.id}/tasks/${task.id}`} className="block font-medium text-accent-text underline">
        <span className="font-mono text-sm">{task.key}</span> {task.title}
      </Link>
      <div className="flex flex-wrap gap-1">
        {task.priority !== "normal" ? <Badge tone={task.priority === "urgent" || task.priority === "high" ? "warning" : "neutral"}>{PRIORITY_LABELS[task.priority]}</Badge> : null}
        {open.length ? <Badge tone="danger">{t("projects.board.blockedBadge", { n: open.length })}</Badge> : null}
        {task.due_date ? <Badge>{t("projects.board.due", { date: task.due_date })}</Badge> : null}
        {task.assignee ? <Badge tone="info">{task.assignee.name || task.assignee.email}</Badge> : null}
        {task.labels.map((label) => (
          <Badge key={label}>{label}</Badge>
        ))}
      </div>
    </div>
  );
}

function MoveMenu({
  task,
  first,
  last,
  leftName,
  rightName,
  columns,
  onKey,
  onColumn,
}: {
  task: Task;
  first: boolean;
  last: boolean;
  leftName: string | undefined;
  rightName: string | undefined;
  columns: { id: string; name: string }[];
  onKey: (kind: KeyMove) => void;
  onColumn: (columnId: string) => void;
}) {
  return (
    <DropdownMenu.Root modal={false}>
      <DropdownMenu.Trigger asChild>
        <Button size="sm" variant="ghost" className="mt-1" data-move-for={task.id} aria-label={t("projects.board.moveLabel", { key: task.key })} aria-keyshortcuts="Alt+ArrowUp Alt+ArrowDown Alt+ArrowLeft Alt+ArrowRight">
          {t("projects.board.move")}
        </Button>
      </DropdownMenu.Trigger>
      <DropdownMenu.Portal>
        <DropdownMenu.Content
          align="start"
          sideOffset={4}
          onCloseAutoFocus={(e) => {
            // Back to the card's Move button where the card now is (Radix would go back to
            // the button it opened from, which a move to another column has replaced).
            e.preventDefault();
            window.setTimeout(() => moveButton(task.id)?.focus(), 0);
          }}
          className="z-50 min-w-48 rounded-md border border-border bg-surface p-1 text-fg shadow-card">
          <DropdownMenu.Item className={ITEM} disabled={first} onSelect={() => onKey("up")}>
            {t("projects.board.moveUp")}
          </DropdownMenu.Item>
          <DropdownMenu.Item className={ITEM} disabled={last} onSelect={() => onKey("down")}>
            {t("projects.board.moveDown")}
          </DropdownMenu.Item>
          <DropdownMenu.Item className={ITEM} disabled={first} onSelect={() => onKey("top")}>
            {t("projects.board.moveTop")}
          </DropdownMenu.Item>
          <DropdownMenu.Item className={ITEM} disabled={last} onSelect={() => onKey("bottom")}>
            {t("projects.board.moveBottom")}
          </DropdownMenu.Item>
          {leftName !== undefined ? (
            <DropdownMenu.Item className={ITEM} onSelect={() => onKey("left")}>
              {t("projects.board.moveLeft", { column: leftName })}
            </DropdownMenu.Item>
          ) : null}
          {rightName !== undefined ? (
            <DropdownMenu.Item className={ITEM} onSelect={() => onKey("right")}>
              {t("projects.board.moveRight", { column: rightName })}
            </DropdownMenu.Item>
          ) : null}
          <DropdownMenu.Separator className="my-1 h-px bg-border" />
          {columns.map((column) => (
            <DropdownMenu.Item key={column.id} className={ITEM} onSelect={() => onColumn(column.id)}>
              {t("projects.board.moveTo", { column: column.name })}
            </DropdownMenu.Item>
          ))}
        </DropdownMenu.Content>
      </DropdownMenu.Portal>
    </DropdownMenu.Root>
  );
}

/** A task by its title into a column (the first by default); the rest on its page. */
function NewTask({ project }: { project: Project }) {
  const client = useQueryClient();
  const columns = [...project.columns].sort((a, b) => a.position - b.position);
  const [title, setTitle] = useState("");
  const [columnId, setColumnId] = useState(columns[0]?.id ?? "");
  const add = useMutation({
    mutationFn: () => create(paths.tasks(project.id), { title: title.trim(), column_id: columnId || null }) as Promise<Task>,
    onSuccess: () => {
      setTitle("");
      void client.invalidateQueries({ queryKey: ["projects", "one", project.id] });
    },
  });
  const error = add.error instanceof ApiError ? add.error.fieldErrors.title : undefined;
  return (
    <form className="flex flex-wrap items-end gap-2" aria-label={t("projects.board.newTask")} onSubmit={onSubmit(() => title.trim() && add.mutate())}>
      <Field label={t("projects.task.title")} error={error}>
        {(p) => <Input {...p} maxLength={300} value={title} onChange={(e) => setTitle(e.target.value)} />}
      </Field>
      <Field label={t("projects.board.column")}>
        {(p) => (
          <Select {...p} value={columnId} onChange={(e) => setColumnId(e.target.value)}>
            {columns.map((c) => (
              <option key={c.id} value={c.id}>
                {c.name}
              </option>
            ))}
          </Select>
        )}
      </Field>
      <Button type="submit" variant="primary" busy={add.isPending} disabled={!title.trim()}>
        {t("projects.board.addTask")}
      </Button>
      {add.isError && !error ? <Alert>{describeError(add.error)}</Alert> : null}
    </form>
  );
}
