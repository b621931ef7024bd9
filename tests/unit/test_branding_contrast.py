"""The contrast rule's copy of the design tokens (servicedesk.branding.contrast.TOKENS) is
web/src/styles/tokens.css's: a token changed in one place fails here."""

from __future__ import annotations

import re
from pathlib import Path

from servicedesk.branding import contrast

CSS = Path(__file__).resolve().parents[2] / "web" / "src" / "styles" / "tokens.css"


def _theme(css: str, selector: str) -> dict[str, str]:
    block = css[css.index(selector) :]
    block = block[: block.index("}")]
    return dict(re.findall(r"(--sd-[a-z-]+):\s*(#[0-9a-fA-F]{6})\s*;", block))


def test_the_tokens_the_rule_checks_against_are_the_web_apps():
    css = CSS.read_text()
    light, dark = _theme(css, '[data-theme="light"]'), _theme(css, '[data-theme="dark"]')
    for name, (light_value, dark_value) in contrast.TOKENS.items():
        assert (light[name], dark[name]) == (light_value, dark_value), name


def test_the_default_accent_meets_the_rule_it_imposes():
    css = CSS.read_text()
    light = _theme(css, '[data-theme="light"]')
    assert contrast.shortfalls("primary_color", light["--sd-accent"]) == []
