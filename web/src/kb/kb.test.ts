import { describe, expect, test } from "vitest";
import { changeSummary, diffLines, diffStats } from "./diff";
import { snippetSegments, unescapeHtml } from "./highlight";
import { appendToDraft, markdownLink } from "./markdown";
import { ancestry, buildTree, flatten } from "./tree";
import { formatTags, parseTags } from "./tags";
import { knownActions, stateLabel } from "./workflow";

describe("snippetSegments", () => {
  test("splits the marks out of the text", () => {
    expect(snippetSegments("Reset the <mark>VPN</mark> client, then <mark>reconnect</mark>.")).toEqual([
      { text: "Reset the ", mark: false },
      { text: "VPN", mark: true },
      { text: " client, then ", mark: false },
      { text: "reconnect", mark: true },
      { text: ".", mark: false },
    ]);
  });

  test("escaped markup stays text, never an element", () => {
    const segments = snippetSegments("&lt;script&gt;alert(1)&lt;/script&gt; <mark>0x80070005</mark> &amp; more");
    expect(segments).toEqual([
      { text: "<script>alert(1)</script> ", mark: false },
      { text: "0x80070005", mark: true },
      { text: " & more", mark: false },
    ]);
  });

  test("adjacent marks merge, an unclosed mark highlights the rest, empty gives nothing", () => {
    expect(snippetSegments("<mark>a</mark><mark>b</mark>")).toEqual([{ text: "ab", mark: true }]);
    expect(snippetSegments("x <mark>y")).toEqual([
      { text: "x ", mark: false },
      { text: "y", mark: true },
    ]);
    expect(snippetSegments("")).toEqual([]);
  });

  test("unescapeHtml leaves unknown entities as written and does not double-decode", () => {
    expect(unescapeHtml("&amp;lt; &copy; &#39;")).toBe("&lt; &copy; '");
  });
});

describe("markdownLink", () => {
  test("escapes Markdown in the title and brackets the URL", () => {
    expect(markdownLink("Reset [MFA] *now*", "https://desk.example/help/articles/1")).toBe(
      "[Reset \\[MFA\\] \\*now\\*](<https://desk.example/help/articles/1>)",
    );
  });

  test("collapses whitespace and falls back to the URL for an empty title", () => {
    expect(markdownLink("  VPN \n setup ", "https://x/a")).toBe("[VPN setup](<https://x/a>)");
    expect(markdownLink("   ", "https://x/a b")).toBe("[https://x/a b](<https://x/a%20b>)");
  });

  test("appendToDraft puts the link on its own line", () => {
    expect(appendToDraft("", "L")).toBe("L");
    expect(appendToDraft("Hi,", "L")).toBe("Hi,\nL");
    expect(appendToDraft("Hi,\n", "L")).toBe("Hi,\nL");
  });
});

describe("diffLines", () => {
  const diff = "--- v1\n+++ v2\n@@ -1,2 +1,2 @@\n Keep\n-Old line\n+New line\n+Another\n";
  test("classifies each line", () => {
    expect(diffLines(diff).map((l) => l.kind)).toEqual(["header", "header", "hunk", "context", "remove", "add", "add"]);
    expect(diffStats(diffLines(diff))).toEqual({ added: 2, removed: 1 });
    expect(changeSummary(diffStats(diffLines(diff)))).toBe("2 lines added, 1 removed");
    expect(changeSummary({ added: 1, removed: 0 })).toBe("1 line added, 0 removed");
  });
  test("an empty diff has no lines", () => {
    expect(diffLines("")).toEqual([]);
  });
});

describe("category tree", () => {
  const flat = [
    { id: "b", name: "Printers", parent_id: "a", position: 1 },
    { id: "a", name: "Hardware", parent_id: null, position: 2 },
    { id: "c", name: "Laptops", parent_id: "a", position: 0 },
    { id: "d", name: "Accounts", parent_id: null, position: 1 },
    { id: "e", name: "Orphan", parent_id: "gone", position: 3 },
  ];
  test("roots and children ordered by position, orphans become roots", () => {
    const tree = buildTree(flat);
    expect(tree.map((n) => n.category.name)).toEqual(["Accounts", "Hardware", "Orphan"]);
    expect(tree[1]?.children.map((n) => n.category.name)).toEqual(["Laptops", "Printers"]);
    expect(flatten(tree).map((n) => `${n.depth}:${n.category.id}`)).toEqual(["0:d", "0:a", "1:c", "1:b", "0:e"]);
  });
  test("a cycle does not loop forever", () => {
    const cyclic = [
      { id: "x", name: "X", parent_id: "y" },
      { id: "y", name: "Y", parent_id: "x" },
    ];
    expect(flatten(buildTree(cyclic))).toEqual([]);
    expect(ancestry(cyclic, "x").map((c) => c.id)).toEqual(["y", "x"]);
  });
  test("ancestry is the breadcrumb from the root", () => {
    expect(ancestry(flat, "b").map((c) => c.name)).toEqual(["Hardware", "Printers"]);
    expect(ancestry(flat, null)).toEqual([]);
  });
});

describe("workflow", () => {
  test("actions the API allows, in button order, unknown ones left out", () => {
    expect(knownActions(["archive", "publish", "teleport", "reject"])).toEqual(["publish", "reject", "archive"]);
    expect(knownActions([])).toEqual([]);
  });
  test("labels", () => {
    expect(stateLabel("in_review")).toBe("In review");
    expect(stateLabel("something_new")).toBe("something new");
  });
});

describe("tags", () => {
  test("typed tags become the list the API keeps", () => {
    expect(parseTags(" VPN, remote   Access,vpn,, ")).toEqual(["vpn", "remote access"]);
    expect(parseTags("")).toEqual([]);
    expect(formatTags(["vpn", "remote access"])).toBe("vpn, remote access");
  });
});
