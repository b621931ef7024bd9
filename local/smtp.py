"""The local door for mail (issue 17 item 2): an SMTP server on 127.0.0.1 (aiosmtpd, a dev
dependency) that puts what it accepts where SES receiving would, through
``servicedesk.mail.inbox.deposit(door="smtp")``: the raw message in the mail bucket, a
notification in SES's shape on the intake queue. ``swaks``/``smtplib`` to it create
tickets exactly as mail through SES does.

It refuses what SES would not take for us: a recipient on a domain that is not ours (550;
ours are the inbound domain and the reply domain), a message over
``email_max_message_bytes`` (552, announced as the SIZE extension). Port:
``SERVICEDESK_LOCAL_SMTP_PORT`` (2525).
"""

from __future__ import annotations

import os
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from servicedesk.mail import inbox
from servicedesk.notifications import templates
from servicedesk.platform.config import Settings, get_settings

DEFAULT_PORT = 2525


def port_from_env() -> int:
    return int(os.environ.get("SERVICEDESK_LOCAL_SMTP_PORT", DEFAULT_PORT))


class Door:
    """aiosmtpd's handler: check recipients as they come, deposit the message at DATA."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.domains = {
            settings.email_inbound_domain.lower(),
            templates.reply_domain(settings).lower(),
        }

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        domain = address.rpartition("@")[2].lower()
        if domain not in self.domains:
            return "550 5.1.1 not a domain this server receives for"
        if len(envelope.rcpt_tos) >= inbox.MAX_RECIPIENTS:
            return "452 4.5.3 too many recipients"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        raw = envelope.original_content or b""
        if len(raw) > self.settings.email_max_message_bytes:
            return "552 5.3.4 message too big"
        try:
            inbox.deposit(
                raw,
                door="smtp",
                mail_from=envelope.mail_from or "",
                recipients=envelope.rcpt_tos,
                settings=self.settings,
            )
        except Exception as exc:  # noqa: BLE001 - the client is told to retry later
            print(f"[smtp] deposit failed: {exc}", flush=True)
            return "451 4.3.0 could not take the message now; try again later"
        return "250 OK queued"


def server(port: int | None = None, settings: Settings | None = None) -> Controller:
    """A started-on-demand SMTP server on 127.0.0.1 (``.start()``, ``.stop()``)."""
    chosen = settings or get_settings()
    return Controller(
        Door(chosen),
        hostname="127.0.0.1",
        port=port if port is not None else port_from_env(),
        data_size_limit=chosen.email_max_message_bytes,
        # The original bytes: what SES stores, and what the parser reads.
        decode_data=False,
        server_hostname="servicedesk.local",
        ready_timeout=10.0,
    )
