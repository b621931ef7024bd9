"""WCAG 2.2 contrast of a tenant's colours against the web app's design tokens.

The token values are those of web/src/styles/tokens.css (light and dark themes);
tests/unit/test_branding_contrast.py fails when the two disagree. Where a colour is used
decides what it must contrast with:

- ``primary_color`` becomes the filled buttons and the active navigation (``--sd-accent``)
  in both themes, under the white ``--sd-accent-fg`` text, and the light theme's link and
  focus colour (``--sd-accent-text``, ``--sd-focus``) on its surfaces and on the active
  navigation's tint (``--sd-accent-subtle``): text, so 4.5:1 (WCAG 1.4.3) against each of
  those. The dark theme keeps its own light link colour.
- ``accent_color`` is the brand bar at the top of the shell and of every e-mail: not text,
  so 3:1 (WCAG 1.4.11) against the surface it sits on, in both themes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

HEX = re.compile(r"^#[0-9a-fA-F]{6}$")
TEXT_RATIO = 4.5
NON_TEXT_RATIO = 3.0

# name in tokens.css -> (light value, dark value)
TOKENS: dict[str, tuple[str, str]] = {
    "--sd-bg": ("#f6f7f9", "#0d1117"),
    "--sd-surface": ("#ffffff", "#161b22"),
    "--sd-accent-fg": ("#ffffff", "#ffffff"),
    "--sd-accent-subtle": ("#e8eefc", "#1c2b4d"),
}


@dataclass(frozen=True)
class Pairing:
    """``colour`` must reach ``ratio`` against the token ``token`` of ``theme``."""

    token: str
    theme: str  # "light" | "dark"
    ratio: float
    role: str  # what the reader sees, for the error message

    @property
    def value(self) -> str:
        light, dark = TOKENS[self.token]
        return light if self.theme == "light" else dark


PAIRINGS: dict[str, tuple[Pairing, ...]] = {
    "primary_color": (
        Pairing("--sd-accent-fg", "light", TEXT_RATIO, "white button text (light theme)"),
        Pairing("--sd-accent-fg", "dark", TEXT_RATIO, "white button text (dark theme)"),
        Pairing("--sd-surface", "light", TEXT_RATIO, "links on the light theme's surface"),
        Pairing("--sd-bg", "light", TEXT_RATIO, "links on the light theme's background"),
        Pairing("--sd-accent-subtle", "light", TEXT_RATIO, "the light theme's active navigation"),
    ),
    "accent_color": (
        Pairing("--sd-surface", "light", NON_TEXT_RATIO, "the light theme's surface"),
        Pairing("--sd-surface", "dark", NON_TEXT_RATIO, "the dark theme's surface"),
    ),
}


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def luminance(colour: str) -> float:
    """Relative luminance of ``#rrggbb`` (WCAG 2.2)."""
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def ratio(a: str, b: str) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def shortfalls(field: str, colour: str) -> list[str]:
    """Why ``colour`` may not be ``field``: one sentence per pairing it misses (none: fine).
    Ratios are truncated to two decimals, never rounded up to a pass."""
    out = []
    for pairing in PAIRINGS[field]:
        found = ratio(colour, pairing.value)
        if found < pairing.ratio:
            shown = int(found * 100) / 100
            out.append(
                f"contrast {shown}:1 against {pairing.role} ({pairing.token} {pairing.value});"
                f" needs {pairing.ratio}:1"
            )
    return out
