"""Event rules run whichever function changes a ticket: the first change installs the
automation hook itself (tickets.timeline), so no Lambda handler has to remember an import."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_first_change_installs_the_automation_hook_in_a_fresh_process() -> None:
    code = (
        "import servicedesk.tickets.timeline as t\n"
        "assert t._CHANGE_HOOKS == [], t._CHANGE_HOOKS\n"
        "t._install()\n"
        "from servicedesk.automation import engine\n"
        "assert t._CHANGE_HOOKS == [engine.on_change], t._CHANGE_HOOKS\n"
    )
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'layers/core/python'}{os.pathsep}{ROOT}"}
    done = subprocess.run(
        [sys.executable, "-c", code],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
