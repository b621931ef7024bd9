"""SnapStart hooks (platform.snapstart) off Lambda's runtime (what a restored copy does runs on
the real database and AWS emulator in tests/integration/test_snapstart.py)."""

from __future__ import annotations

from servicedesk.platform import snapstart


def test_hooks_are_registered_only_on_the_lambda_runtime() -> None:
    # snapshot_restore_py ships with Lambda's managed Python runtimes, not with the app.
    assert snapstart.register() is False
