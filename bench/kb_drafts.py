"""Drafts from resolved tickets: how far apart duplicates and non-duplicates fall on the
two similarity measures the knowledge consumer skips a draft by (servicedesk.kb.drafts).

For each pair, an existing article and a resolved ticket's extractive draft: the trigram
similarity of the titles (pg_trgm on an embedded PostgreSQL) and the cosine similarity of
the local packaged model's embeddings (the article's title and text against the draft's
``embedding_text``). Prints each pair and whether the thresholds tell it right, then the
widest gap between the duplicates' lowest and the others' highest cosine. docs/kb.md
("Drafts from resolved tickets") holds the figures.

    .venv/bin/python -m bench.kb_drafts   (as a module: bench/email.py shadows the standard library)
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from local import db as localdb
from servicedesk.ai.embeddings import LocalEmbedder
from servicedesk.kb.drafting import Conversation, Reply, extractive
from servicedesk.kb.drafts import EMBEDDING_SIMILARITY, TITLE_SIMILARITY, embedding_text

VPN_ANSWER = (
    "Caused by power saving on the Wi-Fi adapter. Update the VPN client to 5.2 and turn"
    " power saving off."
)
VPN_TICKET = (
    "VPN disconnects every few minutes",
    "The VPN client drops the connection every five minutes at home on Wi-Fi.",
    VPN_ANSWER,
)
OUTLOOK = (
    "Outlook keeps asking for my password",
    "Outlook prompts for the password repeatedly. Remove the saved credential in Credential"
    " Manager and sign in again.",
)
PRINTER = (
    "Printer prints blank pages",
    "The printer on floor 3 prints blank pages. Replace the toner cartridge.",
)
VPN_ARTICLE = (
    "VPN disconnects every few minutes on Wi-Fi",
    "The VPN drops every few minutes on Wi-Fi. Cause: adapter power saving. Update the"
    " client to 5.2 and turn power saving off.",
)
# (article title, article text), (ticket title, description, agent's answer), duplicate?
CASES: list[tuple[tuple[str, str], tuple[str, str, str], bool]] = [
    (VPN_ARTICLE, VPN_TICKET, True),
    (
        (
            "Tunnel keeps dropping at home",
            "The VPN client drops the connection every few minutes on Wi-Fi. Wi-Fi adapter"
            " power saving. Update the VPN client to 5.2 and turn power saving off.",
        ),
        VPN_TICKET,
        True,
    ),
    (
        OUTLOOK,
        (
            "Password prompt in Outlook every morning",
            "Every morning Outlook asks me for my password again.",
            "Remove the stored credential in Windows Credential Manager, then sign in once.",
        ),
        True,
    ),
    (
        PRINTER,
        (
            "Blank pages from the 3rd floor printer",
            "All pages come out blank from the printer on the third floor.",
            "The toner cartridge was empty; I replaced it.",
        ),
        True,
    ),
    (
        PRINTER,
        (
            "Printer paper jam in tray 2",
            "Tray 2 of the printer jams on every page.",
            "Removed torn paper from the rollers of tray 2.",
        ),
        False,
    ),
    (
        OUTLOOK,
        (
            "Outlook calendar does not sync",
            "Meetings I accept on my phone do not show in Outlook.",
            "Removed and re-added the account in Outlook; the calendar syncs again.",
        ),
        False,
    ),
    (
        VPN_ARTICLE,
        (
            "Cannot install VPN client",
            "The VPN installer fails with error 1603.",
            "Error 1603: ran the installer as administrator after removing the old version.",
        ),
        False,
    ),
    (
        ("Reset your password", "Use the self-service portal to reset a forgotten password."),
        (
            "New laptop for the new hire",
            "Please prepare a laptop for Anna starting Monday.",
            "Laptop prepared and handed over to Anna.",
        ),
        False,
    ),
]


def main() -> int:
    root = Path(tempfile.mkdtemp(prefix="bench-kb-drafts-"))
    server = localdb.embedded_server(root / "data")
    embedder = LocalEmbedder()
    wrong = 0
    lowest_duplicate, highest_other = 1.0, -1.0
    try:
        with localdb.admin_connect(localdb.admin_url(root / "data")) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            for (title, text), (ticket, description, answer), duplicate in CASES:
                reply = Reply(answer, staff=True, created_at=datetime.now(UTC))
                draft = extractive(Conversation(ticket, description, replies=(reply,)))
                assert draft is not None
                row = conn.execute(
                    "SELECT similarity(lower(%s), lower(%s))", (title, draft.title)
                ).fetchone()
                trigram = float(str(row[0])) if row else 0.0
                article, proposed = embedder.embed([f"{title}\n\n{text}", embedding_text(draft)])
                cosine = sum(a * b for a, b in zip(article, proposed, strict=True))
                skipped = trigram >= TITLE_SIMILARITY or cosine >= EMBEDDING_SIMILARITY
                wrong += skipped != duplicate
                if duplicate:
                    lowest_duplicate = min(lowest_duplicate, cosine)
                else:
                    highest_other = max(highest_other, cosine)
                verdict = "ok" if skipped == duplicate else "WRONG"
                kind = "duplicate" if duplicate else "different"
                print(
                    f"{kind:9} trigram {trigram:.2f} cosine {cosine:.3f} {verdict:5}"
                    f" {ticket!r} vs {title!r}"
                )
    finally:
        server.cleanup()
        shutil.rmtree(root, ignore_errors=True)
    print(
        f"thresholds: title trigram >= {TITLE_SIMILARITY}, cosine >= {EMBEDDING_SIMILARITY};"
        f" duplicates' lowest cosine {lowest_duplicate:.3f}, others' highest"
        f" {highest_other:.3f}; {wrong} of {len(CASES)} told wrong"
    )
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
