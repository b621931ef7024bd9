import { afterEach, describe, expect, test } from "vitest";
import { linkLabel } from "../agent/collab";
import { describeDrilldown } from "../agent/drilldown";
import { describe as describeEvent } from "../agent/Timeline";
import { ratingText } from "../csat/scale";
import { presenceText } from "../live/presence";
import { en } from "./en";
import { changeSummary } from "../kb/diff";
import { plural, setCatalogue } from "./index";

/** Words read from tables and helpers follow a catalogue swapped in after they were
 * imported (the tables hold keys, not words resolved at import). */
describe("a swapped-in catalogue", () => {
  afterEach(() => setCatalogue(en));

  test("reaches link labels, drilldown filters, ratings and presence", () => {
    setCatalogue({
      ...en,
      "agent.link.relatesTo": "Verwandt mit",
      "agent.drilldown.assignee": "Bearbeiter",
      "agent.drilldown.unassigned": "Niemand",
      "csat.rating.4": "Zufrieden",
      "live.presence.viewing": "{name} sieht sich dieses Ticket auch an",
    });
    expect(linkLabel({ id: "L", kind: "relates_to", source_id: "S", target_id: "T", created_at: "" } as Parameters<typeof linkLabel>[0], "S")).toBe("Verwandt mit");
    expect(describeDrilldown({ query: { assignee: "none" }, ignored: [] })).toEqual(["Bearbeiter: Niemand"]);
    expect(ratingText("1-5", 4)).toBe("4/5 – Zufrieden");
    expect(presenceText([{ userId: "u", name: "Sam", state: "viewing", until: 0 }])).toBe("Sam sieht sich dieses Ticket auch an");
  });

  test("English again afterwards", () => {
    expect(ratingText("1-5", 4)).toBe("4/5 – Satisfied");
  });

  test("timeline events: a known type from the catalogue, an unknown one by its name", () => {
    expect(describeEvent("ticket.comment_added", {})).toBe("comment added");
    expect(describeEvent("some_new.thing", {})).toBe("some new thing");
    expect(describeEvent("constructor", {})).toBe("constructor");
    setCatalogue({ ...en, "agent.timeline.event.comment_added": "Kommentar hinzugefügt" });
    expect(describeEvent("comment_added", {})).toBe("Kommentar hinzugefügt");
  });
});

describe("counts", () => {
  afterEach(() => setCatalogue(en));

  test("one and other by the catalogue language's plural rules", () => {
    expect(changeSummary({ added: 1, removed: 2 })).toBe("1 line added, 2 removed");
    expect(changeSummary({ added: 3, removed: 0 })).toBe("3 lines added, 0 removed");
    setCatalogue({ "kb.diff.changes.one": "{n} Zeile hinzugefügt", "kb.diff.changes.other": "{n} Zeilen hinzugefügt" }, "de");
    expect(changeSummary({ added: 1, removed: 0 })).toBe("1 Zeile hinzugefügt");
    expect(plural(0, { one: "kb.diff.changes.one", other: "kb.diff.changes.other" }, { removed: 0 })).toBe("0 Zeilen hinzugefügt");
  });
});
