import type { Settings } from "./api";

/** The risk questionnaire as the settings editor holds it: what was typed (weights as
 * text), each question and option keeping the key it was saved under (empty: new). */
export interface OptionDraft {
  /** The row's identity in the editor (React's key: focus follows a moved row). */
  id: number;
  key: string;
  label: string;
  weight: string;
}

export interface QuestionDraft {
  id: number;
  key: string;
  text: string;
  options: OptionDraft[];
}

export interface QuestionnaireDraft {
  questions: QuestionDraft[];
  medium_from: string;
  high_from: string;
}

export type QuestionSpec = Settings["questions"][number];

/** The server's bounds (changes/schemas.py): at most 30 questions of 2 to 10 options. */
export const MAX_QUESTIONS = 30;
export const MIN_OPTIONS = 2;
export const MAX_OPTIONS = 10;

let rows = 0;
const rowId = () => ++rows;

export function toDraft(settings: Pick<Settings, "questions" | "medium_from" | "high_from">): QuestionnaireDraft {
  return {
    questions: settings.questions.map((q) => ({
      id: rowId(),
      key: q.key,
      text: q.text,
      options: q.options.map((o) => ({ id: rowId(), key: o.key, label: o.label, weight: String(o.weight) })),
    })),
    medium_from: String(settings.medium_from),
    high_from: String(settings.high_from),
  };
}

export function blankOption(): OptionDraft {
  return { id: rowId(), key: "", label: "", weight: "0" };
}

export function blankQuestion(): QuestionDraft {
  return { id: rowId(), key: "", text: "", options: [blankOption(), blankOption()] };
}

/** `items` with the one at `index` moved by `by` places (out of range: unchanged). */
export function move<T>(items: readonly T[], index: number, by: number): T[] {
  const to = index + by;
  if (index < 0 || index >= items.length || to < 0 || to >= items.length) return [...items];
  const out = [...items];
  const [item] = out.splice(index, 1);
  out.splice(to, 0, item as T);
  return out;
}

/** A key the server accepts (`^[a-z0-9_]{1,40}$`) made from `words`, unlike any in `taken`. */
export function keyFor(words: string, fallback: string, taken: ReadonlySet<string>): string {
  const slug =
    words
      .normalize("NFKD")
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "_")
      .replace(/^_+|_+$/g, "")
      .slice(0, 34) || fallback;
  let key = slug;
  for (let n = 2; taken.has(key); n++) key = `${slug}_${n}`;
  return key;
}

/** The draft as the PATCH body's `questions`, `medium_from` and `high_from`: saved keys
 * kept (answers given to them stay valid), new ones made from the words. Weights and
 * thresholds that are not whole numbers go as typed for the server to name the field. */
export function toPayload(draft: QuestionnaireDraft) {
  const questionKeys = new Set(draft.questions.map((q) => q.key).filter(Boolean));
  const questions: QuestionSpec[] = draft.questions.map((q) => {
    const key = q.key || keyFor(q.text, "question", questionKeys);
    questionKeys.add(key);
    const optionKeys = new Set(q.options.map((o) => o.key).filter(Boolean));
    const options = q.options.map((o) => {
      const optionKey = o.key || keyFor(o.label, "option", optionKeys);
      optionKeys.add(optionKey);
      return { key: optionKey, label: o.label.trim(), weight: number(o.weight) };
    });
    return { key, text: q.text.trim(), options };
  });
  return { questions, medium_from: number(draft.medium_from), high_from: number(draft.high_from) };
}

function number(text: string): number {
  const trimmed = text.trim();
  return trimmed === "" ? Number.NaN : Number(trimmed);
}
