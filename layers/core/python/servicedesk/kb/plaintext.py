"""Article Markdown to plain text, for what is shown as text: search snippets and
suggestions (``ts_headline`` runs over this, so a snippet never shows ``**``, link
targets or code fences). Parsed as the article page renders it (CommonMark, raw HTML
off): HTML written in an article is text there, and stays text here (escaped later)."""

from __future__ import annotations

import re
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

# Block ends that separate words in the text.
_BREAKS = {"paragraph_close", "heading_close", "list_item_close", "blockquote_close", "tr_close"}
_CELLS = {"th_close", "td_close"}
_SPACES = re.compile(r"[ \t\r\f\v]+")
_LINES = re.compile(r"\s*\n\s*")


@cache
def _parser() -> MarkdownIt:
    from markdown_it import MarkdownIt  # loaded when a snippet is first made, not at import

    return MarkdownIt("js-default").enable(["table", "strikethrough"])


def _walk(tokens: list[Any], out: list[str]) -> None:
    for token in tokens:
        kind = token.type
        if kind == "inline":
            _walk(token.children or [], out)
        elif kind in ("text", "code_inline", "html_inline"):
            out.append(token.content)
        elif kind == "image":
            out.append(token.content)  # the alt text
        elif kind in ("softbreak", "hardbreak") or kind in _CELLS:
            out.append(" ")
        elif kind in ("code_block", "fence", "html_block"):
            out.append("\n" + token.content + "\n")
        elif kind in _BREAKS or kind == "hr":
            out.append("\n")


def markdown_to_text(markdown: str) -> str:
    """The words of ``markdown`` as a reader sees them: emphasis, headings' #, link and
    image targets dropped (link text and alt text kept), code kept as its text, one
    line per block."""
    out: list[str] = []
    _walk(_parser().parse(markdown), out)
    text = _SPACES.sub(" ", "".join(out))
    return _LINES.sub("\n", text).strip()
