"""The demo desk of `make dev` (local/seed.py): the flag that asks for an empty desk (the demo
data themselves are checked on the real database in tests/integration/test_demo_seed.py)."""

from __future__ import annotations


def test_the_empty_flag(monkeypatch):
    from local.seed import demo_wanted

    monkeypatch.delenv("SERVICEDESK_DEMO_DATA", raising=False)
    assert demo_wanted([]) is True
    assert demo_wanted(["--empty"]) is False
    monkeypatch.setenv("SERVICEDESK_DEMO_DATA", "0")
    assert demo_wanted([]) is False
