import { useMutation, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useParams, useSearchParams } from "react-router";
import { api, ok } from "../api/client";
import { ApiError, describeError } from "../api/problem";
import { AuthLayout } from "../auth/AuthLayout";
import { Alert, Button, Field, Spinner, Textarea } from "../components/ui";

export const RATING_LABELS: Record<number, string> = {
  1: "Very dissatisfied",
  2: "Dissatisfied",
  3: "Neutral",
  4: "Satisfied",
  5: "Very satisfied",
};

function linkProblem(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 404) return "This survey link is not valid.";
    if (error.status === 410) return "This survey has expired.";
    if (error.status === 409) return "This survey was already answered. Thank you!";
  }
  return describeError(error);
}

/** /csat/:token?rating=N, where a survey e-mail's links lead. No sign-in: the signed token
 * names the survey. Opening the page records nothing (mail scanners open every link): the
 * link's rating is preselected and the button sends it (servicedesk/csat). */
export default function SurveyPage() {
  const { token = "" } = useParams();
  const [params] = useSearchParams();
  const chosen = Number(params.get("rating"));
  const [rating, setRating] = useState<number | null>(chosen >= 1 && chosen <= 5 ? chosen : null);
  const [comment, setComment] = useState("");
  const survey = useQuery({
    queryKey: ["csat", token],
    queryFn: () => ok(api.GET("/v1/csat/{token}", { params: { path: { token } } })),
    retry: false,
  });
  const send = useMutation({
    mutationFn: (body: { rating: number; comment?: string }) =>
      ok(api.POST("/v1/csat/{token}", { params: { path: { token } }, body })),
  });
  const done = send.data ?? (survey.data?.answered ? survey.data : null);
  return (
    <AuthLayout title="How did we do?">
      {survey.isPending ? (
        <Spinner label="Loading the survey" />
      ) : survey.isError ? (
        <Alert tone="warning">{linkProblem(survey.error)}</Alert>
      ) : done ? (
        <Alert tone="success" title="Thank you">
          You rated {done.number}: {done.rating} – {RATING_LABELS[done.rating ?? 0]}.
        </Alert>
      ) : (
        <form
          className="space-y-4"
          onSubmit={(event) => {
            event.preventDefault();
            if (rating !== null) send.mutate({ rating, ...(comment.trim() ? { comment: comment.trim() } : {}) });
          }}
        >
          <p>
            <strong>{survey.data.number}</strong>: {survey.data.title}
          </p>
          <fieldset>
            <legend className="mb-2 font-medium text-fg">{survey.data.question}</legend>
            <div className="flex flex-col gap-1">
              {[5, 4, 3, 2, 1].map((n) => (
                <label key={n} className="flex items-center gap-2">
                  <input type="radio" name="rating" value={n} checked={rating === n} onChange={() => setRating(n)} />
                  {n} – {RATING_LABELS[n]}
                </label>
              ))}
            </div>
          </fieldset>
          <Field label="Comment (optional)">
            {(props) => <Textarea {...props} maxLength={2000} rows={3} value={comment} onChange={(e) => setComment(e.target.value)} />}
          </Field>
          {send.isError ? <Alert tone="danger">{linkProblem(send.error)}</Alert> : null}
          <Button type="submit" variant="primary" busy={send.isPending} disabled={rating === null}>
            Send my rating
          </Button>
        </form>
      )}
    </AuthLayout>
  );
}
