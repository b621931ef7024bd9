import type { FormEvent, ReactNode } from "react";
import { Alert, Button, Card, Field, Select } from "../components/ui";
import { t } from "../i18n/changes";

/** A labelled select of `options` (value → words), with a first `empty` choice when given:
 * the filters, pickers and settings of the change screens. */
export function Choice<V extends string>({
  label,
  value,
  options,
  empty,
  description,
  required,
  error,
  onChange,
}: {
  label: string;
  value: V | "";
  options: readonly (readonly [V, string])[];
  empty?: string;
  description?: string;
  required?: boolean;
  error?: string;
  onChange: (value: V | "") => void;
}) {
  return (
    <Field label={label} description={description} required={required} error={error}>
      {(p) => (
        <Select {...p} value={value} onChange={(e) => onChange(e.target.value as V | "")}>
          {empty !== undefined ? <option value="">{empty}</option> : null}
          {options.map(([key, words]) => (
            <option key={key} value={key}>
              {words}
            </option>
          ))}
        </Select>
      )}
    </Field>
  );
}

/** The entries of a table of words by value, as `Choice` options. */
export function entries<V extends string>(table: Readonly<Record<V, string>>): [V, string][] {
  return (Object.keys(table) as V[]).map((key) => [key, table[key]]);
}

/** A form's submit handler that runs `run` instead of navigating. */
export function onSubmit(run: () => void) {
  return (e: FormEvent) => {
    e.preventDefault();
    run();
  };
}

/** A card of the change screens: a section named by its heading. */
export function Section({ id, title, children }: { id: string; title: string; children: ReactNode }) {
  return (
    <Card as="section" aria-labelledby={id} className="space-y-2">
      <h2 id={id} className="font-semibold">
        {title}
      </h2>
      {children}
    </Card>
  );
}

/** After a 412: someone else saved first. What was typed stays; `reload` loads theirs. */
export function StaleNotice({ title, reload }: { title: string; reload: () => Promise<void> }) {
  return (
    <Alert
      tone="warning"
      title={title}
      action={
        <Button size="sm" onClick={() => void reload()}>
          {t("changes.q.reload")}
        </Button>
      }
    >
      {t("changes.q.staleHint")}
    </Alert>
  );
}
