import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useParams } from "react-router";
import { api, idempotencyKey, ok } from "../api/client";
import { describeError } from "../api/problem";
import { Alert, Badge, Button, Card, Field, PageHeader, Spinner, Textarea } from "../components/ui";
import { t, type MessageKey } from "../i18n";
import { ApprovalStages } from "./ApprovalStages";
import { STATE_TONE, type Approval } from "./types";

function DecisionForm({ approval }: { approval: Approval }) {
  const client = useQueryClient();
  const [comment, setComment] = useState("");
  const [missing, setMissing] = useState(false);
  const decide = useMutation({
    mutationFn: (decision: "approve" | "reject") =>
      ok(
        api.POST("/v1/approvals/{approval_id}/decisions", {
          params: { path: { approval_id: approval.id }, header: { "Idempotency-Key": idempotencyKey() } },
          body: { decision, comment: comment.trim(), version: approval.version },
        }),
      ),
    onSuccess: (next) => {
      client.setQueryData(["approval", approval.id], next);
      void client.invalidateQueries({ queryKey: ["approvals"] });
    },
  });
  const submit = (decision: "approve" | "reject") => {
    if (decision === "reject" && !comment.trim()) {
      setMissing(true);
      return;
    }
    setMissing(false);
    decide.mutate(decision);
  };
  return (
    <Card className="space-y-3 p-4" aria-labelledby="decide-heading">
      <h2 id="decide-heading" className="text-lg font-semibold text-fg">
        {t("approvals.decide")}
      </h2>
      <Field label={t("approvals.comment")} description={t("approvals.commentHelp")} error={missing ? t("approvals.reasonRequired") : undefined}>
        {(props) => <Textarea {...props} rows={3} maxLength={4000} value={comment} onChange={(e) => setComment(e.target.value)} />}
      </Field>
      {decide.isError ? <Alert>{describeError(decide.error)}</Alert> : null}
      <div className="flex gap-2">
        <Button variant="primary" busy={decide.isPending && decide.variables === "approve"} disabled={decide.isPending} onClick={() => submit("approve")}>
          {t("approvals.approve")}
        </Button>
        <Button variant="danger" busy={decide.isPending && decide.variables === "reject"} disabled={decide.isPending} onClick={() => submit("reject")}>
          {t("approvals.reject")}
        </Button>
      </div>
    </Card>
  );
}

/** /approvals/:approvalId, where the approver's e-mail links: the subject, the stages with
 * every decision, and (when a seat of the current stage is the caller's) approve/reject. */
export default function ApprovalPage() {
  const { approvalId = "" } = useParams();
  const found = useQuery({
    queryKey: ["approval", approvalId],
    queryFn: ({ signal }) => ok(api.GET("/v1/approvals/{approval_id}", { params: { path: { approval_id: approvalId } }, signal })),
  });
  if (found.isPending) return <Spinner label={t("approvals.loading")} />;
  if (found.isError) return <Alert>{describeError(found.error)}</Alert>;
  const approval = found.data;
  const subject = approval.subject;
  return (
    <>
      <PageHeader
        title={approval.title || subject?.title || t("approvals.untitled")}
        actions={<Badge tone={STATE_TONE[approval.state]}>{t(`approvals.state.${approval.state}` as MessageKey)}</Badge>}
      >
        <Link to="/approvals" className="text-accent-text underline">
          {t("approvals.back")}
        </Link>
      </PageHeader>
      <div className="grid gap-4 lg:grid-cols-[2fr_1fr]">
        <div className="space-y-4">
          {subject ? (
            <Card className="space-y-2 p-4" aria-labelledby="subject-heading">
              <h2 id="subject-heading" className="text-lg font-semibold text-fg">
                {subject.number ? `${subject.number} · ` : ""}
                {subject.title}
              </h2>
              <p className="text-fg-muted">
                {[subject.requester_name, subject.category].filter(Boolean).join(" · ")}
              </p>
              {subject.description ? <p className="whitespace-pre-wrap text-fg">{subject.description}</p> : null}
            </Card>
          ) : null}
          {approval.state === "pending" && approval.my_seats.length ? <DecisionForm approval={approval} /> : null}
        </div>
        <Card className="p-4" aria-labelledby="stages-heading">
          <h2 id="stages-heading" className="mb-3 text-lg font-semibold text-fg">
            {t("approvals.stages")}
          </h2>
          <ApprovalStages stages={approval.stages} />
        </Card>
      </div>
    </>
  );
}
