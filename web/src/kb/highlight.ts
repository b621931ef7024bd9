/**
 * A search hit's snippet, as the API sends it: ts_headline's text, HTML-escaped, with the
 * matches wrapped in <mark>…</mark> (kb/search.py). Split into plain-text segments so React
 * renders it as text; nothing from the server is ever parsed as HTML.
 */
export interface Segment {
  text: string;
  mark: boolean;
}

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", "#39": "'", "#x27": "'" };

/** The entities html.escape writes, back to characters; anything else stays as written. */
export function unescapeHtml(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|apos|#39|#x27);/g, (_, name: string) => ENTITIES[name] ?? "");
}

export function snippetSegments(snippet: string): Segment[] {
  const out: Segment[] = [];
  const push = (raw: string, mark: boolean) => {
    const text = unescapeHtml(raw);
    if (!text) return;
    const last = out[out.length - 1];
    if (last && last.mark === mark) last.text += text;
    else out.push({ text, mark });
  };
  let rest = snippet;
  while (rest) {
    const open = rest.indexOf("<mark>");
    if (open < 0) {
      push(rest, false);
      break;
    }
    push(rest.slice(0, open), false);
    const close = rest.indexOf("</mark>", open + 6);
    if (close < 0) {
      // An unclosed mark: the rest is highlighted text.
      push(rest.slice(open + 6), true);
      break;
    }
    push(rest.slice(open + 6, close), true);
    rest = rest.slice(close + 7);
  }
  return out;
}
