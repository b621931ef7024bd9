import { useQueryClient } from "@tanstack/react-query";
import { useMemo, useRef, useState, type FormEvent } from "react";
import { Link, useNavigate } from "react-router";
import { api, idempotencyKey, ok } from "../api/client";
import { ApiError, describeError } from "../api/problem";
import type { Category } from "../api/types";
import { isStaff } from "../lib/domain";
import { useMe } from "../auth/AuthProvider";
import { ImpactUrgency, type LevelChoice } from "../tickets/ImpactUrgency";
import { Alert, Button, Card, Field, Input, PageHeader, Spinner, Textarea, cx } from "../components/ui";
import { collect, fieldsFromSchema, initialValues, type RawValues } from "../lib/customFields";
import { formatBytes } from "../lib/format";
import { ErrorAlert } from "../tickets/Composer";
import { keys, useCategories } from "../tickets/queries";
import { uploadAttachment } from "../tickets/upload";
import { useDraft } from "../tickets/useDraft";
import { Deflection } from "../kb/Deflection";
import { CustomFieldsForm } from "./CustomFieldsForm";
import { t } from "../i18n";

const NO_CATEGORY = "none";

function CategoryStep({ categories, onPick }: { categories: Category[]; onPick: (id: string) => void }) {
  const [chosen, setChosen] = useState<string>("");
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        if (chosen) onPick(chosen);
      }}
      className="space-y-4"
    >
      <fieldset>
        <legend className="mb-3 text-base font-semibold">{t("portal.new.question")}</legend>
        {/* The tree in its order; a sub-category is indented under its parent. */}
        <div className="grid gap-3" data-testid="category-tree">
          {[...categories, null].map((c) => {
            const value = c?.id ?? NO_CATEGORY;
            const selected = chosen === value;
            return (
              <label
                key={value}
                style={{ marginInlineStart: `${(c?.depth ?? 0) * 1.5}rem` }}
                data-depth={c?.depth ?? 0}
                className={cx(
                  "flex cursor-pointer gap-3 rounded-lg border bg-surface p-4",
                  selected ? "border-accent ring-2 ring-accent" : "border-border hover:border-border-strong",
                )}
              >
                <input
                  type="radio"
                  name="category"
                  value={value}
                  checked={selected}
                  onChange={() => setChosen(value)}
                  className="mt-1 h-4 w-4 accent-accent"
                />
                <span>
                  <span className="block font-semibold">{c?.name ?? t("portal.new.other")}</span>
                  <span className="block text-fg-muted">{c ? c.description || "\u00a0" : t("portal.new.otherHelp")}</span>
                </span>
              </label>
            );
          })}
        </div>
      </fieldset>
      <Button type="submit" variant="primary" disabled={!chosen}>
        {t("portal.new.continue")}
      </Button>
    </form>
  );
}

interface Progress {
  name: string;
  loaded: number;
  total: number;
}

function Solved({ onAnother }: { onAnother: () => void }) {
  return (
    <div className="space-y-3" role="status">
      <p className="text-base font-semibold">{t("portal.new.solved")}</p>
      <p>{t("portal.new.solvedHelp")}</p>
      <div className="flex flex-wrap gap-2">
        <Button variant="primary" onClick={onAnother}>
          {t("portal.new.another")}
        </Button>
        <Link to="/help" className="self-center text-accent-text underline">
          {t("portal.new.browse")}
        </Link>
      </div>
    </div>
  );
}

