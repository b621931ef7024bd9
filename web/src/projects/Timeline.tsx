import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useId, useState } from "react";
import { ApiError, describeError } from "../api/problem";
import { onSubmit } from "../changes/parts";
import { Alert, Button, Card, cx, Field, Input, Select, Spinner } from "../components/ui";
import { plural, t } from "../i18n/projects";
import { call, paths, projectKeys, useBoardTasks, useSchedule, type Move, type Project, type Schedule } from "./api";
import { addDays, layout, SCALE } from "./timeline";

const LABEL = 220;

const WINDOW_DAYS = 56;
const STEP_DAYS = 28;

/** The schedule as a per-day Gantt chart (bars from the earliest start for the estimate,
 * dependency arrows, the critical path hatched, outlined and marked "critical" in words),
 * or as a table; the arrows are the schedule's own (the edges of the rows answered, those
 * leaving them as stubs naming the other task), never the whole dependency list; a sentence sums it up for everyone. It shows a window of eight weeks
 * (the server answers only its rows, a page at a time), moved four weeks at a time and
 * said in a live region. Below it, a task's new start date is previewed (the dependants
 * it pushes) and then applied. */
export function Timeline({ project, editable }: { project: Project; editable: boolean }) {
  const [from, setFrom] = useState(() => project.start_date ?? new Date().toISOString().slice(0, 10));
  const [offset, setOffset] = useState(0);
  const shown = { start: from, end: addDays(from, WINDOW_DAYS - 1), offset };
  const schedule = useSchedule(project.id, shown);
  const [view, setView] = useState<"chart" | "table">("chart");
  if (schedule.isPending) return <Spinner label={t("projects.timeline.loading")} />;
  if (schedule.isError) return <Alert title={t("projects.timeline.loadFailed")}>{describeError(schedule.error)}</Alert>;
  const data = schedule.data;
  const path = data.critical_keys;
  const move = (days: number) => {
    setFrom((now) => addDays(now, days));
    setOffset(0);
  };
  const summary = data.total_tasks
    ? t("projects.timeline.summary", {
        tasks: plural(data.total_tasks, { one: "projects.timeline.taskOne", other: "projects.timeline.taskOther" }),
        start: data.project_start ?? "—",
        finish: data.project_finish ?? "—",
        path: path.length ? path.join(" → ") : t("projects.timeline.noPath"),
      })
    : t("projects.timeline.empty");
  return (
    <div className="space-y-4">
      <Card as="section" aria-labelledby="timeline-heading" className="space-y-3">
        <div className="flex flex-wrap items-center justify-between gap-2">
          <h2 id="timeline-heading" className="font-semibold">
            {t("projects.timeline.heading")}
          </h2>
          <div role="group" aria-label={t("projects.timeline.view")} className="flex gap-1">
            <Button size="sm" aria-pressed={view === "chart"} variant={view === "chart" ? "primary" : "secondary"} onClick={() => setView("chart")}>
              {t("projects.timeline.chart")}
            </Button>
            <Button size="sm" aria-pressed={view === "table"} variant={view === "table" ? "primary" : "secondary"} onClick={() => setView("table")}>
              {t("projects.timeline.table")}
            </Button>
          </div>
        </div>
        <p id="timeline-summary" data-testid="timeline-summary">
          {summary}
        </p>
        {data.total_tasks ? (
          <div className="flex flex-wrap items-center gap-2">
            <div role="group" aria-label={t("projects.timeline.window")} className="flex gap-1">
              <Button size="sm" onClick={() => move(-STEP_DAYS)}>
                {t("projects.timeline.earlier")}
              </Button>
              <Button size="sm" onClick={() => move(STEP_DAYS)}>
                {t("projects.timeline.later")}
              </Button>
              {offset > 0 ? (
                <Button size="sm" onClick={() => setOffset((n) => Math.max(0, n - data.tasks.length))}>
                  {t("projects.timeline.previousRows")}
                </Button>
              ) : null}
              {data.next_offset != null ? (
                <Button size="sm" onClick={() => setOffset(data.next_offset ?? 0)}>
                  {t("projects.timeline.nextRows")}
                </Button>
              ) : null}
            </div>
            <p role="status" aria-live="polite" data-testid="timeline-window">
              {t("projects.timeline.windowSaid", { start: shown.start, end: shown.end, first: data.tasks.length ? data.offset + 1 : 0, last: data.offset + data.tasks.length, matched: data.matched })}
            </p>
          </div>
        ) : null}
        {data.total_tasks && !data.tasks.length ? <p className="text-fg-muted">{t("projects.timeline.noneInWindow")}</p> : null}
        {data.tasks.length ? (view === "chart" ? <Chart schedule={data} summary={summary} /> : <ScheduleTable schedule={data} />) : null}
      </Card>
      {editable && data.total_tasks ? <Reschedule project={project} schedule={data} /> : null}
    </div>
  );
}

