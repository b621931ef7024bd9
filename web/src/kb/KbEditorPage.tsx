import { useQueryClient } from "@tanstack/react-query";
import * as Tabs from "@radix-ui/react-tabs";
import { useMemo, useRef, useState, type FormEvent } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { idempotencyKey } from "../api/client";
import { ApiError, describeError } from "../api/problem";
import { ConfirmDialog } from "../components/ConfirmDialog";
import { Alert, Button, Card, Field, Input, PageHeader, Select, Spinner, Textarea } from "../components/ui";
import { formatDateTime } from "../lib/format";
import { ErrorAlert } from "../tickets/Composer";
import {
  createArticle,
  deleteArticle,
  kbKeys,
  transition,
  updateArticle,
  useArticle,
  useKbCategories,
  type Article,
} from "./api";
import { ArticleBody, AudienceBadge, StateBadge } from "./parts";
import { formatTags, parseTags } from "./tags";
import { buildTree, flatten } from "./tree";
import { Versions } from "./Versions";
import { ACTION_LABELS, knownActions, type ArticleAction } from "./workflow";
import { t } from "../i18n/kb";

interface Form {
  title: string;
  summary: string;
  body: string;
  tags: string;
  audience: "public" | "internal";
  category_id: string;
}

function toForm(article: Article | null): Form {
  return {
    title: article?.title ?? "",
    summary: article?.summary ?? "",
    body: article?.body ?? "",
    tags: formatTags(article?.tags ?? []),
    audience: article?.audience ?? "internal",
    category_id: article?.category_id ?? "",
  };
}

function toBody(form: Form) {
  return {
    title: form.title.trim(),
    summary: form.summary.trim(),
    body: form.body,
    tags: parseTags(form.tags),
    audience: form.audience,
    category_id: form.category_id || null,
  };
}

const tabClass =
  "-mb-px border-b-2 border-transparent px-3 py-1.5 font-medium text-fg-muted data-[state=active]:border-accent data-[state=active]:text-accent-text";

function firstTagError(errors: Record<string, string>): string | undefined {
  return errors.tags ?? Object.entries(errors).find(([field]) => field.startsWith("tags."))?.[1];
}

