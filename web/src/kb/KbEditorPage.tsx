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
    if (!form.title.trim()) found.title = "Give the article a title.";
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
          title="Someone else changed this article"
          action={
            <Button
              size="sm"
              onClick={() => {
                setStale(false);
                void client.invalidateQueries({ queryKey: kbKeys.article(article.id) });
              }}
            >
              Load their version
            </Button>
          }
        >
          Your changes are not saved. Loading their version replaces what you typed here.
        </Alert>
      ) : failure ? (
        <Alert tone="danger">{failure}</Alert>
      ) : null}
      <Field label="Title" required error={errors.title}>
        {(p) => <Input {...p} maxLength={200} value={form.title} onChange={(e) => set("title", e.target.value)} />}
      </Field>
      <Field label="Summary" error={errors.summary} description="One or two sentences shown in search results.">
        {(p) => <Textarea {...p} rows={2} maxLength={500} value={form.summary} onChange={(e) => set("summary", e.target.value)} />}
      </Field>
      <div className="grid gap-4 sm:grid-cols-3">
        <Field label="Category" error={errors.category_id}>
          {(p) => (
            <Select {...p} value={form.category_id} onChange={(e) => set("category_id", e.target.value)}>
              <option value="">Uncategorised</option>
              {options.map((node) => (
                <option key={node.category.id} value={node.category.id}>
                  {"\u00a0\u00a0".repeat(node.depth)}
                  {node.category.name}
                </option>
              ))}
            </Select>
          )}
        </Field>
        <Field label="Audience" error={errors.audience}>
          {(p) => (
            <Select {...p} value={form.audience} onChange={(e) => set("audience", e.target.value === "public" ? "public" : "internal")}>
              <option value="internal">Internal (staff only)</option>
              <option value="public">Public (requesters too)</option>
            </Select>
          )}
        </Field>
        <Field label="Tags" error={firstTagError(errors)} description="Separated by commas.">
          {(p) => <Input {...p} value={form.tags} onChange={(e) => set("tags", e.target.value)} />}
        </Field>
      </div>
      <Tabs.Root value={tab} onValueChange={setTab}>
        <Tabs.List aria-label="Body" className="mb-2 flex gap-1 border-b border-border">
          <Tabs.Trigger value="write" className={tabClass}>
            Write
          </Tabs.Trigger>
          <Tabs.Trigger value="preview" className={tabClass}>
            Preview
          </Tabs.Trigger>
        </Tabs.List>
        <Tabs.Content value="write">
          <Field label="Body (Markdown)" error={errors.body}>
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
                  Save and preview
                </Button>
              }
            >
              The preview shows the saved article. Save to see your latest changes.
            </Alert>
          ) : null}
          {article ? (
            <Card className="kb-preview" aria-label="Preview">
              <ArticleBody html={article.html} />
            </Card>
          ) : null}
        </Tabs.Content>
      </Tabs.Root>
      <div className="flex items-center gap-3">
        <Button type="submit" variant="primary" busy={busy} disabled={article !== null && !dirty}>
          {article ? "Save changes" : "Create draft"}
        </Button>
        {article && !dirty ? <span className="text-fg-muted">All changes saved.</span> : null}
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
        Workflow
      </h2>
      <p className="mb-3 flex flex-wrap items-center gap-2">
        <StateBadge state={article.state} />
        <AudienceBadge audience={article.audience} />
        {article.published_version ? <span className="text-fg-muted">Published version {article.published_version}</span> : null}
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
            Delete draft
          </Button>
        ) : null}
        {article.state === "published" ? (
          <Link to={`/help/articles/${article.id}`} className="self-center text-accent-text underline">
            View in the help centre
          </Link>
        ) : null}
      </div>
      {article.state === "in_review" && !actions.includes("publish") ? (
        <p className="mt-2 text-fg-muted">Waiting for a manager to review and publish it.</p>
      ) : null}
      {rejecting ? (
        <form
          className="mt-3 space-y-2"
          onSubmit={(e) => {
            e.preventDefault();
            if (!reason.trim()) {
              setReasonError("Say what needs to change.");
              return;
            }
            setReasonError(undefined);
            void run("reject", reason.trim());
          }}
        >
          <Field label="Why is it going back?" error={reasonError} required>
            {(p) => <Textarea {...p} rows={3} maxLength={1000} value={reason} onChange={(e) => setReason(e.target.value)} />}
          </Field>
          <Button type="submit" busy={pending === "reject"}>
            Send back to draft
          </Button>
        </form>
      ) : null}
      <ConfirmDialog
        open={confirmDelete}
        title="Delete this draft?"
        confirmLabel="Delete draft"
        busy={pending === "delete"}
        onConfirm={() => void remove()}
        onClose={() => setConfirmDelete(false)}
      >
        The draft and its text are removed for good.
      </ConfirmDialog>
    </Card>
  );
}

export function NewArticlePage() {
  const navigate = useNavigate();
  return (
    <>
      <p className="mb-2">
        <Link to="/kb" className="text-accent-text underline">← Knowledge base</Link>
      </p>
      <PageHeader title="New article">Starts as a draft; nobody outside staff sees it until it is published.</PageHeader>
      <Card className="max-w-4xl">
        <ArticleForm article={null} onSaved={(saved) => navigate(`/kb/articles/${saved.id}`, { replace: true })} />
      </Card>
    </>
  );
}

export default function KbEditorPage() {
  const { articleId = "" } = useParams();
  const article = useArticle(articleId);
  if (article.isPending) return <Spinner label="Loading the article" />;
  if (article.isError) {
    return article.error instanceof ApiError && article.error.status === 404 ? (
      <Alert tone="warning" title="Article not found">
        It does not exist, or you may not see it. <Link className="underline" to="/kb">Back to the knowledge base</Link>
      </Alert>
    ) : (
      <ErrorAlert error={article.error} />
    );
  }
  const a = article.data;
  return (
    <>
      <p className="mb-2">
        <Link to="/kb" className="text-accent-text underline">← Knowledge base</Link>
      </p>
      <PageHeader title={a.title}>
        Updated {formatDateTime(a.updated_at)} · {a.view_count} views · {a.helpful_count} found it helpful, {a.not_helpful_count} did not
      </PageHeader>
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
