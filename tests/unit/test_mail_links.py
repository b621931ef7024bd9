"""The magic-link codec: what it signs is what it reads back, and nothing else passes."""

from __future__ import annotations

import base64
import uuid

from servicedesk.platform import mail_links

KEY = b"k" * 32


def _link(expires_at: int = 2_000_000_000, generation: int = 3) -> mail_links.MagicLink:
    return mail_links.MagicLink(uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), expires_at, generation)


def test_a_token_reads_back_what_it_signs_and_fits_a_url():
    link = _link()
    token = mail_links.make_token(KEY, link)
    assert len(token) <= 110 and token.replace("-", "").replace("_", "").isalnum()
    assert mail_links.read_token(KEY, token, now=1_000) == link


def test_expiry_is_checked_against_the_given_clock():
    token = mail_links.make_token(KEY, _link(expires_at=5_000))
    assert mail_links.read_token(KEY, token, now=4_999) is not None
    assert mail_links.read_token(KEY, token, now=5_000) is None


def test_a_changed_byte_another_key_or_junk_is_refused():
    token = mail_links.make_token(KEY, _link())
    raw = bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    for position in (0, 20, 50, len(raw) - 1):  # tenant, user, expiry/generation, signature
        changed = bytearray(raw)
        changed[position] ^= 1
        forged = base64.urlsafe_b64encode(bytes(changed)).decode().rstrip("=")
        assert mail_links.read_token(KEY, forged, now=0) is None, position
    assert mail_links.read_token(b"x" * 32, token, now=0) is None
    for junk in ("", "!!!", "A" * 96, token + "AAAA", "x" * 500):
        assert mail_links.read_token(KEY, junk, now=0) is None
