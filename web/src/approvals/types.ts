import type { components } from "../api/schema";

export type Approval = components["schemas"]["ApprovalPublic"];
export type Stage = components["schemas"]["StagePublic"];
export type Decision = components["schemas"]["DecisionPublic"];
export type Scope = "awaiting" | "requested" | "decided" | "all";

export const STATE_TONE = {
  pending: "info",
  approved: "success",
  rejected: "danger",
  cancelled: "neutral",
} as const;

export const STAGE_TONE = {
  waiting: "neutral",
  pending: "info",
  approved: "success",
  rejected: "danger",
  cancelled: "neutral",
} as const;
