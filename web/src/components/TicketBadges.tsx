import type { Level, TicketStatus } from "../api/types";
import { LEVEL_LABELS, statusLabel } from "../lib/format";
import { Badge } from "./ui";
import { t } from "../i18n";

const STATUS_TONES: Record<TicketStatus, "neutral" | "info" | "success" | "warning" | "danger"> = {
  new: "info",
  open: "info",
  in_progress: "info",
  pending: "warning",
  pending_approval: "warning",
  resolved: "success",
  closed: "neutral",
  cancelled: "neutral",
};

export function StatusBadge({ status, staff = false }: { status: TicketStatus; staff?: boolean }) {
  return <Badge tone={STATUS_TONES[status]}>{statusLabel(status, staff)}</Badge>;
}

const PRIORITY_TONES: Record<Level, "neutral" | "info" | "warning" | "danger"> = {
  low: "neutral",
  medium: "info",
  high: "warning",
  critical: "danger",
};

export function PriorityBadge({ priority }: { priority: Level }) {
  return (
    <Badge tone={PRIORITY_TONES[priority]}>
      <span className="sr-only">{t("components.priority")}</span>
      {LEVEL_LABELS[priority]}
    </Badge>
  );
}
