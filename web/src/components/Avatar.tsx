import { useState } from "react";
import { cx } from "./ui";

/** Up to two initials of a name ("Ada Lovelace" → "AL"; "ada" → "A"). */
export function initials(name: string): string {
  const words = name.trim().split(/[\s._@-]+/).filter(Boolean);
  const letters = words.length > 1 ? [words[0], words[words.length - 1]] : words.slice(0, 1);
  return letters.map((w) => Array.from(w ?? "")[0]?.toUpperCase() ?? "").join("") || "?";
}

/** A person's picture (GET /v1/avatars/{id}) or, with none or if it fails to load, their
 * initials. Decorative beside the name it accompanies (the name says who), so hidden from
 * assistive technology. */
export function Avatar({ name, url, size = "sm" }: { name: string; url?: string | null; size?: "sm" | "lg" }) {
  const [failed, setFailed] = useState(false);
  const box = size === "lg" ? "h-16 w-16 text-xl" : "h-6 w-6 text-xs";
  if (url && !failed) {
    return <img src={url} alt="" aria-hidden="true" data-testid="avatar-image" className={cx(box, "shrink-0 rounded-full object-cover")} onError={() => setFailed(true)} />;
  }
  return (
    <span aria-hidden="true" data-testid="avatar-initials" className={cx(box, "inline-flex shrink-0 items-center justify-center rounded-full bg-surface-muted font-semibold text-fg")}>
      {initials(name)}
    </span>
  );
}

/** A person named in a list: their picture (or initials) and their name. With no person
 * (`name` null), the fallback text alone. */
export function Person({ name, url, fallback = "—" }: { name: string | null | undefined; url?: string | null; fallback?: string }) {
  if (!name) return <>{fallback}</>;
  return (
    <span className="inline-flex items-center gap-1.5">
      <Avatar name={name} url={url} />
      <span>{name}</span>
    </span>
  );
}
