/** The help centre's address of an article, as a requester opens it. */
export function articlePath(id: string): string {
  return `/help/articles/${id}`;
}

/**
 * A Markdown link to an article for a reply: the title with the characters Markdown would
 * read as syntax escaped, the absolute URL in angle brackets (so spaces or parentheses in
 * it cannot end the link early).
 */
export function markdownLink(title: string, url: string): string {
  const text = title.replace(/\s+/g, " ").trim().replace(/([\\[\]*_`<>!])/g, "\\$1");
  const target = url.replace(/[<>\s]/g, encodeURIComponent);
  return `[${text || url}](<${target}>)`;
}

/** Text inserted into a draft: on its own line, after whatever was already written. */
export function appendToDraft(draft: string, insert: string): string {
  if (!draft.trim()) return insert;
  return draft.endsWith("\n") ? `${draft}${insert}` : `${draft}\n${insert}`;
}
