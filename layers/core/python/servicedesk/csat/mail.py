"""The survey e-mail: the question and its one-click links (five on the 1-5 scale, two on
good/bad), each opening the survey page
with its rating chosen (the page's button records it: a GET never does, link scanners open
every link in a mail)."""

from __future__ import annotations

import html

from servicedesk.notifications.templates import Branding, Rendered, one_line

LABELS = {
    1: "Very dissatisfied",
    2: "Dissatisfied",
    3: "Neutral",
    4: "Satisfied",
    5: "Very satisfied",
}
# Good/bad: two buttons, stored as 5 and 1.
GOOD_BAD = {5: "Good", 1: "Bad"}


def choices(scale: str) -> list[tuple[int, str]]:
    """The links a survey mail shows, best first: (stored rating, label)."""
    if scale == "good-bad":
        return list(GOOD_BAD.items())
    return [(n, LABELS[n]) for n in range(5, 0, -1)]


def survey_url(web_origin: str, token: str, rating: int | None = None) -> str:
    url = f"{web_origin}/csat/{token}"
    return url if rating is None else f"{url}?rating={rating}"


def render(
    *,
    branding: Branding,
    recipient_name: str | None,
    number: str,
    title: str,
    question: str,
    token: str,
    scale: str = "1-5",
    web_origin: str,
) -> Rendered:
    subject = one_line(f"[{number}] {question} {title}")
    greeting = f"Hello {recipient_name}," if recipient_name else "Hello,"
    intro = f"Your request {number} ({one_line(title)}) was resolved. {question}"
    links = [(n, label, survey_url(web_origin, token, n)) for n, label in choices(scale)]
    good_bad = scale == "good-bad"
    text = "\n".join(
        [greeting, "", intro, ""]
        + [f"{label}: {url}" if good_bad else f"{n} - {label}: {url}" for n, label, url in links]
        + [
            "",
            "One click opens the survey; you may add a comment before you send it.",
            "",
            "-- ",
            branding.display_name,
            "",
        ]
    )
    e = html.escape
    buttons = "".join(
        f'<a href="{e(url)}" style="display:inline-block;margin:0 6px 6px 0;padding:8px 12px;'
        f'border:1px solid {branding.accent};border-radius:4px;text-decoration:none;color:#111827">'
        + (e(label) if good_bad else f"{n} &middot; {e(label)}")
        + "</a>"
        for n, label, url in links
    )
    body = (
        '<!DOCTYPE html><html><head><meta charset="utf-8"></head>'
        '<body style="font-family:Arial,Helvetica,sans-serif;color:#111827">'
        f'<div style="border-top:4px solid {branding.accent};padding:16px 24px;max-width:640px">'
        f"<p>{e(greeting)}</p><p>{e(intro)}</p><p>{buttons}</p>"
        f'<p style="color:#6b7280;font-size:12px">{e(branding.display_name)}</p>'
        "</div></body></html>"
    )
    return Rendered(subject=subject, title=subject, summary=intro, text=text, html=body)
