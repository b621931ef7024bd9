import { useMutation, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useParams } from "react-router";
import { api, ok } from "../api/client";
import { ApiError, describeError } from "../api/problem";
import { AuthLayout } from "../auth/AuthLayout";
import { Alert, Button, Field, Spinner, Textarea } from "../components/ui";
import { t } from "../i18n";

function linkProblem(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 404) return t("approvals.link.invalid");
    if (error.status === 410) return t("approvals.link.expired");
    if (error.status === 409) return t("approvals.link.used");
  }
  return describeError(error);
}

/** /approval-links/:token, where an approver's e-mail approve/reject links lead. No
 * sign-in: the signed token names the approver and the decision. Opening the page records
 * nothing (mail scanners open every link); the button does, once. */
export default function DecisionLinkPage() {
  const { token = "" } = useParams();
  const [comment, setComment] = useState("");
  const link = useQuery({
    queryKey: ["approval-link", token],
    queryFn: () => ok(api.GET("/v1/approval-links/{token}", { params: { path: { token } } })),
  });
  const send = useMutation({
    mutationFn: () => ok(api.POST("/v1/approval-links/{token}", { params: { path: { token } }, body: { comment: comment.trim() } })),
  });
  const done = send.data ?? (link.data?.decided ? link.data : null);
  const reject = link.data?.decision === "reject";
  return (
    <AuthLayout title={t("approvals.link.title")}>
      {link.isPending ? (
        <Spinner label={t("approvals.loading")} />
      ) : link.isError ? (
        <Alert tone="warning">{linkProblem(link.error)}</Alert>
      ) : done ? (
        <Alert tone="success" title={t("approvals.link.thanks")}>
          {t(done.decision === "approve" ? "approvals.link.approvedIt" : "approvals.link.rejectedIt", { title: done.title })}
        </Alert>
      ) : link.data.state !== "pending" ? (
        <Alert tone="info">{t("approvals.link.over")}</Alert>
      ) : (
        <form
          className="space-y-4"
          onSubmit={(event) => {
            event.preventDefault();
            send.mutate();
          }}
        >
          <p>
            <strong>{link.data.title}</strong> · {link.data.stage}
          </p>
          {link.data.subject?.description ? <p className="whitespace-pre-wrap text-fg-muted">{link.data.subject.description}</p> : null}
          <Field label={reject ? t("approvals.link.reason") : t("approvals.comment")} required={reject}>
            {(props) => <Textarea {...props} rows={3} maxLength={4000} required={reject} value={comment} onChange={(e) => setComment(e.target.value)} />}
          </Field>
          {send.isError ? <Alert tone="danger">{linkProblem(send.error)}</Alert> : null}
          <Button type="submit" variant={reject ? "danger" : "primary"} busy={send.isPending}>
            {reject ? t("approvals.reject") : t("approvals.approve")}
          </Button>
        </form>
      )}
    </AuthLayout>
  );
}
