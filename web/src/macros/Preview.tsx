import { Alert } from "../components/ui";
import { STATUS_LABELS, isStatus } from "../lib/format";
import { useCategories, useTeams, useUsers } from "../tickets/queries";
import { describeAction, type Macro, type MacroAction, type MacroPreview } from "./api";
import { labelled, t } from "../i18n/macros";

const FIELD_LABELS: Record<string, string> = labelled({
  assignee_id: "macros.preview.assignee",
  team_id: "macros.preview.team",
  category_id: "macros.preview.category",
  custom_fields: "macros.preview.customFields",
});

function shown(value: unknown): string {
  if (value === null || value === undefined || value === "") return "(none)";
  if (Array.isArray(value)) return value.length ? value.join(", ") : "(none)";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value).replaceAll("_", " ");
}

/** People, teams, categories and statuses by name in a preview's changes. */
export function useNames(): (field: string, value: unknown) => string | undefined {
  const users = useUsers();
  const teams = useTeams();
  const categories = useCategories();
  return (field, value) => {
    if (typeof value !== "string") return undefined;
    if (field === "assignee_id") return users.data?.get(value)?.name;
    if (field === "team_id") return teams.data?.find((item) => item.id === value)?.name;
    if (field === "category_id") return categories.data?.find((c) => c.id === value)?.name;
    if (field === "status" && isStatus(value)) return STATUS_LABELS[value];
    return undefined;
  };
}

/** What a macro would do to a ticket: the fields it changes and the texts it posts. */
export function PreviewView({ preview }: { preview: MacroPreview }) {
  const names = useNames();
  return (
    <div className="space-y-3" data-testid="macro-preview">
      <section aria-label={t("macros.preview.changes")}>
        <h3 className="font-semibold">{t("macros.preview.changes")}</h3>
        {preview.changes.length ? (
          <ul className="list-disc pl-6">
            {preview.changes.map((change) => (
              <li key={change.field}>
                {FIELD_LABELS[change.field] ?? change.field.replaceAll("_", " ")}: {names(change.field, change.before) ?? shown(change.before)} →{" "}
                <strong>{names(change.field, change.after) ?? shown(change.after)}</strong>
              </li>
            ))}
          </ul>
        ) : (
          <p className="text-fg-muted">{t("macros.preview.noFieldChanges")}</p>
        )}
      </section>
      {preview.comments.map((comment, i) => (
        <section key={i} aria-label={comment.type === "reply" ? t("macros.preview.reply") : t("macros.preview.internalNote")} className={comment.type === "note" ? "rounded-md border-l-4 border-internal-border bg-internal-bg p-3 text-internal-text" : "rounded-md border border-border p-3"}>
          <h3 className="font-semibold">{comment.type === "reply" ? t("macros.preview.replyToTheRequester") : t("macros.preview.internalNote")}</h3>
          <p className="whitespace-pre-wrap">{comment.body}</p>
        </section>
      ))}
    </div>
  );
}

/** A macro's references that no longer resolve, each with the action it is in. */
export function ProblemList({ problems, actions }: { problems: Macro["problems"]; actions: MacroAction[] }) {
  return (
    <Alert tone="warning" title={t("macros.preview.thisMacroNeedsFixing")}>
      <ul className="list-disc pl-6">
        {problems.map((problem) => {
          const index = /^actions\.(\d+)/.exec(problem.field)?.[1];
          const action = index === undefined ? undefined : actions[Number(index)];
          return (
            <li key={problem.field}>
              {action ? t("macros.preview.actionValueAction", { value: Number(index) + 1, action: describeAction(action) }) : problem.field}: {problem.detail}
            </li>
          );
        })}
      </ul>
    </Alert>
  );
}
