"""The web app and the e-mails name statuses (and derive priorities) the same way."""

from __future__ import annotations

import re
from pathlib import Path

from servicedesk.tickets import states
from servicedesk.tickets.settings import DEFAULT_MATRIX

WEB = Path(__file__).resolve().parents[2] / "web" / "src" / "lib"
I18N = WEB.parent / "i18n"


def _block(source: str, start: str) -> str:
    found = re.search(re.escape(start) + r"(.*?)\n}\)?;", source, re.S)
    assert found is not None, start
    return found.group(1)


def test_the_web_app_names_every_status_as_the_emails_do() -> None:
    """lib/format.ts's tables hold catalogue keys; the words are in i18n/en.ts."""
    source = (WEB / "format.ts").read_text()
    words = dict(re.findall(r'"(format\.status\.\w+)": "([^"]+)"', (I18N / "en.ts").read_text()))

    def table(name: str) -> dict[str, str]:
        block = _block(source, f"const {name} = labelled<TicketStatus>({{")
        return {value: words[key] for value, key in re.findall(r'(\w+): "([\w.]+)"', block)}

    assert table("STATUS_LABELS") == {s.value: label for s, label in states.LABELS.items()}
    requester = table("REQUESTER_LABELS")
    assert requester["pending"] == states.REQUESTER_LABELS[states.Status.PENDING]
    assert {k: v for k, v in requester.items() if k != "pending"} == {
        s.value: label for s, label in states.LABELS.items() if s.value != "pending"
    }
    assert states.label("pending", staff=False) == "Waiting on you"
    assert states.label("in_progress", staff=False) == "In progress"


def test_the_web_apps_default_priority_matrix_is_the_servers() -> None:
    block = _block((WEB / "priority.ts").read_text(), "DEFAULT_MATRIX")
    rows = {
        impact: dict(re.findall(r"(\w+): \"(\w+)\"", row))
        for impact, row in re.findall(r"(\w+): \{([^}]*)\}", block)
    }
    assert rows == DEFAULT_MATRIX
