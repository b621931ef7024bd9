import { describe, expect, test } from "vitest";
import { blankQuestion, keyFor, move, toDraft, toPayload } from "./questionnaire";

const saved = {
  questions: [{ key: "reach", text: "Who is affected?", options: [{ key: "one", label: "One person", weight: 0 }, { key: "all", label: "Everyone", weight: 3 }] }],
  medium_from: 4,
  high_from: 8,
};

describe("risk questionnaire draft", () => {
  test("round-trips a saved questionnaire, keys kept", () => {
    expect(toPayload(toDraft(saved))).toEqual(saved);
  });

  test("new questions and options get keys from their words, unlike the others", () => {
    const draft = toDraft(saved);
    const q = blankQuestion();
    q.text = "Who is affected?";
    q.options = [
      { id: 1, key: "", label: "Nobody, really!", weight: "1" },
      { id: 2, key: "", label: "Nobody, really!", weight: " 2 " },
    ];
    draft.questions.push(q);
    const out = toPayload(draft).questions[1];
    expect(out?.key).toBe("who_is_affected");
    expect(out?.options.map((o) => [o.key, o.weight])).toEqual([
      ["nobody_really", 1],
      ["nobody_really_2", 2],
    ]);
    expect(keyFor("Who", "question", new Set(["who", "who_2"]))).toBe("who_3");
    expect(keyFor("¿¿", "question", new Set())).toBe("question");
    expect(keyFor("x".repeat(80), "q", new Set()).length).toBeLessThanOrEqual(40);
  });

  test("empty or non-numeric scores go as NaN for the server to name the field", () => {
    const draft = toDraft(saved);
    draft.medium_from = "";
    expect(Number.isNaN(toPayload(draft).medium_from)).toBe(true);
  });

  test("move reorders within bounds only", () => {
    expect(move(["a", "b", "c"], 0, 1)).toEqual(["b", "a", "c"]);
    expect(move(["a", "b", "c"], 2, -2)).toEqual(["c", "a", "b"]);
    expect(move(["a", "b"], 0, -1)).toEqual(["a", "b"]);
    expect(move(["a", "b"], 1, 1)).toEqual(["a", "b"]);
  });
});