function DetailsStep({ category, onBack, onSolved }: { category: Category | null; onBack: () => void; onSolved: () => void }) {
  const navigate = useNavigate();
  const client = useQueryClient();
  const specs = useMemo(() => fieldsFromSchema(category?.fields_schema), [category]);
  const draftKey = `new:${category?.id ?? NO_CATEGORY}`;
  const [title, setTitle] = useDraft(`${draftKey}:title`);
  const [description, setDescription] = useDraft(`${draftKey}:description`);
  const [values, setValues] = useState<RawValues>(() => initialValues(specs));
  const [files, setFiles] = useState<File[]>([]);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [progress, setProgress] = useState<Progress | null>(null);
  const attempt = useRef<{ key: string; body: string } | null>(null);
  const staff = isStaff(useMe().role);
  const [impact, setImpact] = useState<LevelChoice>("");
  const [urgency, setUrgency] = useState<LevelChoice>("");

  async function submit(event: FormEvent) {
    event.preventDefault();
    const custom = collect(specs, values);
    const found: Record<string, string> = { ...custom.errors };
    if (!title.trim()) found.title = t("portal.new.required");
    setErrors(found);
    setFailure(null);
    if (Object.keys(found).length) {
      setFailure(t("portal.new.correct"));
      return;
    }
    const body = {
      title: title.trim(),
      description,
      category_id: category?.id ?? null,
      custom_fields: custom.values,
      // Staff triage as they file (the server derives the priority from both).
      ...(staff && impact ? { impact } : {}),
      ...(staff && urgency ? { urgency } : {}),
    };
    const serialized = JSON.stringify(body);
    // The same body retried keeps its key, so a lost answer cannot open two tickets.
    if (attempt.current?.body !== serialized) attempt.current = { key: idempotencyKey(), body: serialized };
    setBusy(true);
    try {
      const ticket = await ok(
        api.POST("/v1/tickets", { body, params: { header: { "Idempotency-Key": attempt.current.key } } }),
      );
      const failed: string[] = [];
      for (const file of files) {
        setProgress({ name: file.name, loaded: 0, total: file.size });
        try {
          await uploadAttachment(ticket.id, file, (p) => setProgress({ name: file.name, ...p }));
        } catch {
          failed.push(file.name);
        }
      }
      setTitle("");
      setDescription("");
      void client.invalidateQueries({ queryKey: keys.tickets });
      navigate(`/tickets/${ticket.id}`, { state: { created: true, failedUploads: failed } });
    } catch (error) {
      if (error instanceof ApiError) setErrors(error.fieldErrors);
      setFailure(describeError(error));
    } finally {
      setBusy(false);
      setProgress(null);
    }
  }

  return (
    <form onSubmit={submit} className="space-y-4" noValidate>
      <div className="flex items-center gap-2">
        <span className="text-fg-muted">{t("portal.new.category")}</span>
        <span className="font-semibold">{category?.name ?? t("portal.new.other")}</span>
        <Button size="sm" variant="ghost" onClick={onBack}>
          {t("portal.new.change")}
        </Button>
      </div>
      {failure ? <Alert tone="danger">{failure}</Alert> : null}
      <Field label={t("portal.new.subject")} error={errors.title} required description={t("portal.new.subjectHelp")}>
        {(p) => <Input {...p} maxLength={200} value={title} onChange={(e) => setTitle(e.target.value)} />}
      </Field>
      <Deflection
        title={title}
        onSolved={() => {
          // Solved without a ticket: the drafts are done with.
          setTitle("");
          setDescription("");
          onSolved();
        }}
      />
      <Field label={t("portal.new.description")} error={errors.description}>
        {(p) => (
          <Textarea {...p} rows={6} maxLength={20000} value={description} onChange={(e) => setDescription(e.target.value)} />
        )}
      </Field>
      {staff ? (
        <fieldset className="space-y-2 rounded-md border border-border p-3">
          <legend className="px-1 font-medium">{t("portal.new.triage")}</legend>
          <ImpactUrgency
            impact={impact}
            urgency={urgency}
            errors={errors}
            onChange={(next) => {
              setImpact(next.impact);
              setUrgency(next.urgency);
            }}
          />
        </fieldset>
      ) : null}
      <CustomFieldsForm specs={specs} values={values} errors={errors} onChange={(name, v) => setValues((all) => ({ ...all, [name]: v }))} />
      <Field label={t("portal.new.attachments")} description={t("portal.new.attachmentsHelp")}>
        {(p) => (
          <input
            {...p}
            type="file"
            multiple
            data-testid="new-request-files"
            className="block w-full text-fg file:mr-3 file:rounded-md file:border file:border-border-strong file:bg-surface file:px-3 file:py-1.5 file:text-fg"
            onChange={(e) => setFiles(Array.from(e.target.files ?? []))}
          />
        )}
      </Field>
      {files.length ? (
        <ul className="text-fg-muted" aria-label={t("portal.new.filesToAttach")}>
          {files.map((f) => (
            <li key={f.name}>
              {f.name} · {formatBytes(f.size)}
            </li>
          ))}
        </ul>
      ) : null}
      {progress ? (
        <div>
          <span>{t("portal.new.uploading", { name: progress.name })}</span>
          <progress className="block w-full" max={progress.total || 1} value={progress.loaded} aria-label={t("portal.new.uploading", { name: progress.name })} />
        </div>
      ) : null}
      <Button type="submit" variant="primary" busy={busy}>
        {t("portal.new.submit")}
      </Button>
    </form>
  );
}

export default function NewRequestPage() {
  const categories = useCategories();
  const [picked, setPicked] = useState<string | null>(null);
  const [solved, setSolved] = useState(false);
  const category = categories.data?.find((c) => c.id === picked) ?? null;
  return (
    <>
      <PageHeader title={t("portal.new.title")}>{t("portal.new.intro")}</PageHeader>
      <Card className="max-w-3xl">
        {categories.isPending ? <Spinner label={t("portal.new.loading")} /> : null}
        {categories.isError ? <ErrorAlert error={categories.error} /> : null}
        {solved ? (
          <Solved
            onAnother={() => {
              setSolved(false);
              setPicked(null);
            }}
          />
        ) : null}
        {!solved && categories.isSuccess && picked === null ? <CategoryStep categories={categories.data} onPick={setPicked} /> : null}
        {!solved && categories.isSuccess && picked !== null ? (
          <DetailsStep key={picked} category={category} onBack={() => setPicked(null)} onSolved={() => setSolved(true)} />
        ) : null}
      </Card>
    </>
  );
}