function Chart({ schedule, summary }: { schedule: Schedule; summary: string }) {
  const id = useId();
  const out = layout(schedule.tasks, schedule.dependencies, schedule.critical_path);
  const cut = schedule.dependencies_matched - schedule.dependencies.length;
  const said = [t("projects.timeline.arrows", { n: out.arrows.length }), out.stubs.length ? t("projects.timeline.stubs", { n: out.stubs.length }) : "", cut > 0 ? t("projects.timeline.edgesCut", { n: cut }) : ""].filter(Boolean).join(" ");
  const width = LABEL + out.width + 80;
  return (
    <>
      <div className="overflow-x-auto">
        <svg
          width={width}
          height={out.height + 8}
          viewBox={`0 0 ${width} ${out.height + 8}`}
          role="img"
          aria-labelledby={`${id}-title ${id}-desc`}
          className="text-fg"
          data-testid="timeline-chart"
        >
          <title id={`${id}-title`}>{t("projects.timeline.heading")}</title>
          <desc id={`${id}-desc`}>{`${summary} ${said}`}</desc>
          <defs>
            <pattern id={`${id}-hatch`} width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
              <rect width="6" height="6" className="fill-danger-subtle" />
              <line x1="0" y1="0" x2="0" y2="6" className="stroke-danger-text" strokeWidth="2" />
            </pattern>
            <marker id={`${id}-arrow`} viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse">
              <path d="M 0 0 L 10 5 L 0 10 z" fill="currentColor" />
            </marker>
          </defs>
          <g transform={`translate(${LABEL} 0)`}>
            {out.ticks.map((tick) => (
              <g key={tick.day}>
                <line x1={tick.x} x2={tick.x} y1={SCALE.header - 6} y2={out.height} className="stroke-border" strokeWidth={1} />
                <text x={tick.x + SCALE.dayWidth / 2} y={SCALE.header - 10} textAnchor="middle" className="fill-fg-muted text-xs">
                  {tick.label}
                </text>
              </g>
            ))}
          </g>
          {out.bars.map((bar) => (
            <text key={bar.task.task_id} x={4} y={bar.y + SCALE.barHeight - 4} className={cx("fill-current text-xs", bar.critical && "font-semibold")}>
              {`${bar.task.key} ${bar.task.title.length > 18 ? `${bar.task.title.slice(0, 17)}…` : bar.task.title}`}
            </text>
          ))}
          <g transform={`translate(${LABEL} 0)`}>
            {out.arrows.map((arrow) => (
              <path
                key={arrow.id}
                d={arrow.path}
                fill="none"
                stroke="currentColor"
                strokeWidth={arrow.critical ? 2.5 : 1.25}
                strokeDasharray={arrow.critical ? undefined : "4 3"}
                markerEnd={`url(#${id}-arrow)`}
                data-testid="timeline-arrow"
                data-critical={arrow.critical}
              />
            ))}
            {out.stubs.map((stub) => (
              <g key={stub.id} data-testid="timeline-stub" data-direction={stub.direction} data-other={stub.other}>
                <path d={stub.path} fill="none" stroke="currentColor" strokeWidth={1.25} strokeDasharray="2 2" markerEnd={`url(#${id}-arrow)`} />
                <text x={stub.labelX} y={stub.labelY} textAnchor={stub.direction === "in" ? "end" : "start"} className="fill-fg-muted text-xs">
                  {stub.other}
                </text>
              </g>
            ))}
            {out.bars.map((bar) => {
              const tip = t("projects.timeline.barTip", { key: bar.task.key, title: bar.task.title, start: bar.task.earliest_start, finish: bar.task.earliest_finish, slack: bar.task.slack_days });
              return (
                <g key={bar.task.task_id} data-testid="timeline-bar" data-critical={bar.critical} data-key={bar.task.key}>
                  <title>{bar.critical ? `${tip} ${t("projects.timeline.criticalWord")}` : tip}</title>
                  {bar.milestone ? (
                    <polygon
                      points={`${bar.x},${bar.y} ${bar.x + SCALE.barHeight / 2},${bar.y + SCALE.barHeight / 2} ${bar.x},${bar.y + SCALE.barHeight} ${bar.x - SCALE.barHeight / 2},${bar.y + SCALE.barHeight / 2}`}
                      className={bar.critical ? "stroke-danger-text" : "fill-accent stroke-accent-text"}
                      fill={bar.critical ? `url(#${id}-hatch)` : undefined}
                      strokeWidth={bar.critical ? 3 : 1}
                    />
                  ) : (
                    <rect
                      x={bar.x + 1}
                      y={bar.y}
                      width={Math.max(2, bar.width - 2)}
                      height={SCALE.barHeight}
                      rx={3}
                      className={bar.critical ? "stroke-danger-text" : "fill-accent-subtle stroke-accent-text"}
                      fill={bar.critical ? `url(#${id}-hatch)` : undefined}
                      strokeWidth={bar.critical ? 3 : 1}
                    />
                  )}
                  {bar.critical ? (
                    <text x={bar.x + Math.max(bar.width, SCALE.barHeight / 2) + 6} y={bar.y + SCALE.barHeight - 4} className="fill-danger-text text-xs font-semibold">
                      {t("projects.timeline.criticalWord")}
                    </text>
                  ) : null}
                </g>
              );
            })}
          </g>
        </svg>
      </div>
      <ul className="flex flex-wrap gap-4 text-sm" aria-label={t("projects.timeline.legend")}>
        <li className="flex items-center gap-2">
          <svg width="28" height="14" aria-hidden="true">
            <rect x="1" y="1" width="26" height="12" rx="3" className="fill-accent-subtle stroke-accent-text" />
          </svg>
          {t("projects.timeline.legendTask")}
        </li>
        <li className="flex items-center gap-2">
          <svg width="28" height="14" aria-hidden="true">
            <rect x="1.5" y="1.5" width="25" height="11" rx="3" fill={`url(#${id}-hatch)`} className="stroke-danger-text" strokeWidth="3" />
          </svg>
          {t("projects.timeline.legendCritical")}
        </li>
        <LegendLine d="M 1 7 H 26" dash="4 3" label={t("projects.timeline.legendArrow")} />
        {out.stubs.length ? <LegendLine d="M 1 7 H 18" dash="2 2" label={t("projects.timeline.legendStub")} /> : null}
      </ul>
    </>
  );
}

