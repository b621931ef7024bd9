/**
 * An article's workflow (kb/service.py): draft → in_review → published → archived, back to
 * draft from review (reject) and from archive (restore). Which steps the caller may take
 * now is the API's answer (allowed_actions, from the role and the tenant's review rule);
 * the app only names them.
 */
import { labelled } from "../i18n/kb";

export type ArticleState = "draft" | "in_review" | "published" | "archived";
export type ArticleAction = "submit" | "publish" | "reject" | "archive" | "restore";

export const STATE_LABELS: Record<ArticleState, string> = labelled({
  draft: "kb.workflow.draft",
  in_review: "kb.workflow.inReview",
  published: "kb.workflow.published",
  archived: "kb.workflow.archived",
});

export const ARTICLE_STATES = Object.keys(STATE_LABELS) as ArticleState[];

export const ACTION_LABELS: Record<ArticleAction, string> = labelled({
  submit: "kb.workflow.submitForReview",
  publish: "kb.workflow.publish",
  reject: "kb.workflow.sendBackToDraft",
  archive: "kb.workflow.archive",
  restore: "kb.workflow.restoreToDraft",
});

export function stateLabel(state: string): string {
  return STATE_LABELS[state as ArticleState] ?? state.replaceAll("_", " ");
}

/** The actions the API says the caller may take now (ArticlePublic.allowed_actions), in
 * the order the buttons show; an action this app does not know is left out. */
export function knownActions(allowed: readonly string[]): ArticleAction[] {
  return (Object.keys(ACTION_LABELS) as ArticleAction[]).filter((action) => allowed.includes(action));
}
