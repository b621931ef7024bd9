import { useQuery } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { api, ok } from "../api/client";
import type { User } from "../api/types";
import { t } from "../i18n";
import { Field, Input } from "./ui";

/** Add a person to a choice: one (replaces) or several (appended once, at most `max`). */
export function choose(value: readonly string[], id: string, multiple: boolean, max: number): string[] {
  if (!multiple) return [id];
  if (value.includes(id) || value.length >= max) return [...value];
  return [...value, id];
}

/** Take a person out of a choice. */
export function unchoose(value: readonly string[], id: string): string[] {
  return value.filter((v) => v !== id);
}

/** How a person reads in the picker: name and e-mail, or the id while it loads. */
export function personLabel(user: Pick<User, "name" | "email"> | undefined, id: string): string {
  if (!user) return id.slice(0, 8);
  return user.name ? `${user.name} (${user.email})` : user.email;
}

const SEARCH_LIMIT = 8;

function useSearch(text: string) {
  const [q, setQ] = useState(text);
  useEffect(() => {
    const timer = setTimeout(() => setQ(text.trim()), 250);
    return () => clearTimeout(timer);
  }, [text]);
  return useQuery({
    queryKey: ["users", "search", q],
    enabled: q.length > 0,
    queryFn: ({ signal }) => ok(api.GET("/v1/users", { params: { query: { q, active: true, limit: SEARCH_LIMIT } }, signal })),
    select: (page) => page.items,
    staleTime: 30_000,
  });
}

/** One member, by id (cached: the chips, a CI's owner, its linked people). */
export function useUser(id: string | null) {
  return useQuery({
    queryKey: ["users", "one", id],
    enabled: id !== null,
    queryFn: ({ signal }) => ok(api.GET("/v1/users/{user_id}", { params: { path: { user_id: id ?? "" } }, signal })),
    staleTime: 300_000,
  });
}

function Chip({ id, onRemove }: { id: string; onRemove: () => void }) {
  const user = useUser(id);
  const label = personLabel(user.data, id);
  return (
    <li className="inline-flex items-center gap-1 rounded-full border border-border bg-surface px-3 py-1" data-testid="picked-user">
      <span>{label}</span>
      <button
        type="button"
        className="ml-1 rounded-full px-1 text-fg-muted hover:text-fg focus-visible:outline focus-visible:outline-2 focus-visible:outline-accent"
        aria-label={t("components.userPicker.remove", { name: user.data?.name || user.data?.email || label })}
        onClick={onRemove}
      >
        <span aria-hidden="true">×</span>
      </button>
    </li>
  );
}

interface Props {
  label: string;
  /** The chosen people's ids. */
  value: string[];
  onChange: (ids: string[]) => void;
  /** Several people (chips), or one (choosing again replaces). */
  multiple?: boolean;
  max?: number;
  error?: string | undefined;
  description?: string;
  required?: boolean;
  /** Show the chosen people as chips (off where choosing acts at once: a link). */
  showChosen?: boolean;
}

/**
 * Staff and requesters by name or e-mail (the users API's prefix search, active members):
 * the chosen ones as removable chips, stored as ids. One component for every place that
 * names people: a CI's owner, an approval stage's approvers.
 */
export function UserPicker({ label, value, onChange, multiple = false, max = 50, error, description, required, showChosen = true }: Props) {
  const [text, setText] = useState("");
  const search = useSearch(text);
  const matches = (search.data ?? []).filter((u) => !value.includes(u.id));
  const full = multiple && value.length >= max;
  const q = text.trim();
  return (
    <div className="space-y-2">
      <Field label={label} error={error} description={description ?? t("components.userPicker.hint")} required={required}>
        {(p) => (
          <Input
            {...p}
            type="search"
            autoComplete="off"
            value={text}
            disabled={full}
            onChange={(e) => setText(e.target.value)}
            onKeyDown={(e) => {
              const first = matches[0];
              if (e.key === "Enter") {
                e.preventDefault();
                if (first) {
                  onChange(choose(value, first.id, multiple, max));
                  setText("");
                }
              }
            }}
          />
        )}
      </Field>
      {full ? <p className="text-fg-muted">{t("components.userPicker.full", { n: max })}</p> : null}
      {q && !full ? (
        search.isFetching && !search.data ? (
          <p className="text-fg-muted" role="status">
            {t("components.userPicker.searching")}
          </p>
        ) : matches.length ? (
          <ul className="flex flex-col gap-1" aria-label={t("components.userPicker.matches", { q })}>
            {matches.map((u) => (
              <li key={u.id}>
                <button
                  type="button"
                  className="w-full rounded-md px-2 py-1 text-left hover:bg-surface-muted focus-visible:outline focus-visible:outline-2 focus-visible:outline-accent"
                  aria-label={t("components.userPicker.add", { name: personLabel(u, u.id) })}
                  onClick={() => {
                    onChange(choose(value, u.id, multiple, max));
                    setText("");
                  }}
                >
                  {personLabel(u, u.id)}
                </button>
              </li>
            ))}
          </ul>
        ) : search.isSuccess ? (
          <p className="text-fg-muted" role="status">
            {t("components.userPicker.noMatch", { q })}
          </p>
        ) : null
      ) : null}
      {!showChosen ? null : value.length ? (
        <ul className="flex flex-wrap gap-2" aria-label={`${label}: ${t("components.userPicker.chosen")}`}>
          {value.map((id) => (
            <Chip key={id} id={id} onRemove={() => onChange(unchoose(value, id))} />
          ))}
        </ul>
      ) : (
        <p className="text-fg-muted">{t("components.userPicker.none")}</p>
      )}
    </div>
  );
}