/** A legend entry drawn as a line (an arrow or a stub). */
function LegendLine({ d, dash, label }: { d: string; dash: string; label: string }) {
  return (
    <li className="flex items-center gap-2">
      <svg width="28" height="14" aria-hidden="true" className="text-fg">
        <path d={d} stroke="currentColor" strokeDasharray={dash} />
      </svg>
      {label}
    </li>
  );
}

function ScheduleTable({ schedule }: { schedule: Schedule }) {
  return (
    <div className="overflow-x-auto">
      <table className="w-full text-left" data-testid="timeline-table">
        <caption className="sr-only">{t("projects.timeline.heading")}</caption>
        <thead className="border-b border-border text-fg-muted">
          <tr>
            <th scope="col" className="px-2 py-1">{t("projects.timeline.task")}</th>
            <th scope="col" className="px-2 py-1">{t("projects.timeline.start")}</th>
            <th scope="col" className="px-2 py-1">{t("projects.timeline.finish")}</th>
            <th scope="col" className="px-2 py-1">{t("projects.timeline.duration")}</th>
            <th scope="col" className="px-2 py-1">{t("projects.timeline.slack")}</th>
            <th scope="col" className="px-2 py-1">{t("projects.timeline.critical")}</th>
            <th scope="col" className="px-2 py-1">{t("projects.timeline.conflicts")}</th>
          </tr>
        </thead>
        <tbody>
          {schedule.tasks.map((task) => (
            <tr key={task.task_id} className="border-b border-border last:border-b-0">
              <th scope="row" className="px-2 py-1 font-normal">
                <span className="font-mono text-sm">{task.key}</span> {task.title}
              </th>
              <td className="px-2 py-1">{task.earliest_start}</td>
              <td className="px-2 py-1">{task.earliest_finish}</td>
              <td className="px-2 py-1 tabular-nums">{task.duration_days}</td>
              <td className="px-2 py-1 tabular-nums">{task.slack_days}</td>
              <td className={cx("px-2 py-1", task.critical && "font-semibold text-danger-text")}>{task.critical ? t("projects.yes") : t("projects.no")}</td>
              <td className="px-2 py-1">{task.conflicts.length ? task.conflicts.map((c) => (typeof c === "string" ? c : JSON.stringify(c))).join("; ") : "—"}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** A task's new start date: first the moves it would cause (itself and the dependants it
 * pushes), then applied. */
function Reschedule({ project, schedule }: { project: Project; schedule: Schedule }) {
  const client = useQueryClient();
  const tasks = useBoardTasks(project.id);
  const [taskId, setTaskId] = useState("");
  const [date, setDate] = useState("");
  const [preview, setPreview] = useState<Move[] | null>(null);
  const [done, setDone] = useState("");
  const version = tasks.data?.find((task) => task.id === taskId)?.version ?? 0;
  const send = (apply: boolean) => call<{ moves: Move[] }>("POST", paths.reschedule(project.id, taskId), { body: { start_date: date, apply, version } });
  const look = useMutation({
    mutationFn: () => send(false),
    onSuccess: (answer) => {
      setPreview(answer.moves);
      setDone("");
    },
  });
  const apply = useMutation({
    mutationFn: () => send(true),
    onSuccess: (answer) => {
      setPreview(null);
      setDone(plural(answer.moves.length, { one: "projects.timeline.appliedOne", other: "projects.timeline.appliedOther" }));
      void client.invalidateQueries({ queryKey: ["projects", "one", project.id] });
    },
    onError: (error) => {
      if (error instanceof ApiError && error.status === 412) void client.invalidateQueries({ queryKey: projectKeys.tasks(project.id) });
    },
  });
  const error = look.error ?? apply.error;
  const fields = error instanceof ApiError ? error.fieldErrors : {};
  return (
    <Card as="section" aria-labelledby="reschedule-heading" className="space-y-3">
      <h2 id="reschedule-heading" className="font-semibold">
        {t("projects.timeline.reschedule")}
      </h2>
      <p className="text-fg-muted">{t("projects.timeline.rescheduleHint")}</p>
      <form
        className="flex flex-wrap items-end gap-2"
        aria-labelledby="reschedule-heading"
        onSubmit={onSubmit(() => {
          if (taskId && date) look.mutate();
        })}
      >
        <Field label={t("projects.timeline.task")}>
          {(p) => (
            <Select
              {...p}
              value={taskId}
              onChange={(e) => {
                setTaskId(e.target.value);
                setPreview(null);
                setDate(schedule.tasks.find((x) => x.task_id === e.target.value)?.earliest_start ?? "");
              }}
            >
              <option value="">{t("projects.timeline.chooseTask")}</option>
              {schedule.tasks.map((task) => (
                <option key={task.task_id} value={task.task_id}>
                  {`${task.key} ${task.title}`}
                </option>
              ))}
            </Select>
          )}
        </Field>
        <Field label={t("projects.timeline.newStart")} error={fields.start_date}>
          {(p) => (
            <Input
              {...p}
              type="date"
              value={date}
              onChange={(e) => {
                setDate(e.target.value);
                setPreview(null);
              }}
            />
          )}
        </Field>
        <Button type="submit" busy={look.isPending} disabled={!taskId || !date}>
          {t("projects.timeline.preview")}
        </Button>
      </form>
      {error && !fields.start_date ? <Alert>{describeError(error)}</Alert> : null}
      {done ? <Alert tone="success">{done}</Alert> : null}
      {preview ? (
        <div className="space-y-2" data-testid="reschedule-preview">
          {preview.length ? (
            <table className="w-full text-left">
              <caption className="text-left font-medium">{t("projects.timeline.previewCaption")}</caption>
              <thead className="border-b border-border text-fg-muted">
                <tr>
                  <th scope="col" className="px-2 py-1">{t("projects.timeline.task")}</th>
                  <th scope="col" className="px-2 py-1">{t("projects.timeline.startMove")}</th>
                  <th scope="col" className="px-2 py-1">{t("projects.timeline.dueMove")}</th>
                </tr>
              </thead>
              <tbody>
                {preview.map((m) => (
                  <tr key={m.task_id} className="border-b border-border last:border-b-0">
                    <th scope="row" className="px-2 py-1 font-mono text-sm font-normal">{m.key}</th>
                    <td className="px-2 py-1">{`${m.old_start ?? "—"} → ${m.new_start ?? "—"}`}</td>
                    <td className="px-2 py-1">{`${m.old_due ?? "—"} → ${m.new_due ?? "—"}`}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : (
            <p>{t("projects.timeline.noMoves")}</p>
          )}
          <div className="flex gap-2">
            <Button variant="primary" busy={apply.isPending} disabled={!preview.length} onClick={() => apply.mutate()}>
              {t("projects.timeline.apply")}
            </Button>
            <Button onClick={() => setPreview(null)}>{t("projects.cancel")}</Button>
          </div>
        </div>
      ) : null}
    </Card>
  );
}
