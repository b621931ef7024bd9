import { useId, useState, type ReactNode } from "react";
import { Button, cx } from "../components/ui";
import { t } from "../i18n/admin";

/* The admin forms' own controls (checkbox groups, a confirm-in-place button, a scrolling
 * table area) and the parsing of their text inputs. */

interface Option<V extends string> {
  value: V;
  label: ReactNode;
}

/** A fieldset of checkboxes for a list value. */
export function CheckboxGroup<V extends string>({
  legend,
  options,
  value,
  onChange,
  error,
  description,
  className,
  columns = false,
}: {
  legend: ReactNode;
  options: Option<V>[];
  value: V[];
  onChange: (value: V[]) => void;
  error?: string | undefined;
  description?: ReactNode;
  className?: string;
  columns?: boolean;
}) {
  const id = useId();
  return (
    <fieldset
      className={cx("min-w-0 space-y-1", className)}
      aria-invalid={error ? true : undefined}
      aria-describedby={[description ? `${id}-d` : "", error ? `${id}-e` : ""].filter(Boolean).join(" ") || undefined}
    >
      <legend className="mb-1 font-medium">{legend}</legend>
      {description ? (
        <p id={`${id}-d`} className="text-fg-muted">
          {description}
        </p>
      ) : null}
      <div className={cx(columns ? "grid gap-1 sm:grid-cols-2" : "flex flex-wrap gap-x-4 gap-y-1")}>
        {options.map((option) => {
          const checked = value.includes(option.value);
          return (
            <label key={option.value} className="flex items-center gap-2">
              <input
                type="checkbox"
                className="h-4 w-4 accent-accent"
                checked={checked}
                onChange={(e) =>
                  onChange(e.target.checked ? [...value, option.value] : value.filter((v) => v !== option.value))
                }
              />
              <span>{option.label}</span>
            </label>
          );
        })}
      </div>
      {error ? (
        <p id={`${id}-e`} className="font-medium text-danger-text">
          {error}
        </p>
      ) : null}
    </fieldset>
  );
}

/** A labelled checkbox with an optional error. */
export function Checkbox({
  label,
  checked,
  onChange,
  error,
  description,
}: {
  label: ReactNode;
  checked: boolean;
  onChange: (checked: boolean) => void;
  error?: string | undefined;
  description?: ReactNode;
}) {
  const id = useId();
  return (
    <div className="space-y-1">
      <div className="flex items-center gap-2">
        <input
          id={id}
          type="checkbox"
          className="h-4 w-4 accent-accent"
          checked={checked}
          aria-invalid={error ? true : undefined}
          aria-describedby={[description ? `${id}-d` : "", error ? `${id}-e` : ""].filter(Boolean).join(" ") || undefined}
          onChange={(e) => onChange(e.target.checked)}
        />
        <label htmlFor={id} className="font-medium">
          {label}
        </label>
      </div>
      {description ? (
        <p id={`${id}-d`} className="text-fg-muted">
          {description}
        </p>
      ) : null}
      {error ? (
        <p id={`${id}-e`} className="font-medium text-danger-text">
          {error}
        </p>
      ) : null}
    </div>
  );
}

/** The parsed number of a numeric text input, or null when empty / not a number. */
export function toInt(text: string): number | null {
  const trimmed = text.trim();
  if (!trimmed) return null;
  const n = Number(trimmed);
  return Number.isFinite(n) ? n : null;
}

/** "a, b ,c" → ["a", "b", "c"] */
export function splitList(text: string): string[] {
  return text
    .split(/[,\n]/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/** A destructive action in two steps, without a modal: the button asks to confirm in place. */
export function ConfirmButton({
  children,
  confirmLabel,
  onConfirm,
  busy = false,
  size = "sm",
}: {
  children: ReactNode;
  confirmLabel: string;
  onConfirm: () => void;
  busy?: boolean;
  size?: "sm" | "md";
}) {
  const [asking, setAsking] = useState(false);
  if (!asking) {
    return (
      <Button size={size} variant="secondary" busy={busy} onClick={() => setAsking(true)}>
        {children}
      </Button>
    );
  }
  return (
    <span className="inline-flex flex-wrap gap-2">
      <Button
        size={size}
        variant="danger"
        autoFocus
        onClick={() => {
          setAsking(false);
          onConfirm();
        }}
      >
        {confirmLabel}
      </Button>
      <Button size={size} variant="ghost" onClick={() => setAsking(false)}>
        {t("admin.fields.cancel")}
      </Button>
    </span>
  );
}

/** A table that may scroll sideways on a small screen: focusable, so a keyboard can scroll it. */
export function ScrollArea({ label, children, className }: { label: string; children: ReactNode; className?: string }) {
  return (
    <div role="region" aria-label={label} tabIndex={0} className={cx("relative overflow-x-auto", className)}>
      {children}
    </div>
  );
}
