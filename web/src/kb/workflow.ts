import type { Role } from "../api/types";
import { atLeast } from "../lib/domain";

/**
 * An article's workflow, mirrored from the API (kb/service.py): draft → in_review →
 * published → archived, back to draft from review (reject) and from archive (restore).
 * The API has the last word (409 on an illegal step, 403 on a missing right); this only
 * decides which buttons to show.
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

const FROM: Record<ArticleAction, readonly ArticleState[]> = {
  submit: ["draft"],
  publish: ["draft", "in_review"],
  reject: ["in_review"],
  archive: ["published", "draft", "in_review"],
  restore: ["archived"],
};

export function stateLabel(state: string): string {
  return STATE_LABELS[state as ArticleState] ?? state.replaceAll("_", " ");
}

/**
 * The actions a role may take on an article in `state`. Agents write and submit; managers
 * and admins publish, reject, archive and restore. An agent may publish a draft directly
 * only when the tenant does not require review.
 */
export function allowedActions(state: string, role: Role, requireReview: boolean): ArticleAction[] {
  const manager = atLeast(role, "manager");
  return (Object.keys(FROM) as ArticleAction[]).filter((action) => {
    if (!FROM[action].includes(state as ArticleState)) return false;
    if (action === "submit") return true;
    if (action === "publish") return manager || (!requireReview && atLeast(role, "agent"));
    return manager;
  });
}
