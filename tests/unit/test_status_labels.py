"""The web app and the e-mails name statuses (and derive priorities) the same way."""

from __future__ import annotations

import re
from pathlib import Path

from servicedesk.tickets import states
from servicedesk.tickets.settings import DEFAULT_MATRIX

WEB = Path(__file__).resolve().parents[2] / "web" / "src" / "lib"


def _block(source: str, start: str) -> str:
    found = re.search(re.escape(start) + r"(.*?)\n};", source, re.S)
    assert found is not None, start
    return found.group(1)


def test_the_web_app_names_every_status_as_the_emails_do() -> None:
    source = (WEB / "format.ts").read_text()
    staff = dict(re.findall(r"(\w+): \"([^\"]+)\"", _block(source, "STATUS_LABELS:")))
    assert staff == {s.value: label for s, label in states.LABELS.items()}
    requester = re.search(
        r"REQUESTER_LABELS[^=]*= \{ \.\.\.STATUS_LABELS, pending: \"([^\"]+)\"", source
    )
    assert requester is not None
    assert requester.group(1) == states.REQUESTER_LABELS[states.Status.PENDING]
    assert states.label("pending", staff=False) == "Waiting on you"
    assert states.label("in_progress", staff=False) == "In progress"


def test_the_web_apps_default_priority_matrix_is_the_servers() -> None:
    block = _block((WEB / "priority.ts").read_text(), "DEFAULT_MATRIX")
    rows = {
        impact: dict(re.findall(r"(\w+): \"(\w+)\"", row))
        for impact, row in re.findall(r"(\w+): \{([^}]*)\}", block)
    }
    assert rows == DEFAULT_MATRIX
