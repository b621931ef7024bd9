import { useEffect, useRef, useState, type FormEvent, type ReactNode } from "react";
import { idempotencyKey } from "../api/client";
import { ApiError, describeError } from "../api/problem";
import { Alert, Button } from "../components/ui";
import { t } from "../i18n/admin";

export type Errors = Record<string, string>;

interface EditorOptions<E, F> {
  /** What the server holds now; null while creating something new. */
  entity: E | null;
  toForm: (entity: E | null) => F;
  /** The entity's ETag / version token, sent back as If-Match. */
  tag: (entity: E) => string;
  create?: (form: F, idempotencyKey: string) => Promise<E>;
  update?: (form: F, base: E, ifMatch: string) => Promise<E>;
  /** Fetch the entity afresh (after a 412). */
  reload?: () => Promise<E | null | undefined>;
  /** Checks made before sending, keyed like the server's field errors. */
  validate?: (form: F) => Errors;
  onSaved?: (entity: E, created: boolean) => void;
  /** What counts for "changed" (default: the whole form). */
  compare?: (form: F) => unknown;
}

export interface Editor<F> {
  form: F;
  setForm: (update: (form: F) => F) => void;
  set: <K extends keyof F>(key: K, value: F[K]) => void;
  dirty: boolean;
  errors: Errors;
  failure: unknown;
  conflict: boolean;
  saved: boolean;
  saving: boolean;
  submit: (event?: FormEvent) => Promise<void>;
  /** Throw away the edits: back to what the server holds. */
  discard: () => void;
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Form state for one entity, with the rules every admin form keeps:
 *
 * - what was typed stays in the form whatever the save answers (field errors are shown
 *   next to their fields; a network error keeps everything for the retry);
 * - an update carries the version it started from (If-Match); a 412 reloads the entity,
 *   says someone else changed it, and keeps the person's edits on top of the new version,
 *   so saving again is a deliberate choice and "Discard my edits" shows theirs;
 * - a newer entity arriving while nothing is edited simply replaces the form;
 * - a create retried with the same body reuses its Idempotency-Key.
 */
export function useEditor<E, F>(options: EditorOptions<E, F>): Editor<F> {
  const { entity, toForm, tag } = options;
  const [base, setBase] = useState<E | null>(entity);
  const [form, setFormState] = useState<F>(() => toForm(entity));
  const [errors, setErrors] = useState<Errors>({});
  const [failure, setFailure] = useState<unknown>(null);
  const [conflict, setConflict] = useState(false);
  const [saved, setSaved] = useState(false);
  const [saving, setSaving] = useState(false);
  const attempt = useRef<{ key: string; body: string } | null>(null);
  const latest = useRef(options);
  latest.current = options;

  const project = options.compare ?? ((f: F) => f);
  const dirty = !same(project(form), project(toForm(base)));

  // A newer copy from the server (a refetch, a push) replaces an untouched form; an edited
  // form keeps its base, so its save meets the 412 instead of overwriting silently.
  const seen = useRef(entity === null ? null : tag(entity));
  useEffect(() => {
    if (entity === null) return;
    const current = tag(entity);
    if (current === seen.current) return;
    seen.current = current;
    if (base !== null && current === tag(base)) return;
    if (base === null || !dirty) {
      setBase(entity);
      setFormState(toForm(entity));
    }
  }, [entity, base, dirty, tag, toForm]);

  const setForm = (update: (f: F) => F) => {
    setSaved(false);
    setFormState(update);
  };

  async function submit(event?: FormEvent) {
    event?.preventDefault();
    const { create, update, reload, validate, onSaved } = latest.current;
    setSaved(false);
    setFailure(null);
    const found = validate?.(form) ?? {};
    setErrors(found);
    if (Object.keys(found).length) {
      setFailure(new FormInvalid());
      return;
    }
    setSaving(true);
    try {
      let result: E;
      if (base === null) {
        if (!create) throw new Error(t("admin.forms.nothingToCreateWith"));
        const body = JSON.stringify(form);
        if (attempt.current?.body !== body) attempt.current = { key: idempotencyKey(), body };
        result = await create(form, attempt.current.key);
      } else {
        if (!update) throw new Error(t("admin.forms.nothingToUpdateWith"));
        result = await update(form, base, tag(base));
      }
      attempt.current = null;
      setBase(result);
      setFormState(toForm(result));
      setConflict(false);
      setSaved(true);
      onSaved?.(result, base === null);
    } catch (error) {
      if (error instanceof ApiError && error.status === 412) {
        setConflict(true);
        const fresh = await reload?.().catch(() => null);
        if (fresh) {
          // Their version underneath, the person's changes on top: what they did not touch
          // takes the new values, what they changed stays as they typed it.
          setFormState((current) => rebase(toForm(base), current, toForm(fresh)));
          setBase(fresh);
        }
      } else {
        if (error instanceof ApiError) setErrors(error.fieldErrors);
        setFailure(error);
      }
    } finally {
      setSaving(false);
    }
  }

  return {
    form,
    setForm,
    set: (key, value) => setForm((f) => ({ ...f, [key]: value })),
    dirty,
    errors,
    failure,
    conflict,
    saved,
    saving,
    submit,
    discard: () => {
      setFormState(toForm(base));
      setSaved(false);
      setErrors({});
      setFailure(null);
      setConflict(false);
    },
  };
}

/** A three-way merge by top-level field: `mine` where it differs from `before`, else `theirs`. */
export function rebase<F>(before: F, mine: F, theirs: F): F {
  const out = { ...theirs } as Record<string, unknown>;
  const b = before as Record<string, unknown>;
  const m = mine as Record<string, unknown>;
  for (const key of Object.keys(m)) {
    if (!same(m[key], b[key])) out[key] = m[key];
  }
  return out as F;
}

/** Client-side checks failed: nothing was sent. */
export class FormInvalid extends Error {
  constructor() {
    super(t("admin.forms.pleaseCorrectTheMarked"));
  }
}

/** Errors no field on the form shows (they would otherwise go unseen). */
export function unplaced(errors: Errors, placed: string[]): [string, string][] {
  return Object.entries(errors).filter(
    ([field]) => !placed.some((p) => field === p || field.startsWith(`${p}.`) || (p.endsWith(".") && field.startsWith(p))),
  );
}

/**
 * What happened to the last save: the 412 notice, a failure (with any field errors no
 * field shows), or "Saved.". `placed` are the fields (or prefixes) the form shows errors for.
 */
export function EditorStatus<F>({ editor, placed, savedText = t("admin.forms.saved") }: { editor: Editor<F>; placed: string[]; savedText?: string }) {
  const { conflict, failure, saved, errors } = editor;
  if (conflict) {
    return (
      <Alert
        tone="warning"
        title={t("admin.forms.thisWasChangedBy")}
        action={
          <Button size="sm" onClick={editor.discard}>
            {t("admin.forms.discardMyEdits")}
          </Button>
        }
      >
        {t("admin.forms.weReloadedItWhat")}
      </Alert>
    );
  }
  if (failure) return <FailureAlert error={failure} errors={errors} placed={placed} />;
  if (saved) return <Alert tone="success">{savedText}</Alert>;
  return null;
}

/**
 * An editor's buttons: Save (once something changed; always while creating) and Discard
 * (while there are edits to throw away), then any further actions (`children`).
 */
export function FormActions<F>({ editor, saveLabel, creating = false, children }: { editor: Editor<F>; saveLabel: string; creating?: boolean; children?: ReactNode }) {
  return (
    <div className="flex flex-wrap gap-2">
      <Button type="submit" variant="primary" busy={editor.saving} disabled={!creating && !editor.dirty}>
        {saveLabel}
      </Button>
      {!creating && editor.dirty ? (
        <Button variant="ghost" onClick={editor.discard}>
          {t("admin.forms.discard")}
        </Button>
      ) : null}
      {children}
    </div>
  );
}

export function FailureAlert({ error, errors = {}, placed = [] }: { error: unknown; errors?: Errors; placed?: string[] }) {
  const rest = unplaced(errors, placed);
  const allPlaced = Object.keys(errors).length > 0 && rest.length === 0;
  const message =
    error instanceof FormInvalid || (allPlaced && error instanceof ApiError && error.status === 422)
      ? t("admin.forms.pleaseCorrectTheMarked")
      : describeError(error);
  return (
    <Alert tone="danger">
      {message}
      {rest.length ? (
        <ul className="mt-1 list-disc pl-5">
          {rest.map(([field, detail]) => (
            <li key={field}>
              <span className="font-mono">{field}</span>: {detail}
            </li>
          ))}
        </ul>
      ) : null}
    </Alert>
  );
}
