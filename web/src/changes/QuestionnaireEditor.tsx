import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { api, ok } from "../api/client";
import { ApiError, describeError } from "../api/problem";
import { Alert, Button, Field, Input } from "../components/ui";
import { t } from "../i18n/changes";
import { changeKeys, type Settings } from "./api";
import { Section, StaleNotice, onSubmit } from "./parts";
import {
  MAX_OPTIONS,
  MAX_QUESTIONS,
  MIN_OPTIONS,
  blankOption,
  blankQuestion,
  move,
  toDraft,
  toPayload,
  type OptionDraft,
  type QuestionDraft,
  type QuestionnaireDraft,
} from "./questionnaire";

const same = (a: Settings, b: Settings) => JSON.stringify(toDraft(a)) === JSON.stringify(toDraft(b));

/** The risk questionnaire and the level thresholds, edited as a whole and saved with the
 * version they were read at: a 412 says someone else saved, keeps what was typed and
 * offers the latest. Server field errors show beside their input. */
export function QuestionnaireEditor({ settings }: { settings: Settings }) {
  const client = useQueryClient();
  const [base, setBase] = useState(settings);
  const [draft, setDraft] = useState<QuestionnaireDraft>(() => toDraft(settings));
  // Another form of the page saved (the flows): the questionnaire is as we read it, so
  // our base moves on to its version; a questionnaire someone else changed does not.
  useEffect(() => {
    if (settings.version !== base.version && same(settings, base)) setBase(settings);
  }, [settings, base]);
  const save = useMutation({
    mutationFn: () =>
      ok(
        api.PATCH("/v1/changes/settings", {
          params: { header: { "If-Match": `"${base.version}"` } },
          body: toPayload(draft),
        }),
      ),
    onSuccess: (next) => {
      client.setQueryData(changeKeys.settings, next);
      setBase(next);
      setDraft(toDraft(next));
    },
  });
  const stale = save.error instanceof ApiError && save.error.isConflict;
  const errors = save.error instanceof ApiError ? save.error.fieldErrors : {};
  const shown = new Set<string>();
  const error = (field: string) => {
    if (!(field in errors)) return undefined;
    shown.add(field);
    return errors[field];
  };
  const reload = async () => {
    const fresh = await client.fetchQuery({
      queryKey: changeKeys.settings,
      queryFn: () => ok(api.GET("/v1/changes/settings")),
      staleTime: 0,
    });
    setBase(fresh);
    setDraft(toDraft(fresh));
    save.reset();
  };
  // A change of shape (add, remove, move) makes the server's indexes stale.
  const reshape = (questions: QuestionDraft[]) => {
    save.reset();
    setDraft((d) => ({ ...d, questions }));
  };
  const edit = (qi: number, change: Partial<QuestionDraft>) =>
    setDraft((d) => ({ ...d, questions: d.questions.map((q, i) => (i === qi ? { ...q, ...change } : q)) }));
  const editOption = (qi: number, oi: number, change: Partial<OptionDraft>) =>
    edit(qi, { options: (draft.questions[qi]?.options ?? []).map((o, i) => (i === oi ? { ...o, ...change } : o)) });
  const reshapeOptions = (qi: number, options: OptionDraft[]) =>
    reshape(draft.questions.map((q, i) => (i === qi ? { ...q, options } : q)));

  const questions = draft.questions.map((q, qi) => {
    const n = qi + 1;
    return (
      <li key={q.id} className="space-y-2 rounded-md border border-border p-3">
        <Field label={t("changes.q.text", { n })} error={error(`questions.${qi}.text`) ?? error(`questions.${qi}`)}>
          {(p) => <Input {...p} value={q.text} maxLength={300} required onChange={(e) => edit(qi, { text: e.target.value })} />}
        </Field>
        <ol className="space-y-2" aria-label={t("changes.q.options", { n })}>
          {q.options.map((o, oi) => {
            const m = oi + 1;
            const at = `questions.${qi}.options.${oi}`;
            return (
              <li key={o.id} className="flex flex-wrap items-end gap-2">
                <Field className="grow" label={t("changes.q.optionLabel", { m, n })} error={error(`${at}.label`) ?? error(at)}>
                  {(p) => <Input {...p} value={o.label} maxLength={120} required onChange={(e) => editOption(qi, oi, { label: e.target.value })} />}
                </Field>
                <Field className="w-28" label={t("changes.q.optionScore", { m, n })} error={error(`${at}.weight`)}>
                  {(p) => (
                    <Input {...p} type="number" min={0} max={100} step={1} value={o.weight} required onChange={(e) => editOption(qi, oi, { weight: e.target.value })} />
                  )}
                </Field>
                <Button size="sm" disabled={oi === 0} onClick={() => reshapeOptions(qi, move(q.options, oi, -1))}>
                  {t("changes.q.optionUp", { m, n })}
                </Button>
                <Button size="sm" disabled={oi === q.options.length - 1} onClick={() => reshapeOptions(qi, move(q.options, oi, 1))}>
                  {t("changes.q.optionDown", { m, n })}
                </Button>
                <Button
                  size="sm"
                  variant="danger"
                  disabled={q.options.length <= MIN_OPTIONS}
                  onClick={() => reshapeOptions(qi, q.options.filter((_, i) => i !== oi))}
                >
                  {t("changes.q.optionRemove", { m, n })}
                </Button>
              </li>
            );
          })}
        </ol>
        {error(`questions.${qi}.options`) ? <p className="font-medium text-danger-text">{error(`questions.${qi}.options`)}</p> : null}
        <div className="flex flex-wrap gap-2">
          <Button size="sm" disabled={q.options.length >= MAX_OPTIONS} onClick={() => reshapeOptions(qi, [...q.options, blankOption()])}>
            {t("changes.q.addOption", { n })}
          </Button>
          <Button size="sm" disabled={qi === 0} onClick={() => reshape(move(draft.questions, qi, -1))}>
            {t("changes.q.up", { n })}
          </Button>
          <Button size="sm" disabled={qi === draft.questions.length - 1} onClick={() => reshape(move(draft.questions, qi, 1))}>
            {t("changes.q.down", { n })}
          </Button>
          <Button size="sm" variant="danger" disabled={draft.questions.length <= 1} onClick={() => reshape(draft.questions.filter((_, i) => i !== qi))}>
            {t("changes.q.remove", { n })}
          </Button>
        </div>
      </li>
    );
  });
  const thresholds = (
    <div className="grid gap-3 sm:grid-cols-2">
      <Field label={t("changes.settings.mediumFrom")} error={error("medium_from")}>
        {(p) => <Input {...p} type="number" min={0} max={10000} value={draft.medium_from} required onChange={(e) => setDraft({ ...draft, medium_from: e.target.value })} />}
      </Field>
      <Field label={t("changes.settings.highFrom")} error={error("high_from")}>
        {(p) => <Input {...p} type="number" min={1} max={10000} value={draft.high_from} required onChange={(e) => setDraft({ ...draft, high_from: e.target.value })} />}
      </Field>
    </div>
  );
  const listError = error("questions");
  const rest = Object.keys(errors).some((field) => !shown.has(field));
  return (
    <Section id="settings-questions" title={t("changes.settings.questions")}>
      <p className="text-fg-muted">{t("changes.settings.questionsHint")}</p>
      <form className="grid gap-3" onSubmit={onSubmit(() => save.mutate())}>
        <ol className="space-y-3" data-testid="question-rows">
          {questions}
        </ol>
        {listError ? <p className="font-medium text-danger-text">{listError}</p> : null}
        <div>
          <Button size="sm" disabled={draft.questions.length >= MAX_QUESTIONS} onClick={() => reshape([...draft.questions, blankQuestion()])}>
            {t("changes.q.add")}
          </Button>
        </div>
        {thresholds}
        {stale ? (
          <StaleNotice title={t("changes.q.stale")} reload={reload} />
        ) : save.isError && (rest || !Object.keys(errors).length) ? (
          <Alert>{describeError(save.error)}</Alert>
        ) : null}
        {save.isSuccess ? <Alert tone="success">{t("changes.q.saved")}</Alert> : null}
        <div>
          <Button type="submit" variant="primary" busy={save.isPending}>
            {t("changes.q.save")}
          </Button>
        </div>
      </form>
    </Section>
  );
}
