/**
 * Small hand-made charts: no chart library (nothing to download, nothing to lazy-load),
 * colours only from the design tokens, and a text alternative for every one. Categorical
 * figures are tables whose cells carry a bar (the numbers are the content, the bars are
 * decoration); the time series is an SVG with a summary label and its data as a table.
 */
import { useEffect, useId, useRef, useState, type ReactNode, type RefObject } from "react";
import { cx } from "../components/ui";
import { niceMax } from "./metrics";
import { t } from "../i18n/manager";

const number = new Intl.NumberFormat();
const percent = new Intl.NumberFormat(undefined, { style: "percent", maximumFractionDigits: 1 });

export function formatPercent(value: number | null): string {
  return value === null ? "—" : percent.format(value);
}

export type BarTone = "accent" | "success" | "warning" | "danger" | "neutral";
const BAR: Record<BarTone, string> = {
  accent: "bg-accent-text",
  success: "bg-success-text",
  warning: "bg-warning-text",
  danger: "bg-danger-text",
  neutral: "bg-neutral-text",
};
const FILL: Record<BarTone, string> = {
  accent: "fill-accent-text",
  success: "fill-success-text",
  warning: "fill-warning-text",
  danger: "fill-danger-text",
  neutral: "fill-neutral-text",
};

export interface BarRow {
  label: ReactNode;
  value: number;
  tone?: BarTone;
}

