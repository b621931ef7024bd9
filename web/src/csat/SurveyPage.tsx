import { useMutation, useQuery } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { useParams, useSearchParams } from "react-router";
import { api, ok } from "../api/client";
import { ApiError, describeError } from "../api/problem";
import { AuthLayout } from "../auth/AuthLayout";
import { Alert, Button, Field, Spinner, Textarea } from "../components/ui";
import { choices, preselected, ratingText } from "./scale";
import { t } from "../i18n";

function linkProblem(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 404) return t("csat.survey.invalid");
    if (error.status === 410) return t("csat.survey.expired");
    if (error.status === 409) return t("csat.survey.answered");
  }
  return describeError(error);
}

/** /csat/:token?rating=N, where a survey e-mail's links lead. No sign-in: the signed token
 * names the survey. Opening the page records nothing (mail scanners open every link): the
 * link's rating is preselected and the button sends it (servicedesk/csat). */
export default function SurveyPage() {
  const { token = "" } = useParams();
  const [params] = useSearchParams();
  const [rating, setRating] = useState<number | null>(null);
  const [comment, setComment] = useState("");
  const survey = useQuery({
    queryKey: ["csat", token],
    queryFn: () => ok(api.GET("/v1/csat/{token}", { params: { path: { token } } })),
  });
  const send = useMutation({
    mutationFn: (body: { rating: number; comment?: string }) =>
      ok(api.POST("/v1/csat/{token}", { params: { path: { token } }, body })),
  });
  const scale = survey.data?.scale;
  // The link's rating, once the survey says which ratings its scale offers.
  const linked = params.get("rating");
  useEffect(() => {
    if (scale) setRating((current) => current ?? preselected(scale, linked));
  }, [scale, linked]);
  const done = send.data ?? (survey.data?.answered ? survey.data : null);
  return (
    <AuthLayout title={t("csat.survey.title")}>
      {survey.isPending ? (
        <Spinner label={t("csat.survey.loading")} />
      ) : survey.isError ? (
        <Alert tone="warning">{linkProblem(survey.error)}</Alert>
      ) : done ? (
        <Alert tone="success" title={t("csat.survey.thanks")}>
          {t("csat.survey.rated", { number: done.number, rating: ratingText(done.scale, done.rating) })}
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
            <div className={scale === "good-bad" ? "flex gap-3" : "flex flex-col gap-1"}>
              {choices(scale).map(([n, label]) => (
                <label
                  key={n}
                  className={
                    scale === "good-bad"
                      ? "flex min-w-24 cursor-pointer items-center justify-center gap-2 rounded-md border border-border-strong px-4 py-2 has-[:checked]:border-accent has-[:checked]:bg-accent-subtle has-[:focus-visible]:ring-2 has-[:focus-visible]:ring-accent"
                      : "flex items-center gap-2"
                  }
                >
                  <input type="radio" name="rating" value={n} checked={rating === n} onChange={() => setRating(n)} />
                  {label}
                </label>
              ))}
            </div>
          </fieldset>
          <Field label={t("csat.comment")}>
            {(props) => <Textarea {...props} maxLength={2000} rows={3} value={comment} onChange={(e) => setComment(e.target.value)} />}
          </Field>
          {send.isError ? <Alert tone="danger">{linkProblem(send.error)}</Alert> : null}
          <Button type="submit" variant="primary" busy={send.isPending} disabled={rating === null}>
            {t("csat.send")}
          </Button>
        </form>
      )}
    </AuthLayout>
  );
}
