import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useParams } from "react-router";
import { api, ok } from "../api/client";
import { ApiError, describeError } from "../api/problem";
import { ApprovalStages } from "../approvals/ApprovalStages";
import { useMe } from "../auth/AuthProvider";
import { Alert, Badge, Button, Field, PageHeader, Spinner, Textarea } from "../components/ui";
import { can } from "../lib/domain";
import { useLiveChanges } from "../live/LiveProvider";
import { formatDateTime } from "../lib/format";
import { ChangeTasks } from "../projects/ChangeTasks";
import { t } from "../i18n/changes";
import {
  APPROVAL_LABELS,
  OUTCOME_LABELS,
  RISK_LABELS,
  RISK_TONE,
  STATE_LABELS,
  TYPE_LABELS,
  changeKeys,
  useChange,
  useSettings,
  type Change,
  type ChangeState,
  type Outcome,
} from "./api";
import { Choice, Section, entries, onSubmit } from "./parts";

const EDITABLE: ChangeState[] = ["draft", "assessment"];

/** One change: its plans and window, collisions and blackout overlaps as warnings, the
 * affected CIs, the risk questionnaire, the approvals' progress, the state moves and the
 * post-implementation review. */
export default function ChangePage() {
  const { changeId = "" } = useParams();
  const me = useMe();
  useLiveChanges(true);
  const change = useChange(changeId);
  if (change.isPending) return <Spinner label={t("changes.detail.loading")} />;
  if (change.isError) {
    const missing = change.error instanceof ApiError && change.error.status === 404;
    return <Alert title={missing ? t("changes.detail.notFound") : t("changes.loadFailed")}>{missing ? null : describeError(change.error)}</Alert>;
  }
  const c = change.data;
  const manage = can(me, "change:manage");
  const editable = manage && EDITABLE.includes(c.state);
  return (
    <>
      <p className="mb-2">
        <Link to="/changes" className="text-accent-text underline">
          {t("changes.back")}
        </Link>
      </p>
      <PageHeader title={t("changes.refTitle", { n: c.number, title: c.title })}>
        <span className="flex flex-wrap items-center gap-2">
          <Badge>{TYPE_LABELS[c.type]}</Badge>
          <Badge tone="info">{STATE_LABELS[c.state]}</Badge>
          {c.risk_level ? <Badge tone={RISK_TONE[c.risk_level]}>{t("changes.riskBadge", { level: RISK_LABELS[c.risk_level], score: c.risk_score ?? 0 })}</Badge> : null}
        </span>
      </PageHeader>
      <Warnings change={c} />
      {c.reason ? <Alert tone="info" title={t("changes.detail.reason")}>{c.reason}</Alert> : null}
      <div className="mt-4 grid gap-4 lg:grid-cols-2">
        <Plans change={c} />
        {manage && c.allowed_states.length ? <Moves change={c} /> : null}
        <Cis change={c} editable={editable} />
        <Risk change={c} editable={editable} />
        <Approvals change={c} />
        <Tickets change={c} />
        <ChangeTasks changeId={c.id} plan={c.implementation_plan} />
        {c.state === "review" || c.review_outcome ? <Review change={c} editable={manage && c.state === "review"} /> : null}
      </div>
    </>
  );
}

function useSave(change: Change) {
  const client = useQueryClient();
  return (next: Change) => {
    client.setQueryData(changeKeys.change(change.id), next);
    void client.invalidateQueries({ queryKey: ["changes", "list"] });
  };
}

function Warnings({ change }: { change: Change }) {
  if (!change.collisions.length && !change.blackouts.length) return null;
  return (
    <div className="space-y-2" data-testid="change-warnings">
      {change.collisions.length ? (
        <Alert tone="warning" title={t("changes.detail.collisions")}>
          <ul className="list-disc pl-5">
            {change.collisions.map((x) => (
              <li key={`${x.change_id}-${x.other_ci_id}`}>
                <Link to={`/changes/${x.change_id}`} className="underline">
                  {t("changes.refTitle", { n: x.number, title: x.title })}
                </Link>{" "}
                {t("changes.detail.collisionAt", { start: formatDateTime(x.planned_start), end: formatDateTime(x.planned_end), depth: x.depth })}
              </li>
            ))}
          </ul>
        </Alert>
      ) : null}
      {change.blackouts.length ? (
        <Alert tone="warning" title={t("changes.detail.blackouts")}>
          <ul className="list-disc pl-5">
            {change.blackouts.map((b) => (
              <li key={`${b.id}@${b.starts_at}`}>
                {b.name}: {formatDateTime(b.starts_at)} – {formatDateTime(b.ends_at)}
              </li>
            ))}
          </ul>
        </Alert>
      ) : null}
    </div>
  );
}

