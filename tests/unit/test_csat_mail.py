"""The survey e-mail per scale: five links on 1-5, two (Good = 5, Bad = 1) on good/bad; the
wording follows the scale, and what a tenant wrote is escaped in the HTML."""

from __future__ import annotations

import re

from servicedesk.csat import mail
from servicedesk.notifications.templates import Branding

BRAND = Branding(tenant_name="Acme", display_name="Acme <IT>")


def _render(scale: str) -> mail.Rendered:
    return mail.render(
        branding=BRAND,
        recipient_name="Ada",
        number="SD-2026-000001",
        title="Printer <on fire>",
        question="Were we any good?",
        token="TOKEN",
        web_origin="https://desk.example",
        scale=scale,
    )


def _ratings(text: str) -> list[str]:
    return re.findall(r"/csat/TOKEN\?rating=([1-5])", text)


def test_one_to_five_has_five_links_best_first():
    rendered = _render("1-5")
    assert _ratings(rendered.text) == ["5", "4", "3", "2", "1"]
    assert "5 - Very satisfied: https://desk.example/csat/TOKEN?rating=5" in rendered.text
    assert "3 &middot; Neutral</a>" in rendered.html


def test_good_bad_has_two_links_stored_as_five_and_one():
    rendered = _render("good-bad")
    assert _ratings(rendered.text) == ["5", "1"]
    assert "Good: https://desk.example/csat/TOKEN?rating=5" in rendered.text
    assert "Bad: https://desk.example/csat/TOKEN?rating=1" in rendered.text
    assert ">Good</a>" in rendered.html and ">Bad</a>" in rendered.html
    assert "Neutral" not in rendered.text and "&middot;" not in rendered.html
    assert mail.choices("good-bad") == [(5, "Good"), (1, "Bad")]


def test_what_the_tenant_and_requester_wrote_is_escaped():
    rendered = _render("good-bad")
    assert "Printer &lt;on fire&gt;" in rendered.html and "<on fire>" not in rendered.html
    assert "Acme &lt;IT&gt;" in rendered.html
