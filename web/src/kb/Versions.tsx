import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { describeError } from "../api/problem";
import { ConfirmDialog } from "../components/ConfirmDialog";
import { Alert, Button, Card, Select, Spinner, cx } from "../components/ui";
import { formatDateTime } from "../lib/format";
import { ErrorAlert } from "../tickets/Composer";
import { kbKeys, restoreVersion, useDiff, useVersions, type Article } from "./api";
import { changeSummary, diffLines, diffStats, type DiffKind } from "./diff";
import { t } from "../i18n/kb";

const LINE_CLASS: Record<DiffKind, string> = {
  add: "bg-success-subtle text-success-text",
  remove: "bg-danger-subtle text-danger-text",
  hunk: "text-info-text",
  header: "text-fg-muted",
  context: "",
};

function Diff({ articleId, from, to }: { articleId: string; from: number; to: number }) {
  const diff = useDiff(articleId, from, to, from !== to);
  if (from === to) return <p className="text-fg-muted">{t("kb.versions.pickTwoDifferentVersions")}</p>;
  if (diff.isPending) return <Spinner label={t("kb.versions.comparing")} />;
  if (diff.isError) return <ErrorAlert error={diff.error} />;
  const lines = diffLines(diff.data.diff);
  const stats = diffStats(lines);
  return (
    <div>
      <p className="mb-1 text-fg-muted" role="status">
        {lines.length ? changeSummary(stats) : t("kb.versions.noDifferences")}
        {diff.data.truncated ? t("kb.versions.theDiffIsCut") : ""}
      </p>
      {lines.length ? (
        <pre className="max-h-96 overflow-auto rounded-md border border-border text-xs" aria-label={t("kb.versions.changesFromVersionFrom", { from, to })} tabIndex={0}>
          {lines.map((line, index) => (
            <div key={index} className={cx("whitespace-pre-wrap px-2", LINE_CLASS[line.kind])}>
              {line.kind === "add" ? <span className="sr-only">{t("kb.versions.added")}{" "}</span> : null}
              {line.kind === "remove" ? <span className="sr-only">{t("kb.versions.removed")}{" "}</span> : null}
              {line.text}
            </div>
          ))}
        </pre>
      ) : null}
    </div>
  );
}

/** Every published version of an article: compare two, or put one back as the working copy. */
export function Versions({ article }: { article: Article }) {
  const versions = useVersions(article.id);
  const client = useQueryClient();
  const [from, setFrom] = useState<number | null>(null);
  const [to, setTo] = useState<number | null>(null);
  const [restoring, setRestoring] = useState<number | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function restore(number: number) {
    setBusy(true);
    setError(null);
    try {
      const saved = await restoreVersion(article.id, number, article.version);
      client.setQueryData(kbKeys.article(article.id), saved);
      void client.invalidateQueries({ queryKey: ["kb"] });
    } catch (e) {
      void client.invalidateQueries({ queryKey: kbKeys.article(article.id) });
      setError(describeError(e));
    } finally {
      setBusy(false);
      setRestoring(null);
    }
  }

  const list = versions.data ?? [];
  const newest = list.reduce((max, v) => Math.max(max, v.number), 0);
  const a = from ?? Math.max(1, newest - 1);
  const b = to ?? newest;
  return (
    <Card aria-labelledby="versions-heading">
      <h2 id="versions-heading" className="mb-2 font-semibold">
        {t("kb.versions.versions")}
      </h2>
      {versions.isPending ? <Spinner label={t("kb.versions.loadingVersions")} /> : null}
      {versions.isError ? <ErrorAlert error={versions.error} /> : null}
      {error ? <Alert tone="danger">{error}</Alert> : null}
      {versions.isSuccess && !list.length ? <p className="text-fg-muted">{t("kb.versions.publishedVersionsAppearHere")}</p> : null}
      {list.length ? (
        <ol className="mb-3 divide-y divide-border" aria-label={t("kb.versions.publishedVersions")}>
          {[...list].sort((x, y) => y.number - x.number).map((v) => (
            <li key={v.number} className="flex flex-wrap items-center justify-between gap-2 py-1.5">
              <span>
                <span className="font-semibold">{t("kb.versions.versionNumber", { number: v.number })}</span>{" "}
                <span className="text-fg-muted">{formatDateTime(v.published_at)}</span>
              </span>
              <Button size="sm" variant="ghost" onClick={() => setRestoring(v.number)} aria-label={t("kb.versions.restoreVersionNumber", { number: v.number })}>
                {t("kb.versions.restore")}
              </Button>
            </li>
          ))}
        </ol>
      ) : null}
      {list.length > 1 ? (
        <div className="space-y-2">
          <div className="flex flex-wrap items-end gap-2">
            <label className="block">
              <span className="block font-medium">{t("kb.versions.compare")}</span>
              <Select value={a} onChange={(e) => setFrom(Number(e.target.value))} className="w-28">
                {list.map((v) => (
                  <option key={v.number} value={v.number}>{t("kb.versions.versionNumber", { number: v.number })}</option>
                ))}
              </Select>
            </label>
            <label className="block">
              <span className="block font-medium">{t("kb.versions.with")}</span>
              <Select value={b} onChange={(e) => setTo(Number(e.target.value))} className="w-28">
                {list.map((v) => (
                  <option key={v.number} value={v.number}>{t("kb.versions.versionNumber", { number: v.number })}</option>
                ))}
              </Select>
            </label>
          </div>
          <Diff articleId={article.id} from={a} to={b} />
        </div>
      ) : null}
      <ConfirmDialog
        open={restoring !== null}
        title={t("kb.versions.restoreVersionValue", { value: restoring ?? "" })}
        confirmLabel={t("kb.versions.restore")}
        busy={busy}
        onConfirm={() => restoring !== null && void restore(restoring)}
        onClose={() => setRestoring(null)}
      >
        {t("kb.versions.itsTextBecomesThe")}
      </ConfirmDialog>
    </Card>
  );
}