function Plans({ change }: { change: Change }) {
  const rows: [string, string][] = [
    [t("changes.plannedStart"), change.planned_start ? formatDateTime(change.planned_start) : "—"],
    [t("changes.plannedEnd"), change.planned_end ? formatDateTime(change.planned_end) : "—"],
    [t("changes.description"), change.description || "—"],
    [t("changes.implementationPlan"), change.implementation_plan || "—"],
    [t("changes.backoutPlan"), change.backout_plan || "—"],
    [t("changes.testPlan"), change.test_plan || "—"],
  ];
  return (
    <Section id="change-plans" title={t("changes.detail.plans")}>
      <dl className="grid grid-cols-[max-content_1fr] gap-x-4 gap-y-1">
        {rows.map(([label, value]) => (
          <div key={label} className="contents">
            <dt className="text-fg-muted">{label}</dt>
            <dd className="whitespace-pre-wrap break-words">{value}</dd>
          </div>
        ))}
      </dl>
    </Section>
  );
}

function Moves({ change }: { change: Change }) {
  const save = useSave(change);
  const [reason, setReason] = useState("");
  const move = useMutation({
    mutationFn: (state: ChangeState) =>
      ok(api.POST("/v1/changes/{change_id}/transitions", { params: { path: { change_id: change.id } }, body: { state, reason: reason.trim(), version: change.version } })),
    onSuccess: (next) => {
      setReason("");
      save(next);
    },
  });
  return (
    <Section id="change-moves" title={t("changes.detail.moves")}>
      <Field label={t("changes.detail.moveReason")} description={t("changes.detail.moveReasonHint")}>
        {(p) => <Textarea {...p} rows={2} maxLength={4000} value={reason} onChange={(e) => setReason(e.target.value)} />}
      </Field>
      {move.isError ? <Alert>{describeError(move.error)}</Alert> : null}
      <div className="flex flex-wrap gap-2">
        {change.allowed_states.map((s) => (
          <Button key={s} variant={s === "cancelled" || s === "failed" ? "danger" : "primary"} busy={move.isPending && move.variables === s} disabled={move.isPending} onClick={() => move.mutate(s)}>
            {t("changes.detail.moveTo", { state: STATE_LABELS[s] })}
          </Button>
        ))}
      </div>
    </Section>
  );
}

function Cis({ change, editable }: { change: Change; editable: boolean }) {
  const save = useSave(change);
  const [chosen, setChosen] = useState("");
  const all = useQuery({
    queryKey: ["cmdb", "cis", "picker"],
    queryFn: ({ signal }) => ok(api.GET("/v1/cis", { params: { query: { limit: 100 } }, signal })),
    select: (page) => page.items,
    enabled: editable,
  });
  const setCis = useMutation({
    mutationFn: (ids: string[]) => ok(api.PATCH("/v1/changes/{change_id}", { params: { path: { change_id: change.id } }, body: { ci_ids: ids, version: change.version } })),
    onSuccess: (next) => {
      setChosen("");
      save(next);
    },
  });
  const ids = change.cis.map((ci) => ci.id);
  const offered = all.data?.filter((ci) => !ids.includes(ci.id)) ?? [];
  return (
    <Section id="change-cis" title={t("changes.detail.cis")}>
      {change.cis.length ? (
        <ul className="space-y-1" data-testid="change-cis">
          {change.cis.map((ci) => (
            <li key={ci.id} className="flex items-center justify-between gap-2">
              <Link to={`/cmdb/${ci.id}`} className="text-accent-text underline">
                {ci.name}
              </Link>
              {editable ? (
                <Button size="sm" variant="secondary" disabled={setCis.isPending} onClick={() => setCis.mutate(ids.filter((id) => id !== ci.id))}>
                  {t("changes.detail.removeCi", { name: ci.name })}
                </Button>
              ) : null}
            </li>
          ))}
        </ul>
      ) : (
        <p className="text-fg-muted">{t("changes.detail.noCis")}</p>
      )}
      {editable ? (
        <div className="flex items-end gap-2">
          <Choice label={t("changes.detail.addCi")} value={chosen} empty={t("changes.detail.chooseCi")} options={offered.map((ci) => [ci.id, ci.name] as const)} onChange={setChosen} />
          <Button disabled={!chosen || setCis.isPending} onClick={() => setCis.mutate([...ids, chosen])}>
            {t("changes.detail.add")}
          </Button>
        </div>
      ) : null}
      {setCis.isError ? <Alert>{describeError(setCis.error)}</Alert> : null}
    </Section>
  );
}

