"""Every message of the corpus (tests/fixtures/email/) parses to its expectation."""

import json
from pathlib import Path
from typing import Any

import pytest

from servicedesk.mail.message import ParsedMail, Unparseable
from servicedesk.mail.parsing import parse

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "email"
# What the end-to-end test puts in place of the placeholders (README.md there).
FILL = {
    "{{TO}}": "acme@mail.example.test",
    "{{REPLY_ADDRESS}}": "reply+TCK-2026-0042.0123456789abcdef@reply.example.test",
    "{{IN_REPLY_TO}}": "<evt-6a1f0c2e9b@reply.example.test>",
    "{{NUMBER}}": "TCK-2026-0042",
    "{{FROM}}": "dana@customer.example",
}
NAMES = sorted(p.name.removesuffix(".eml") for p in CORPUS.glob("*.eml"))


def fill(value: Any) -> Any:
    if isinstance(value, str):
        for placeholder, real in FILL.items():
            value = value.replace(placeholder, real)
        return value
    if isinstance(value, list):
        return [fill(v) for v in value]
    if isinstance(value, dict):
        return {k: fill(v) for k, v in value.items()}
    return value


def load(name: str) -> tuple[bytes, dict[str, Any]]:
    raw = (CORPUS / f"{name}.eml").read_bytes()
    for placeholder, real in FILL.items():
        raw = raw.replace(placeholder.encode(), real.encode())
    expected = fill(json.loads((CORPUS / f"{name}.expected.json").read_text()))
    return raw, expected


def check_text(actual: str, expected: str | dict[str, list[str]], what: str) -> None:
    if isinstance(expected, str):
        assert actual == expected, what
        return
    for part in expected.get("contains", []):
        assert part in actual, f"{what} lacks {part!r}:\n{actual}"
    for part in expected.get("not_contains", []):
        assert part not in actual, f"{what} has {part!r}:\n{actual}"


def check_attachments(mail: ParsedMail, expected: list[dict[str, Any]]) -> None:
    got = [
        {
            "filename": a.filename,
            "content_type": a.content_type,
            "size": len(a.content),
            "inline": a.inline,
            **({"content_id": a.content_id} if a.content_id else {}),
        }
        for a in mail.attachments
    ]
    want = [{"inline": False, **a} for a in expected]
    for wanted, actual in zip(want, got, strict=False):
        if wanted["size"] == "any":  # a regenerated message part: not byte-exact
            assert actual["size"] > 0
            wanted["size"] = actual["size"]
    assert got == want, "attachments"


def check(mail: ParsedMail, expected: dict[str, Any]) -> None:
    for key in ("from_address", "from_name", "subject", "message_id", "reply_to", "auto"):
        if key in expected:
            assert getattr(mail, key) == expected[key], key
    for key in ("in_reply_to", "references", "to", "cc"):
        if key in expected:
            assert list(getattr(mail, key)) == expected[key], key
    if "reply_text" in expected:
        check_text(mail.reply_text, expected["reply_text"], "reply_text")
    if "text" in expected:
        check_text(mail.text, expected["text"], "text")
    if "html" in expected:
        assert (mail.html is not None) == expected["html"], "html"
    if "attachments" in expected:
        check_attachments(mail, expected["attachments"])
    for part in expected.get("defects_contain", []):
        assert any(part in d for d in mail.defects), f"no defect {part!r} in {mail.defects}"


def test_corpus_is_large_enough_and_complete() -> None:
    assert len(NAMES) >= 45
    for name in NAMES:
        expected = json.loads((CORPUS / f"{name}.expected.json").read_text())
        assert expected["intake"]["outcome"] in {"ticket", "reply", "held", "ignored", "rejected"}
        assert "auto" in expected or "unparseable" in expected, name


@pytest.mark.parametrize("name", NAMES)
def test_fixture_parses_to_its_expectation(name: str) -> None:
    raw, expected = load(name)
    if "unparseable" in expected:
        with pytest.raises(Unparseable) as caught:
            parse(raw)
        assert caught.value.reason == expected["unparseable"]
        return
    check(parse(raw), expected)
