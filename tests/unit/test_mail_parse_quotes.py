"""Reply and signature stripping on text alone (servicedesk/mail/quotes.py)."""

import pytest

from servicedesk.mail.quotes import strip_reply


@pytest.mark.parametrize(
    ("text", "own"),
    [
        ("Done.\n\n-----Original Message-----\nFrom: a\nSent: b\n\nold", "Done."),
        ("Erledigt.\n\n-----Ursprüngliche Nachricht-----\nVon: a\n\nalt", "Erledigt."),
        ("Fixed\n\nFrom: Desk <d@x.example>\nSent: Friday\nTo: me\nSubject: Re: x\n\nold", "Fixed"),
        ("Ok\n\nDe : Desk\nEnvoyé : vendredi\nÀ : moi\nObjet : x\n\nancien", "Ok"),
        ("Yes\n\nOn Fri, 4 Dec 2026 at 10:00, Desk <d@x.example> wrote:\n> old", "Yes"),
        ("Yes\n\nOn Fri, 4 Dec 2026 at 10:00, Desk <\nd@x.example> wrote:\n> old", "Yes"),
        ("Ja\n\nAm 04.12.2026 um 10:00 schrieb Desk:\n> alt", "Ja"),
        ("Oui\n\nLe 4 déc. 2026 à 10:00, Desk <d@x.example> a écrit :\n> ancien", "Oui"),
        ("Sí\n\nEl vie, 4 dic 2026, Desk escribió:\n> viejo", "Sí"),
        ("Ja\n\nOp 4 dec. 2026 om 10:00 schreef Desk <d@x.example>:\n> oud", "Ja"),
        ("Sim\n\nEm 4 de dez. de 2026, Desk escreveu:\n> antigo", "Sim"),
        ("Sì\n\nIl giorno 4 dic 2026, Desk ha scritto:\n> vecchio", "Sì"),
        ("Thanks\n\nSent from my iPhone\n\n> old", "Thanks"),
        ("Thanks\n\nGet Outlook for Android", "Thanks"),
        ("Thanks\n\nVon meinem iPhone gesendet", "Thanks"),
        ("Thanks\n\nSent from my Samsung Galaxy smartphone.", "Thanks"),
        ("Thanks\n\nSent from Yahoo Mail for iPhone", "Thanks"),
        ("Thanks\n-- \nJane Doe\nACME", "Thanks"),
        ("Note first\n\n---------- Forwarded message ---------\nFrom: x", "Note first"),
        ("Look\n\nBegin forwarded message:\n\nFrom: x", "Look"),
        ("> quoted only on top\nmy answer below", "my answer below"),
    ],
)
def test_history_and_signatures_are_cut(text: str, own: str) -> None:
    assert strip_reply(text) == own


def test_own_words_mentioning_wrote_are_kept() -> None:
    text = "As my manager wrote:\nthe budget is approved, please order the laptop."
    assert strip_reply(text) == text


def test_stripping_everything_keeps_the_whole_text() -> None:
    text = "> only a quote\n> nothing else"
    assert strip_reply(text) == text


def test_a_bottom_posted_answer_is_found_below_the_quote() -> None:
    text = (
        "On 04/12/2026 15:01, Acme IT Desk wrote:\n> Did the restart help?\n>\n> --\n> Acme\n\n"
        "Yes, it works now.\n\nErik\n-- \nErik Lund"
    )
    assert strip_reply(text) == "Yes, it works now.\n\nErik"


def test_a_bottom_posted_answer_under_a_wrapped_attribution() -> None:
    text = "On Fri, 4 Dec 2026 at 10:00, Desk <\nd@x.example> wrote:\n> old\n\nNew answer."
    assert strip_reply(text) == "New answer."


def test_outlooks_border_block_is_found_whatever_the_case_and_spacing() -> None:
    from servicedesk.mail.html import reply_text

    markup = (
        '<div>mine</div><div style="border:none; border-top:solid #e1e1e1 1.0pt">'
        "<p><b>Von:</b> Desk</p></div><p>old</p>"
    )
    assert reply_text(markup) == "mine"
