/**
 * An article's workflow (kb/service.py): draft → in_review → published → archived, back to
 * draft from review (reject) and from archive (restore). Which steps the caller may take
 * now is the API's answer (allowed_actions, from the role and the tenant's review rule);
 * the app only names them.
 */
export type ArticleState = "draft" | "in_review" | "published" | "archived";
export type ArticleAction = "submit" | "publish" | "reject" | "archive" | "restore";

export const STATE_LABELS: Record<ArticleState, string> = {
  draft: "Draft",
  in_review: "In review",
  published: "Published",
  archived: "Archived",
};

export const ARTICLE_STATES = Object.keys(STATE_LABELS) as ArticleState[];

export const ACTION_LABELS: Record<ArticleAction, string> = {
  submit: "Submit for review",
  publish: "Publish",
  reject: "Send back to draft",
  archive: "Archive",
  restore: "Restore to draft",
};

export function stateLabel(state: string): string {
  return STATE_LABELS[state as ArticleState] ?? state.replaceAll("_", " ");
}

/** The actions the API says the caller may take now (ArticlePublic.allowed_actions), in
 * the order the buttons show; an action this app does not know is left out. */
export function knownActions(allowed: readonly string[]): ArticleAction[] {
  return (Object.keys(ACTION_LABELS) as ArticleAction[]).filter((action) => allowed.includes(action));
}
