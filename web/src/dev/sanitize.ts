/**
 * A caught e-mail's HTML part, made safe to show inside the app: parsed into an inert
 * document (DOMParser runs no script and loads nothing), then rebuilt element by element
 * from an allow-list. Scripts, styles, style attributes, event handlers, forms, frames and
 * images (which would load from elsewhere) are dropped; links keep only http(s) and mailto
 * targets and open in a new tab. The result contains no inline style or script, so the
 * app's Content-Security-Policy has nothing to refuse.
 */
const ALLOWED = new Set([
  "a", "abbr", "b", "blockquote", "br", "caption", "code", "div", "em", "h1", "h2", "h3", "h4",
  "h5", "h6", "hr", "i", "li", "ol", "p", "pre", "s", "small", "span", "strong", "sub", "sup",
  "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
]);
/** Dropped with everything inside them (their text is not content). */
const DROPPED = new Set(["script", "style", "head", "title", "template", "noscript", "iframe", "object", "embed", "svg", "math", "form"]);
const SAFE_HREF = /^(https?:|mailto:)/i;

export function sanitizeMailHtml(html: string, into: Document = document): DocumentFragment {
  const source = new DOMParser().parseFromString(html, "text/html");
  const out = into.createDocumentFragment();
  const copy = (node: Node, parent: Node) => {
    if (node.nodeType === Node.TEXT_NODE) {
      parent.appendChild(into.createTextNode(node.textContent ?? ""));
      return;
    }
    if (node.nodeType !== Node.ELEMENT_NODE) return;
    const element = node as Element;
    const tag = element.tagName.toLowerCase();
    if (DROPPED.has(tag)) return;
    let target: Node = parent;
    if (ALLOWED.has(tag)) {
      const clean = into.createElement(tag);
      if (tag === "a") {
        const href = element.getAttribute("href")?.trim() ?? "";
        if (SAFE_HREF.test(href)) {
          clean.setAttribute("href", href);
          clean.setAttribute("target", "_blank");
          clean.setAttribute("rel", "noopener noreferrer");
        }
      }
      for (const name of ["colspan", "rowspan"]) {
        const value = element.getAttribute(name);
        if (value && /^\d{1,3}$/.test(value)) clean.setAttribute(name, value);
      }
      parent.appendChild(clean);
      target = clean;
    }
    for (const child of Array.from(element.childNodes)) copy(child, target);
  };
  for (const child of Array.from(source.body.childNodes)) copy(child, out);
  return out;
}