function ArticleForm({ article, onSaved }: { article: Article | null; onSaved: (saved: Article) => void }) {
  const [form, setForm] = useState<Form>(() => toForm(article));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<string | null>(null);
  const [stale, setStale] = useState(false);
  const [busy, setBusy] = useState(false);
  const [tab, setTab] = useState("write");
  const key = useRef(idempotencyKey());
  const categories = useKbCategories();
  const options = useMemo(() => flatten(buildTree(categories.data ?? [])), [categories.data]);
  const client = useQueryClient();
  const dirty = JSON.stringify(toBody(form)) !== JSON.stringify(toBody(toForm(article)));
  const set = <K extends keyof Form>(name: K, value: Form[K]) => setForm((f) => ({ ...f, [name]: value }));

  async function save(event?: FormEvent) {
    event?.preventDefault();
    const found: Record<string, string> = {};
    if (!form.title.trim()) found.title = t("kb.editor.giveTheArticleA");
    setErrors(found);
    setFailure(null);
    if (Object.keys(found).length) return false;
    setBusy(true);
    try {
      const saved = article ? await updateArticle(article.id, article.version, toBody(form)) : await createArticle(toBody(form), key.current);
      client.setQueryData(kbKeys.article(saved.id), saved);
      // A published article's edit is a new version; lists show the new title or state.
      void client.invalidateQueries({ queryKey: kbKeys.versions(saved.id) });
      void client.invalidateQueries({ queryKey: ["kb", "articles", "list"] });
      onSaved(saved);
      return true;
    } catch (error) {
      if (error instanceof ApiError) {
        setErrors(error.fieldErrors);
        if (error.status === 412) setStale(true);
      }
      setFailure(describeError(error));
      return false;
    } finally {
      setBusy(false);
    }
  }

  return (
    <form onSubmit={save} noValidate className="space-y-4">
      {stale && article ? (
        <Alert
          tone="warning"
          title={t("kb.editor.someoneElseChangedThis")}
          action={
            <Button
              size="sm"
              onClick={() => {
                setStale(false);
                void client.invalidateQueries({ queryKey: kbKeys.article(article.id) });
              }}
            >
              {t("kb.editor.loadTheirVersion")}
            </Button>
          }
        >
          {t("kb.editor.yourChangesAreNot")}
        </Alert>
      ) : failure ? (
        <Alert tone="danger">{failure}</Alert>
      ) : null}
      <Field label={t("kb.editor.title")} required error={errors.title}>
        {(p) => <Input {...p} maxLength={200} value={form.title} onChange={(e) => set("title", e.target.value)} />}
      </Field>
      <Field label={t("kb.editor.summary")} error={errors.summary} description={t("kb.editor.oneOrTwoSentences")}>
        {(p) => <Textarea {...p} rows={2} maxLength={500} value={form.summary} onChange={(e) => set("summary", e.target.value)} />}
      </Field>
      <div className="grid gap-4 sm:grid-cols-3">
        <Field label={t("kb.editor.category")} error={errors.category_id}>
          {(p) => (
            <Select {...p} value={form.category_id} onChange={(e) => set("category_id", e.target.value)}>
              <option value="">{t("kb.editor.uncategorised")}</option>
              {options.map((node) => (
                <option key={node.category.id} value={node.category.id}>
                  {"\u00a0\u00a0".repeat(node.depth)}
                  {node.category.name}
                </option>
              ))}
            </Select>
          )}
        </Field>
        <Field label={t("kb.editor.audience")} error={errors.audience}>
          {(p) => (
            <Select {...p} value={form.audience} onChange={(e) => set("audience", e.target.value === "public" ? "public" : "internal")}>
              <option value="internal">{t("kb.editor.internalStaffOnly")}</option>
              <option value="public">{t("kb.editor.publicRequestersToo")}</option>
            </Select>
          )}
        </Field>
        <Field label={t("kb.editor.tags")} error={firstTagError(errors)} description={t("kb.editor.separatedByCommas")}>
          {(p) => <Input {...p} value={form.tags} onChange={(e) => set("tags", e.target.value)} />}
        </Field>
      </div>
      <Tabs.Root value={tab} onValueChange={setTab}>
        <Tabs.List aria-label={t("kb.editor.body")} className="mb-2 flex gap-1 border-b border-border">
          <Tabs.Trigger value="write" className={tabClass}>
            {t("kb.editor.write")}
          </Tabs.Trigger>
          <Tabs.Trigger value="preview" className={tabClass}>
            {t("kb.editor.preview")}
          </Tabs.Trigger>
        </Tabs.List>
        <Tabs.Content value="write">
          <Field label={t("kb.editor.bodyMarkdown")} error={errors.body}>
            {(p) => (
              <Textarea {...p} rows={16} maxLength={100_000} className="font-mono" value={form.body} onChange={(e) => set("body", e.target.value)} />
            )}
          </Field>
        </Tabs.Content>
        <Tabs.Content value="preview" className="space-y-2">
          {/* The preview is the API's own rendering (markdown-it + nh3), so it is exactly
              what readers get: changes show once saved. */}
          {dirty || !article ? (
            <Alert
              tone="info"
              action={
                <Button size="sm" busy={busy} onClick={() => void save()}>
                  {t("kb.editor.saveAndPreview")}
                </Button>
              }
            >
              {t("kb.editor.thePreviewShowsThe")}
            </Alert>
          ) : null}
          {article ? (
            <Card className="kb-preview" aria-label={t("kb.editor.preview")}>
              <ArticleBody html={article.html} />
            </Card>
          ) : null}
        </Tabs.Content>
      </Tabs.Root>
      <div className="flex items-center gap-3">
        <Button type="submit" variant="primary" busy={busy} disabled={article !== null && !dirty}>
          {article ? t("kb.editor.saveChanges") : t("kb.editor.createDraft")}
        </Button>
        {article && !dirty ? <span className="text-fg-muted">{t("kb.editor.allChangesSaved")}</span> : null}
      </div>
    </form>
  );
}