/** A horizontal bar chart that is a table: label, count, share, and a bar for the eye. */
export function BarTable({
  caption,
  rows,
  valueHeader = t("manager.charts.tickets"),
  testId,
  format = (v: number) => number.format(v),
  share = true,
}: {
  caption: string;
  rows: BarRow[];
  valueHeader?: string;
  testId?: string;
  /** How a value reads (a count by default; a duration or a share in reports). */
  format?: (value: number) => ReactNode;
  /** The share-of-total column (meaningless for durations and ratios). */
  share?: boolean;
}) {
  const total = rows.reduce((sum, r) => sum + r.value, 0);
  const max = Math.max(1, ...rows.map((r) => r.value));
  return (
    <table className="w-full table-fixed text-left" data-testid={testId}>
      <caption className="sr-only">{caption}</caption>
      <thead className="sr-only">
        <tr>
          <th scope="col">{t("manager.charts.group")}</th>
          <th scope="col">{valueHeader}</th>
          {share ? <th scope="col">{t("manager.charts.share")}</th> : null}
        </tr>
      </thead>
      <tbody>
        {rows.map((row, i) => (
          <tr key={i} className="align-middle">
            <th scope="row" className="w-2/5 truncate py-1 pr-2 font-normal">
              {row.label}
            </th>
            <td className="py-1">
              <div className="flex items-center gap-2">
                <div className="h-3 flex-1 overflow-hidden rounded-sm bg-surface-muted" aria-hidden="true">
                  <div className={cx("h-full rounded-sm", BAR[row.tone ?? "accent"])} style={{ width: `${(row.value / max) * 100}%` }} />
                </div>
                <span className={cx("text-right font-semibold tabular-nums", share ? "w-10" : "min-w-16 whitespace-nowrap")}>{format(row.value)}</span>
              </div>
            </td>
            {share ? <td className="w-16 py-1 text-right text-fg-muted tabular-nums">{total ? percent.format(row.value / total) : "—"}</td> : null}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export interface Series {
  name: string;
  tone: BarTone;
  values: number[];
}

/**
 * Grouped columns over time (one group per bucket, one column per series), as an SVG
 * image with a one-sentence summary, a legend, and the numbers in a table below.
 */
/** The width an element is laid out at (drawn at its own pixel size, the chart's text
 * stays at the text size on a phone and on a wide screen). */
function useWidth<T extends HTMLElement>(fallback: number): [RefObject<T | null>, number] {
  const ref = useRef<T>(null);
  const [width, setWidth] = useState(fallback);
  useEffect(() => {
    const element = ref.current;
    if (!element || typeof ResizeObserver === "undefined") return;
    const observer = new ResizeObserver((entries) => {
      const w = Math.round(entries[0]?.contentRect.width ?? 0);
      if (w > 0) setWidth(w);
    });
    observer.observe(element);
    return () => observer.disconnect();
  }, []);
  return [ref, width];
}

interface Named {
  name: string;
  tone: BarTone;
}

/** The y axis: a grid line and a label at each tick. */
function YTicks({ ticks, left, right, y, label }: { ticks: number[]; left: number; right: number; y: (v: number) => number; label: (v: number) => string }) {
  return (
    <>
      {ticks.map((item) => (
        <g key={item}>
          <line x1={left} x2={right} y1={y(item)} y2={y(item)} className="stroke-border" strokeWidth={1} />
          <text x={left - 6} y={y(item) + 4} textAnchor="end" className="fill-fg-muted text-xs">
            {label(item)}
          </text>
        </g>
      ))}
    </>
  );
}

/** The x axis: the bucket labels shown (every nth one, so that they never overlap). */
function XLabels({ labels, x, baseline }: { labels: string[]; x: (i: number) => number; baseline: number }) {
  return (
    <>
      {labels.map((label, i) => (
        <text key={label + i} x={x(i)} y={baseline} textAnchor="middle" className="fill-fg-muted text-xs">
          {label}
        </text>
      ))}
    </>
  );
}

function every(count: number, width: number, gap: number): number {
  return Math.ceil(count / Math.max(2, Math.floor(width / gap)));
}

/**
 * What every time-series chart has around its drawing: a figure named by its title, a
 * legend, the SVG as an image whose name is a one-sentence summary, and the numbers as a
 * table behind "Show the numbers as a table" (the text alternative).
 */
function ChartFrame({
  title,
  series,
  swatch,
  summary,
  width,
  height,
  box,
  labels,
  cell,
  testId,
  children,
}: {
  title: string;
  series: Named[];
  /** The legend swatch's shape (a square for columns, a dash for lines). */
  swatch: string;
  summary: string;
  width: number;
  height: number;
  box: RefObject<HTMLDivElement | null>;
  labels: string[];
  cell: (series: number, bucket: number) => string;
  testId?: string;
  children: ReactNode;
}) {
  const id = useId();
  return (
    <figure aria-labelledby={`${id}-title`} data-testid={testId}>
      <figcaption id={`${id}-title`} className="mb-2 font-semibold">
        {title}
      </figcaption>
      <ul className="mb-2 flex flex-wrap gap-4" aria-label={t("manager.charts.legend")}>
        {series.map((s) => (
          <li key={s.name} className="flex items-center gap-2">
            <span aria-hidden="true" className={cx("inline-block rounded-sm", swatch, BAR[s.tone])} />
            {s.name}
          </li>
        ))}
      </ul>
      <div ref={box}>
        <svg viewBox={`0 0 ${width} ${height}`} width={width} height={height} className="block max-w-full" role="img" aria-label={summary}>
          {children}
        </svg>
      </div>
      <details className="mt-2">
        <summary className="cursor-pointer text-accent-text">{t("manager.charts.showTheNumbersAs")}</summary>
        <div className="relative mt-2 max-h-72 overflow-auto" role="region" aria-label={t("manager.charts.titleNumbers", { title })} tabIndex={0}>
          <table className="w-full text-left">
            <caption className="sr-only">{title}</caption>
            <thead className="border-b border-border text-fg-muted">
              <tr>
                <th scope="col" className="px-2 py-1 font-medium">{t("manager.charts.period")}</th>
                {series.map((s) => (
                  <th key={s.name} scope="col" className="px-2 py-1 text-right font-medium">
                    {s.name}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {labels.map((label, i) => (
                <tr key={label + i} className="border-b border-border last:border-0">
                  <th scope="row" className="px-2 py-1 font-normal">
                    {label}
                  </th>
                  {series.map((s, j) => (
                    <td key={s.name} className="px-2 py-1 text-right tabular-nums">
                      {cell(j, i)}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </figure>
  );
}

export function ColumnChart({ title, labels, series, summary }: { title: string; labels: string[]; series: Series[]; summary: string }) {
  const [box, width] = useWidth<HTMLDivElement>(640);
  const height = 200;
  const left = 32;
  const bottom = 24;
  const top = 8;
  const plotW = width - left - 4;
  const plotH = height - bottom - top;
  const max = niceMax(Math.max(0, ...series.flatMap((s) => s.values)));
  const groupW = plotW / Math.max(1, labels.length);
  const barW = Math.max(1, (groupW * 0.8) / Math.max(1, series.length));
  const y = (v: number) => top + plotH - (v / max) * plotH;
  const nth = every(labels.length, width, 70); // labels ~70 px apart at least
  return (
    <ChartFrame
      title={title}
      series={series}
      swatch="h-3 w-3"
      summary={summary}
      width={width}
      height={height}
      box={box}
      labels={labels}
      cell={(j, i) => number.format(series[j]?.values[i] ?? 0)}
    >
      <YTicks ticks={max % 2 === 0 ? [0, max / 2, max] : [0, max]} left={left} right={width - 4} y={y} label={(item) => number.format(item)} />
      {labels.map((label, i) => {
        const x0 = left + i * groupW + groupW * 0.1;
        return (
          <g key={label + i}>
            {series.map((s, j) => {
              const v = s.values[i] ?? 0;
              return <rect key={s.name} x={x0 + j * barW} y={y(v)} width={Math.max(1, barW - 1)} height={Math.max(0, top + plotH - y(v))} className={FILL[s.tone]} />;
            })}
          </g>
        );
      })}
      <XLabels labels={labels.filter((_, i) => i % nth === 0)} x={(k) => left + k * nth * groupW + groupW / 2} baseline={height - 6} />
    </ChartFrame>
  );
}

/** A share as a bar with the figure beside it (decorative bar; the text is the content). */
export function Meter({ value, tone }: { value: number | null; tone?: BarTone }) {
  const chosen: BarTone = tone ?? (value === null ? "neutral" : value >= 0.9 ? "success" : value >= 0.75 ? "warning" : "danger");
  return (
    <div className="flex items-center gap-2">
      <div className="h-3 w-24 overflow-hidden rounded-sm bg-surface-muted" aria-hidden="true">
        <div className={cx("h-full", BAR[chosen])} style={{ width: `${(value ?? 0) * 100}%` }} />
      </div>
      <span className="font-semibold tabular-nums">{formatPercent(value)}</span>
    </div>
  );
}

export interface LineSeries {
  name: string;
  tone: BarTone;
  values: (number | null)[];
}

const STROKE: Record<BarTone, string> = {
  accent: "stroke-accent-text",
  success: "stroke-success-text",
  warning: "stroke-warning-text",
  danger: "stroke-danger-text",
  neutral: "stroke-neutral-text",
};

/** The tones lines take in order (a legend tells them apart; markers differ too). */
export const LINE_TONES: BarTone[] = ["accent", "success", "warning", "danger", "neutral"];

/**
 * Lines over time (a report's buckets): an SVG image named by a one-sentence summary, a
 * legend, and the numbers in a table. A missing value (null: nothing to measure) breaks
 * the line rather than drawing a zero.
 */
export function LineChart({
  title,
  labels,
  series,
  summary,
  tick,
  format,
  testId,
}: {
  title: string;
  labels: string[];
  series: LineSeries[];
  summary: string;
  tick: (value: number) => string;
  format: (value: number | null) => string;
  testId?: string;
}) {
  const [box, width] = useWidth<HTMLDivElement>(640);
  const height = 220;
  const left = 56;
  const bottom = 24;
  const top = 10;
  const plotW = Math.max(10, width - left - 12);
  const plotH = height - bottom - top;
  const max = niceMax(Math.max(0, ...series.flatMap((s) => s.values.filter((v): v is number => v !== null))));
  const step = labels.length > 1 ? plotW / (labels.length - 1) : 0;
  const x = (i: number) => left + (labels.length > 1 ? i * step : plotW / 2);
  const y = (v: number) => top + plotH - (v / max) * plotH;
  const nth = every(labels.length, width, 90);
  const paths = series.map((s) => {
    let d = "";
    let pen = false;
    s.values.forEach((v, i) => {
      if (v === null) {
        pen = false;
        return;
      }
      d += `${pen ? "L" : "M"}${x(i).toFixed(1)} ${y(v).toFixed(1)} `;
      pen = true;
    });
    return d.trim();
  });
  return (
    <ChartFrame
      title={title}
      series={series}
      swatch="h-1 w-4"
      summary={summary}
      width={width}
      height={height}
      box={box}
      labels={labels}
      cell={(j, i) => format(series[j]?.values[i] ?? null)}
      testId={testId}
    >
      <YTicks
        ticks={tick(max / 2) === tick(max) || tick(max / 2) === tick(0) ? [0, max] : [0, max / 2, max]}
        left={left}
        right={width - 4}
        y={y}
        label={tick}
      />
      <XLabels labels={labels.filter((_, i) => i % nth === 0)} x={(k) => x(k * nth)} baseline={height - 6} />
      {series.map((s, j) => (
        <g key={s.name}>
          <path d={paths[j]} fill="none" strokeWidth={2} className={STROKE[s.tone]} />
          {labels.length <= 62 ? s.values.map((v, i) => (v === null ? null : <circle key={i} cx={x(i)} cy={y(v)} r={2.5} className={FILL[s.tone]} />)) : null}
        </g>
      ))}
    </ChartFrame>
  );
}
