"""The survey link's token: what it names survives the round trip; any change, another
key, or another kind of signed link does not pass."""

from __future__ import annotations

import base64
import uuid

from servicedesk.csat import links
from servicedesk.platform import mail_links

KEY = b"k" * 32


def _link() -> links.SurveyLink:
    return links.SurveyLink(uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), 1_900_000_000)


def test_round_trip_and_hash():
    link = _link()
    token = links.make_token(KEY, link)
    assert len(token) <= links.MAX_TOKEN_LENGTH and "=" not in token
    assert links.read_token(KEY, token) == link
    assert links.make_token(KEY, link) == token  # made again from the row: the same
    assert len(links.token_hash(token)) == 32 and links.token_hash(token) != token.encode()


def test_tampered_foreign_or_malformed_tokens_read_as_none():
    token = links.make_token(KEY, _link())
    raw = bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    for index in (0, 20, 40, 50, len(raw) - 1):  # tenant, requester, survey, expiry, signature
        changed = bytearray(raw)
        changed[index] ^= 1
        bad = base64.urlsafe_b64encode(bytes(changed)).decode().rstrip("=")
        assert links.read_token(KEY, bad) is None, index
    assert links.read_token(b"other-key", token) is None
    magic = mail_links.make_token(
        KEY, mail_links.MagicLink(uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), 1_900_000_000, 1)
    )
    assert links.read_token(KEY, magic) is None
    for bad in ("", "x", "!!!!", "A" * 300, token[:-2]):
        assert links.read_token(KEY, bad) is None