function Risk({ change, editable }: { change: Change; editable: boolean }) {
  const save = useSave(change);
  const settings = useSettings();
  const [answers, setAnswers] = useState<Record<string, string>>(change.risk_answers);
  const assess = useMutation({
    mutationFn: () => ok(api.PATCH("/v1/changes/{change_id}", { params: { path: { change_id: change.id } }, body: { risk_answers: answers, version: change.version } })),
    onSuccess: save,
  });
  const submit = onSubmit(() => assess.mutate());
  const questions = settings.data?.questions ?? [];
  return (
    <Section id="change-risk" title={t("changes.detail.risk")}>
      <p data-testid="change-risk">
        {change.risk_level ? t("changes.riskBadge", { level: RISK_LABELS[change.risk_level], score: change.risk_score ?? 0 }) : t("changes.notAssessed")}
      </p>
      {editable && questions.length ? (
        <form className="space-y-3" onSubmit={submit}>
          {questions.map((q) => (
            <fieldset key={q.key}>
              <legend className="font-medium">{q.text}</legend>
              <div className="flex flex-wrap gap-3">
                {q.options.map((o) => (
                  <label key={o.key} className="flex items-center gap-1">
                    <input type="radio" name={`risk-${q.key}`} value={o.key} checked={answers[q.key] === o.key} onChange={() => setAnswers({ ...answers, [q.key]: o.key })} />
                    {o.label}
                  </label>
                ))}
              </div>
            </fieldset>
          ))}
          {assess.isError ? <Alert>{describeError(assess.error)}</Alert> : null}
          <Button type="submit" busy={assess.isPending}>
            {t("changes.detail.assess")}
          </Button>
        </form>
      ) : null}
    </Section>
  );
}

function Approvals({ change }: { change: Change }) {
  return (
    <Section id="change-approvals" title={t("changes.detail.approvals")}>
      {change.approvals.length ? (
        change.approvals.map((a) => (
          <div key={a.id} className="space-y-1">
            <Link to={`/approvals/${a.id}`} className="text-accent-text underline">
              {t("changes.detail.approval", { state: APPROVAL_LABELS[a.state] })}
            </Link>
            <ApprovalStages stages={a.stages} />
          </div>
        ))
      ) : (
        <p className="text-fg-muted">{change.type === "standard" ? t("changes.detail.preApproved") : t("changes.detail.noApprovals")}</p>
      )}
    </Section>
  );
}

function Tickets({ change }: { change: Change }) {
  return (
    <Section id="change-tickets" title={t("changes.detail.tickets")}>
      {change.tickets.length ? (
        <ul className="space-y-1">
          {change.tickets.map((k) => (
            <li key={k.id}>
              <Link to={`/tickets/${k.id}`} className="text-accent-text underline">
                {k.number}: {k.title}
              </Link>
            </li>
          ))}
        </ul>
      ) : (
        <p className="text-fg-muted">{t("changes.detail.noTickets")}</p>
      )}
    </Section>
  );
}

function Review({ change, editable }: { change: Change; editable: boolean }) {
  const save = useSave(change);
  const [outcome, setOutcome] = useState<Outcome>(change.review_outcome ?? "successful");
  const [notes, setNotes] = useState(change.review_notes);
  const review = useMutation({
    mutationFn: () => ok(api.PUT("/v1/changes/{change_id}/review", { params: { path: { change_id: change.id } }, body: { outcome, notes, version: change.version } })),
    onSuccess: save,
  });
  const submit = onSubmit(() => review.mutate());
  return (
    <Section id="change-review" title={t("changes.detail.review")}>
      {change.review_outcome ? <p data-testid="change-review-outcome">{OUTCOME_LABELS[change.review_outcome]}</p> : null}
      {editable ? (
        <form className="space-y-3" onSubmit={submit}>
          <Choice label={t("changes.detail.outcome")} value={outcome} options={entries(OUTCOME_LABELS)} onChange={(next) => setOutcome(next || "successful")} />
          <Field label={t("changes.detail.notes")}>
            {(p) => <Textarea {...p} rows={3} value={notes} onChange={(e) => setNotes(e.target.value)} />}
          </Field>
          {review.isError ? <Alert>{describeError(review.error)}</Alert> : null}
          <Button type="submit" busy={review.isPending}>
            {t("changes.detail.saveReview")}
          </Button>
        </form>
      ) : (
        <p className="whitespace-pre-wrap">{change.review_notes}</p>
      )}
    </Section>
  );
}
