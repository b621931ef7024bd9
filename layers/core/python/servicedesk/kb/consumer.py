"""The knowledge consumer: the knowledge queue's outbox events, each in its tenant's
transaction (platform.consumer.sqs_handler: partial batch failures).

- ``kb.article.*``: (re-)embed the article's text (servicedesk.kb.embedding);
- ``ticket.status_changed`` to resolved: propose an article draft (servicedesk.kb.drafts).

Each piece registers its process in ``PROCESSES`` by event type prefix (first match wins);
an event no process claims is acknowledged and ignored.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from servicedesk.platform.consumer import Envelope

Process = Callable[[Session, Envelope], None]

PROCESSES: dict[str, Process] = {}


def process(session: Session, envelope: Envelope) -> None:
    for prefix, handle in PROCESSES.items():
        if envelope.type.startswith(prefix):
            handle(session, envelope)
            return


def _register() -> None:
    # Each piece's module registers itself; imported here so the handler's import of this
    # module is enough (after PROCESSES exists: the modules import it).
    from servicedesk.kb import embedding

    PROCESSES.setdefault("kb.article.", embedding.process)


_register()
