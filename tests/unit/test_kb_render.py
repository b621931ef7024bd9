"""Article Markdown becomes HTML a browser may show: no script, no active URL, no raw HTML;
and a version diff stays within its bound."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from servicedesk.kb import versions
from servicedesk.kb.render import to_html
from servicedesk.kb.schemas import normalised_tags


class _Elements(HTMLParser):
    """Every element of an HTML fragment with its attributes, as a browser would see them."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {k: v or "" for k, v in attrs}))


@pytest.mark.parametrize(
    "markdown",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "[click](javascript:alert(1))",
        "[click](JaVaScRiPt:alert(1))",
        "[click](data:text/html;base64,PHNjcmlwdD4=)",
        "![x](javascript:alert(1))",
        '<a href="https://e.example" onclick="alert(1)">x</a>',
        "<iframe src=https://e.example></iframe>",
        "<style>body{display:none}</style>",
        "[x](vbscript:msgbox(1))",
        # markdown-it-py lets data: images through; the sanitiser's URL schemes do not.
        "![x](data:image/png;base64,iVBORw0KGgo=)",
    ],
)
def test_active_content_never_survives(markdown):
    found = _Elements()
    found.feed(to_html(markdown))
    assert not {"script", "iframe", "style"} & {tag for tag, _ in found.elements}
    for _, attrs in found.elements:
        assert not [name for name in attrs if name.startswith("on")], attrs
        for name in ("href", "src"):
            if name in attrs:
                assert attrs[name].split(":", 1)[0].lower() in ("http", "https", "mailto")


def test_markdown_features_render():
    html = to_html(
        "# Title\n\n**bold** *it* ~~gone~~ `code`\n\n- a\n- b\n\n| h |\n|---|\n| c |\n\n"
        '```sh\nls\n```\n\n> quote\n\n[link](https://example.com "t") ![alt](https://e.example/i.png)'
    )
    for expected in (
        "<h1>Title</h1>",
        "<strong>bold</strong>",
        "<em>it</em>",
        "<s>gone</s>",
        "<code>code</code>",
        "<li>a</li>",
        "<th>h</th>",
        '<code class="language-sh">ls\n</code>',
        "<blockquote>",
        '<a href="https://example.com" title="t" rel="noopener noreferrer nofollow">link</a>',
        '<img src="https://e.example/i.png" alt="alt">',
    ):
        assert expected in html, (expected, html)


def test_raw_html_is_shown_as_text():
    assert to_html("<b>hi</b>") == "<p>&lt;b&gt;hi&lt;/b&gt;</p>\n"


def test_tags_are_lower_cased_collapsed_and_unique():
    assert normalised_tags(["VPN", "Remote   Access", "vpn", "remote access"]) == [
        "vpn",
        "remote access",
    ]


def test_a_diff_is_cut_at_its_bound():
    lines = iter(["x" * 1000 + "\n"] * 1000)
    text, cut = versions._bounded(lines)
    assert cut is True and len(text) <= versions.MAX_DIFF_CHARS
    text, cut = versions._bounded(iter(["a\n", "b"]))
    assert (text, cut) == ("a\nb\n", False)