function Workflow({ article }: { article: Article }) {
  const client = useQueryClient();
  const navigate = useNavigate();
  const [pending, setPending] = useState<ArticleAction | "delete" | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [rejecting, setRejecting] = useState(false);
  const [reason, setReason] = useState("");
  const [reasonError, setReasonError] = useState<string | undefined>();
  const [confirmDelete, setConfirmDelete] = useState(false);
  const actions = knownActions(article.allowed_actions ?? []);

  async function run(action: ArticleAction, why?: string) {
    setPending(action);
    setError(null);
    try {
      const saved = await transition(article.id, action, article.version, why);
      client.setQueryData(kbKeys.article(article.id), saved);
      void client.invalidateQueries({ queryKey: ["kb"] });
      setRejecting(false);
      setReason("");
    } catch (e) {
      if (e instanceof ApiError && e.status === 412) void client.invalidateQueries({ queryKey: kbKeys.article(article.id) });
      setError(describeError(e));
    } finally {
      setPending(null);
    }
  }

  async function remove() {
    setPending("delete");
    try {
      await deleteArticle(article.id);
      void client.invalidateQueries({ queryKey: ["kb"] });
      navigate("/kb", { replace: true });
    } catch (e) {
      setError(describeError(e));
      setConfirmDelete(false);
    } finally {
      setPending(null);
    }
  }

  return (
    <Card aria-labelledby="workflow-heading">
      <h2 id="workflow-heading" className="mb-2 font-semibold">
        {t("kb.editor.workflow")}
      </h2>
      <p className="mb-3 flex flex-wrap items-center gap-2">
        <StateBadge state={article.state} />
        <AudienceBadge audience={article.audience} />
        {article.published_version ? <span className="text-fg-muted">{t("kb.editor.publishedVersionPublishedversion", { publishedversion: article.published_version })}</span> : null}
      </p>
      {error ? (
        <div className="mb-3">
          <Alert tone="danger">{error}</Alert>
        </div>
      ) : null}
      <div className="flex flex-wrap gap-2">
        {actions.map((action) =>
          action === "reject" ? (
            <Button key={action} aria-expanded={rejecting} onClick={() => setRejecting((r) => !r)}>
              {ACTION_LABELS.reject}
            </Button>
          ) : (
            <Button
              key={action}
              variant={action === "publish" || action === "submit" ? "primary" : "secondary"}
              busy={pending === action}
              onClick={() => void run(action)}
            >
              {ACTION_LABELS[action]}
            </Button>
          ),
        )}
        {(article.allowed_actions ?? []).includes("delete") ? (
          <Button variant="danger" onClick={() => setConfirmDelete(true)}>
            {t("kb.editor.deleteDraft")}
          </Button>
        ) : null}
        {article.state === "published" ? (
          <Link to={`/help/articles/${article.id}`} className="self-center text-accent-text underline">
            {t("kb.editor.viewInTheHelp")}
          </Link>
        ) : null}
      </div>
      {article.state === "in_review" && !actions.includes("publish") ? (
        <p className="mt-2 text-fg-muted">{t("kb.editor.waitingForAManager")}</p>
      ) : null}
      {rejecting ? (
        <form
          className="mt-3 space-y-2"
          onSubmit={(e) => {
            e.preventDefault();
            if (!reason.trim()) {
              setReasonError(t("kb.editor.sayWhatNeedsTo"));
              return;
            }
            setReasonError(undefined);
            void run("reject", reason.trim());
          }}
        >
          <Field label={t("kb.editor.whyIsItGoing")} error={reasonError} required>
            {(p) => <Textarea {...p} rows={3} maxLength={1000} value={reason} onChange={(e) => setReason(e.target.value)} />}
          </Field>
          <Button type="submit" busy={pending === "reject"}>
            {t("kb.editor.sendBackToDraft")}
          </Button>
        </form>
      ) : null}
      <ConfirmDialog
        open={confirmDelete}
        title={t("kb.editor.deleteThisDraft")}
        confirmLabel={t("kb.editor.deleteDraft")}
        busy={pending === "delete"}
        onConfirm={() => void remove()}
        onClose={() => setConfirmDelete(false)}
      >
        {t("kb.editor.theDraftAndIts")}
      </ConfirmDialog>
    </Card>
  );
}

export function NewArticlePage() {
  const navigate = useNavigate();
  return (
    <>
      <p className="mb-2">
        <Link to="/kb" className="text-accent-text underline">{t("kb.editor.knowledgeBase")}</Link>
      </p>
      <PageHeader title={t("kb.editor.newArticle")}>{t("kb.editor.startsAsADraft")}</PageHeader>
      <Card className="max-w-4xl">
        <ArticleForm article={null} onSaved={(saved) => navigate(`/kb/articles/${saved.id}`, { replace: true })} />
      </Card>
    </>
  );
}

export default function KbEditorPage() {
  const { articleId = "" } = useParams();
  const article = useArticle(articleId);
  if (article.isPending) return <Spinner label={t("kb.editor.loadingTheArticle")} />;
  if (article.isError) {
    return article.error instanceof ApiError && article.error.status === 404 ? (
      <Alert tone="warning" title={t("kb.editor.articleNotFound")}>
        {t("kb.editor.itDoesNotExist")}{" "}<Link className="underline" to="/kb">{t("kb.editor.backToTheKnowledge")}</Link>
      </Alert>
    ) : (
      <ErrorAlert error={article.error} />
    );
  }
  const a = article.data;
  return (
    <>
      <p className="mb-2">
        <Link to="/kb" className="text-accent-text underline">{t("kb.editor.knowledgeBase")}</Link>
      </p>
      <PageHeader title={a.title}>{t("kb.editor.updatedWhenViewcountViews", { when: formatDateTime(a.updated_at), viewcount: a.view_count, helpfulcount: a.helpful_count, nothelpfulcount: a.not_helpful_count })}</PageHeader>
      <div className="grid gap-6 lg:grid-cols-[1fr_22rem]">
        <Card className="min-w-0">
          {/* A new version from the server (after a save, a workflow step, a reload) starts the form over. */}
          <ArticleForm key={a.version} article={a} onSaved={() => undefined} />
        </Card>
        <div className="space-y-4">
          <Workflow article={a} />
          <Versions article={a} />
        </div>
      </div>
    </>
  );
}
