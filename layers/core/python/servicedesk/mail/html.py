"""HTML mail bodies as safe plain text (inscriptis over an lxml tree), and the quoted
history that mail clients mark in their HTML (Gmail, Outlook, Apple Mail, Thunderbird).

Nothing here renders HTML: the text is what inscriptis lays out (tables, lists, line
breaks), with script/style/head dropped, entities decoded and links kept as
"text (url)". A deeper or larger tree than ``MAX_ELEMENTS``/``MAX_DEPTH`` is flattened
to its text instead (inscriptis walks the tree recursively).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from inscriptis import Inscriptis
from inscriptis.css_profiles import CSS_PROFILES
from inscriptis.model.config import ParserConfig
from lxml import etree
from lxml import html as lxml_html

MAX_ELEMENTS = 50_000
MAX_DEPTH = 200
_DROP = ("script", "style", "head", "title", "noscript", "template", "object", "iframe")
# "strict" lays blocks out flush left ("relaxed", the default, indents nested divs).
_CONFIG = ParserConfig(css=CSS_PROFILES["strict"], display_images=False, display_links=False)
_BLANK_LINES = re.compile(r"\n[ \t]*(?:\n[ \t]*){2,}")
# Characters XML (so lxml) refuses, and no text needs.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
_LINK_SCHEMES = ("http://", "https://", "mailto:", "tel:")

# A div's style without spaces, in upper case (XPath 1.0 has no lower-case()).
_STYLE = "translate(@style, 'abcdefghijklmnopqrstuvwxyz ', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ')"
# Where each client puts the quoted message (the node and everything after it is history).
QUOTE_XPATHS = (
    # Gmail web/iOS/Android: <div class="gmail_quote"> (gmail_quote_container in newer ones)
    "//*[contains(concat(' ', normalize-space(@class), ' '), ' gmail_quote ')]",
    "//*[contains(concat(' ', normalize-space(@class), ' '), ' gmail_quote_container ')]",
    # Outlook web / new Outlook / Outlook mobile: the reply header block and what follows
    "//*[@id='divRplyFwdMsg']",
    "//*[@id='appendonsend']",
    "//*[@id='mail-editor-reference-message-container']",
    # Thunderbird: the "On ... wrote:" line, then <blockquote type="cite">
    "//*[contains(concat(' ', normalize-space(@class), ' '), ' moz-cite-prefix ')]",
    "//*[contains(concat(' ', normalize-space(@class), ' '), ' moz-forward-container ')]",
    # Apple Mail (macOS/iOS) and Thunderbird: the cited message itself
    "//blockquote[@type='cite']",
    # Yahoo Mail
    "//*[contains(concat(' ', normalize-space(@class), ' '), ' yahoo_quoted ')]",
    # Outlook desktop (Word HTML): the separator div with a top border before "From:"
    f"//div[contains({_STYLE}, 'BORDER-TOP:SOLID#E1E1E1')]",
    f"//div[contains({_STYLE}, 'BORDER-TOP:SOLID#B5C4DF')]",
)
_SIGNATURE_XPATHS = (
    "//*[contains(concat(' ', normalize-space(@class), ' '), ' gmail_signature_prefix ')]",
    "//*[contains(concat(' ', normalize-space(@class), ' '), ' gmail_signature ')]",
    "//*[@id='Signature']",
    "//*[contains(concat(' ', normalize-space(@class), ' '), ' moz-signature ')]",
    "//*[@id='ms-outlook-mobile-signature']",
)


def parse_tree(markup: str) -> lxml_html.HtmlElement | None:
    """The lxml tree of ``markup`` or None when it holds nothing."""
    markup = _CONTROL.sub("", markup).strip()
    if markup.startswith("<?xml"):
        markup = markup.split("?>", 1)[-1]
    if not markup:
        return None
    try:
        return lxml_html.document_fromstring(markup)
    except (etree.ParserError, ValueError):
        try:
            return lxml_html.document_fromstring(f"<pre>{markup}</pre>")
        except (etree.ParserError, ValueError):
            return None


def _too_big(tree: lxml_html.HtmlElement) -> bool:
    for count, _element in enumerate(tree.iter()):
        if count >= MAX_ELEMENTS:
            return True
    # lxml has no depth attribute: an explicit stack (no recursion) finds the deepest.
    stack = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            return True
        stack.extend((child, depth + 1) for child in node)
    return False


def _prepare(tree: lxml_html.HtmlElement) -> None:
    for element in list(tree.iter(*_DROP)):
        if element.getparent() is not None:  # not inside one dropped already
            element.drop_tree()
    # Word's paragraphs have no margin (its stylesheet says so; blank lines are explicit
    # "<p>&nbsp;</p>"): laid out as <p>, every line would be followed by a blank one.
    for paragraph in list(tree.iter("p")):
        if "MsoNormal" not in (paragraph.get("class") or ""):
            continue
        if paragraph.text_content().strip(" \xa0\r\n\t") or len(paragraph.xpath(".//img")):
            paragraph.tag = "div"
        else:  # an empty paragraph is Word's blank line
            tail = paragraph.tail
            paragraph.clear()
            paragraph.tag, paragraph.tail = "br", tail
    for link in list(tree.iter("a")):
        href = (link.get("href") or "").strip()
        label = link.text_content().strip()
        if not href.lower().startswith(_LINK_SCHEMES):
            continue
        shown = href[7:] if href.lower().startswith("mailto:") else href
        if shown in (label, label.rstrip("/")) or href in (label, label.rstrip("/")):
            continue
        link.tail = f" ({shown}){link.tail or ''}"


def _layout(tree: lxml_html.HtmlElement) -> str:
    if _too_big(tree):
        text = "\n".join(t.strip() for t in tree.itertext() if t.strip())
    else:
        try:
            text = Inscriptis(tree, _CONFIG).get_text()
        # A tree deeper than the interpreter's stack, or hostile markup the layout engine
        # trips on (its errors are its own bugs, not the sender's): the flat text instead.
        except (RecursionError, ValueError, IndexError, KeyError, TypeError, AttributeError):
            text = "\n".join(t.strip() for t in tree.itertext() if t.strip())
    lines = [line.rstrip() for line in text.replace("\xa0", " ").splitlines()]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip("\n")


class _TextOnly(HTMLParser):
    """The character data of a document outside script/style (the standard library's
    tokenizer: linear, no tree, no depth)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _DROP:
            self._hidden += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROP and self._hidden:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden and data.strip():
            self.parts.append(data.strip())


