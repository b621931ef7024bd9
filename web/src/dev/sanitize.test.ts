// @vitest-environment jsdom
import { describe, expect, test } from "vitest";
import { sanitizeMailHtml } from "./sanitize";

function html(input: string): string {
  const box = document.createElement("div");
  box.appendChild(sanitizeMailHtml(input));
  return box.innerHTML;
}

describe("sanitizeMailHtml", () => {
  test("keeps text, structure and safe links", () => {
    expect(html('<h1>Hi</h1><p>See <a href="https://x.example/t/1">ticket</a></p>')).toBe(
      '<h1>Hi</h1><p>See <a href="https://x.example/t/1" target="_blank" rel="noopener noreferrer">ticket</a></p>',
    );
  });

  test("drops scripts, styles, handlers, images and unsafe links", () => {
    const out = html(
      '<style>p{color:red}</style><p style="color:red" onclick="x()">a<script>alert(1)</script></p>' +
        '<img src="https://tracker.example/p.gif" onerror="x()"><a href="javascript:alert(1)">b</a><iframe src="/"></iframe>',
    );
    expect(out).toBe("<p>a</p><a>b</a>");
  });

  test("unknown elements give their text, not themselves", () => {
    expect(html("<center><font color=red>old</font></center>")).toBe("old");
  });
});
