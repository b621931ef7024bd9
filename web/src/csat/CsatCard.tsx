import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, ok } from "../api/client";
import { ApiError, describeError } from "../api/problem";
import { Alert, Button, Card, Field, Textarea } from "../components/ui";
import { formatDateTime } from "../lib/format";
import { choices, ratingText } from "./scale";
import { t } from "../i18n";

function useSurvey(ticketId: string, enabled: boolean) {
  return useQuery({
    queryKey: ["tickets", ticketId, "csat"],
    enabled,
    queryFn: async () => {
      try {
        return await ok(api.GET("/v1/tickets/{ticket_id}/csat", { params: { path: { ticket_id: ticketId } } }));
      } catch (error) {
        if (error instanceof ApiError && error.status === 404) return null; // no survey
        throw error;
      }
    },
  });
}

/** The satisfaction survey of a ticket: staff read the rating and comment (the agent's
 * sidebar), and while the survey waits for its delayed mail (the CSAT delay setting) when
 * it will go out (``scheduledFor``, the ticket's ``csat_survey_scheduled_for``); the
 * requester answers it in the portal once the request is resolved. */
export function CsatCard({ ticketId, staff, finished, scheduledFor = null }: { ticketId: string; staff: boolean; finished: boolean; scheduledFor?: string | null }) {
  const survey = useSurvey(ticketId, staff || finished);
  const client = useQueryClient();
  const [rating, setRating] = useState<number | null>(null);
  const [comment, setComment] = useState("");
  const send = useMutation({
    mutationFn: (body: { rating: number; comment?: string }) =>
      ok(api.POST("/v1/tickets/{ticket_id}/csat", { params: { path: { ticket_id: ticketId } }, body })),
    onSuccess: (data) => client.setQueryData(["tickets", ticketId, "csat"], data),
  });
  const s = survey.data;
  if (!s && staff && scheduledFor)
    return (
      <Card aria-labelledby="csat-heading">
        <h2 id="csat-heading" className="mb-2 font-semibold">
          {t("csat.card.heading")}
        </h2>
        <p className="text-fg-muted" data-testid="csat-scheduled">
          {t("csat.card.scheduled")}<time dateTime={scheduledFor}>{formatDateTime(scheduledFor)}</time>
        </p>
      </Card>
    );
  if (!s) return null;
  return (
    <Card aria-labelledby="csat-heading">
      <h2 id="csat-heading" className="mb-2 font-semibold">
        {t("csat.card.heading")}
      </h2>
      {s.answered ? (
        <div className="space-y-1">
          <p>
            <strong>{ratingText(s.scale, s.rating)}</strong>
          </p>
          {s.comment ? <blockquote className="whitespace-pre-wrap border-l-2 border-border pl-2">{s.comment}</blockquote> : null}
          {s.answered_at ? <p className="text-fg-muted">{t("csat.card.answered", { when: formatDateTime(s.answered_at) })}</p> : null}
        </div>
      ) : staff ? (
        <p className="text-fg-muted">{t("csat.card.waiting")}</p>
      ) : (
        <form
          className="space-y-3"
          onSubmit={(event) => {
            event.preventDefault();
            if (rating !== null) send.mutate({ rating, ...(comment.trim() ? { comment: comment.trim() } : {}) });
          }}
        >
          <fieldset>
            <legend className="mb-1">{s.question}</legend>
            {choices(s.scale).map(([n, label]) => (
              <label key={n} className="flex items-center gap-2">
                <input type="radio" name="csat-rating" value={n} checked={rating === n} onChange={() => setRating(n)} />
                {label}
              </label>
            ))}
          </fieldset>
          <Field label={t("csat.comment")}>
            {(props) => <Textarea {...props} maxLength={2000} rows={2} value={comment} onChange={(e) => setComment(e.target.value)} />}
          </Field>
          {send.isError ? <Alert tone="danger">{describeError(send.error)}</Alert> : null}
          <Button type="submit" size="sm" variant="primary" busy={send.isPending} disabled={rating === null}>
            {t("csat.send")}
          </Button>
        </form>
      )}
    </Card>
  );
}