def _flat_text(markup: str) -> str:
    reader = _TextOnly()
    reader.feed(markup)
    reader.close()
    return "\n".join(reader.parts)


def to_text(markup: str) -> str:
    """The text of an HTML body, safe to show as plain text. When libxml2 gives up on a
    document (it stops at 256 levels of nesting), the flat text of the tokens is used."""
    tree = parse_tree(markup)
    text = ""
    if tree is not None:
        _prepare(tree)
        text = _layout(tree)
    if not text.strip() and markup.strip():
        text = _flat_text(markup)
    return text


def reply_text(markup: str) -> str | None:
    """The text of an HTML body without the quoted history and signature its client
    marked; None when the HTML marks no quote (the text heuristics then decide)."""
    tree = parse_tree(markup)
    if tree is None:
        return None
    found = False
    for xpath in QUOTE_XPATHS:
        for element in tree.xpath(xpath):
            if element.getparent() is None:
                continue
            _drop_from(element)
            found = True
    if not found:
        return None
    for xpath in _SIGNATURE_XPATHS:
        for element in tree.xpath(xpath):
            if element.getparent() is not None:
                element.drop_tree()
    _prepare(tree)
    return _layout(tree)


def _drop_from(element: lxml_html.HtmlElement) -> None:
    """Remove ``element`` and everything after it in document order (the quoted history
    always comes last; Outlook's quote block is followed by the original's siblings)."""
    node = element
    while node.tag != "body" and (parent := node.getparent()) is not None:
        for sibling in list(node.itersiblings()):
            parent.remove(sibling)
        node.tail = None
        node = parent
    if element.getparent() is not None:
        element.drop_tree()
