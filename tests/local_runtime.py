"""The AWS half of `make dev`, as local/dev.py wires it, for the restart test.

``python -m tests.local_runtime DATA_DIR [--consumers]`` starts the emulator with its state
under ``DATA_DIR/aws`` (``dev._start_aws``: the queues and DLQs, as `make dev` makes them)
and, with ``--consumers``, the queue pollers of ``dev._workers`` (the SQS event source
mappings). It prints one JSON line, ``{"endpoint", "queues": {channel: url}}``, when ready;
SIGTERM stops it as Ctrl-C stops `make dev` (pollers first, then the emulator). The
database and settings come from the environment (SERVICEDESK_*), as for `make dev`.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from local import dev
from local.queues import Poller, PollerProcess


def main(argv: list[str]) -> None:
    dev.DATA = Path(argv[0])
    stopped = threading.Event()

    def stop(_signum: int, _frame: Any) -> None:
        stopped.set()

    signal.signal(signal.SIGTERM, stop)
    moto, endpoint, queues = dev._start_aws()
    workers = [w for w in dev._workers(queues) if isinstance(w, (Poller, PollerProcess))]
    if "--consumers" not in argv:
        workers = []
    for worker in workers:
        worker.start()
    print(json.dumps({"endpoint": endpoint, "queues": {c: q.url for c, q in queues.items()}}))
    sys.stdout.flush()
    stopped.wait()
    for worker in workers:
        worker.stop()
    for worker in workers:
        worker.join(timeout=5)
    if moto is not None:
        moto.terminate()
        moto.wait(timeout=10)


if __name__ == "__main__":
    main(sys.argv[1:])
