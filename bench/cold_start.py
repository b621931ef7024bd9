"""Cold start: how long importing each ``functions/*/handler.py`` takes in a fresh interpreter,
against the framework floor, with and without bytecode.

For every function, a new ``python`` process (this interpreter, so the same virtualenv)
imports the handler module by path, as the Lambda runtime does, timing the import with
``time.process_time`` (CPU) and ``time.perf_counter`` (wall) inside the child; interpreter
start-up is not counted. The targets are judged on CPU time: it is the wall time of an idle
machine, and unlike wall time it does not grow while the process waits for a core on a
shared, busy one. The floor is the same measurement of ``import fastapi, sqlalchemy.orm,
pydantic, mangum``: what any FastAPI function on SQLAlchemy pays before its own code, so
``x floor`` says how much a function adds, and holds across machines and loads where
milliseconds do not. The
measurements go in rounds (every function and the floor once per round) so that a change
in the machine's load falls on all of them alike.

Two modes. *bytecode*: the caches a discarded warm-up run wrote are used, as on Lambda
with the layers ``make layers`` builds. *no bytecode*: every module outside the standard
library compiles from source and writes no cache, as on Lambda when the layers and the
bundle ship without ``.pyc`` (``/opt`` and ``/var/task`` are read-only).

Targets (issue 15): every FastAPI function at most ``--ratio-target`` x the floor, every
other function at most ``--target-ms``, both with bytecode. ``--root`` measures another
checkout's functions (e.g. the base commit, exported with ``git archive``) with the same
interpreter, for a before/after in one sitting.

The environment is what the handlers need at import and no more: test settings, a freshly
generated Ed25519 signing key, and a database URL that points nowhere, so an import that
tried to connect would fail rather than be timed.

    .venv/bin/python bench/cold_start.py [--runs N] [--root DIR] [--target-ms MS]

Exit status 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

ROOT = Path(__file__).resolve().parent.parent
TARGET_MS = 300.0
RATIO_TARGET = 1.3
MODES = ("bytecode", "source")
FLOOR = "(floor)"

# argv: handler path (or FLOOR), mode. Mode "source" makes every module outside the
# standard library compile from source and write no cache. Prints the import's wall and
# CPU ms and whether FastAPI was imported (an HTTP function).
CHILD = """
import importlib.util, sys, sysconfig, time
path, mode = sys.argv[1], sys.argv[2]
if mode == "source":
    import _frozen_importlib_external as bootstrap
    stdlib, cache_from_source = sysconfig.get_paths()["stdlib"], bootstrap.cache_from_source
    def no_cache_outside_stdlib(source, *args, **kwargs):
        if not source.startswith(stdlib):
            raise NotImplementedError  # SourceLoader.get_code: no bytecode path
        return cache_from_source(source, *args, **kwargs)
    bootstrap.cache_from_source = no_cache_outside_stdlib
started, cpu_started = time.perf_counter(), time.process_time()
if path == "(floor)":
    import fastapi, sqlalchemy.orm, pydantic, mangum
else:
    spec = importlib.util.spec_from_file_location("handler", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["handler"] = module
    spec.loader.exec_module(module)
    assert callable(getattr(module, "lambda_handler", None)), "no lambda_handler"
elapsed = (time.perf_counter() - started) * 1000
cpu = (time.process_time() - cpu_started) * 1000
print(f"{elapsed:.3f} {cpu:.3f} {int('fastapi' in sys.modules)}")
"""


@dataclass
class Target:
    name: str
    path: str  # handler path, or FLOOR
    cwd: Path
    web: bool = False
    cpu: dict[str, list[float]] = field(default_factory=lambda: {m: [] for m in MODES})
    wall: dict[str, list[float]] = field(default_factory=lambda: {m: [] for m in MODES})

    def median(self, mode: str) -> float:
        return statistics.median(self.cpu[mode])


def child_env() -> dict[str, str]:
    key = (
        Ed25519PrivateKey.generate()
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("SERVICEDESK_")}
    env.update(
        {
            "SERVICEDESK_ENVIRONMENT": "test",
            "SERVICEDESK_JWT_PRIVATE_KEY": key,
            "SERVICEDESK_DATABASE_URL": "postgresql+psycopg://x@/x",
            "SERVICEDESK_LOG_LEVEL": "WARNING",
            "AWS_DEFAULT_REGION": env.get("AWS_DEFAULT_REGION", "us-east-1"),
        }
    )
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # the warm-up run must leave .pyc files behind
    env.pop("PYTHONPATH", None)  # servicedesk resolves from the checkout of the cwd
    return env


def import_once(target: Target, env: dict[str, str], mode: str) -> tuple[float, float, bool]:
    """(import wall ms and CPU ms measured in the child, whether it imported FastAPI)."""
    done = subprocess.run(
        [sys.executable, "-c", CHILD, target.path, mode],
        env=env,
        cwd=target.cwd,  # like /var/task: the function's own folder first on sys.path
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"importing {target.path} failed:\n{done.stderr.strip()}")
    wall, cpu, web = done.stdout.strip().splitlines()[-1].split()
    return float(wall), float(cpu), web == "1"


def measure(targets: list[Target], runs: int, env: dict[str, str]) -> None:
    for target in targets:
        *_, target.web = import_once(target, env, "bytecode")  # warm-up: writes the caches
    for _ in range(runs):
        for mode in MODES:
            for target in targets:
                wall, cpu, _ = import_once(target, env, mode)
                target.wall[mode].append(wall)
                target.cpu[mode].append(cpu)


def verdict(target: Target, floor: Target, target_ms: float, ratio_target: float) -> str:
    if target.web:
        ratio = target.median("bytecode") / floor.median("bytecode")
        return "yes" if ratio <= ratio_target else f"**no** (> {ratio_target}x)"
    ms = target.median("bytecode")
    return "yes" if ms <= target_ms else f"**no** (> {target_ms:.0f} ms)"


def table(targets: list[Target], floor: Target, target_ms: float, ratio_target: float) -> str:
    lines = [
        "| function | kind | bytecode CPU median ms | min | max | x floor | target met "
        "| wall median ms | no-bytecode CPU median ms | x floor |",
        "|---|---|---:|---:|---:|---:|---|---:|---:|---:|",
    ]
    for t in [floor, *targets]:
        b = t.cpu["bytecode"]
        kind = "floor" if t is floor else "API" if t.web else "non-HTTP"
        met = "" if t is floor else verdict(t, floor, target_ms, ratio_target)
        lines.append(
            f"| {t.name} | {kind} | {t.median('bytecode'):.0f} | {min(b):.0f} | {max(b):.0f} "
            f"| {t.median('bytecode') / floor.median('bytecode'):.2f} | {met} "
            f"| {statistics.median(t.wall['bytecode']):.0f} "
            f"| {t.median('source'):.0f} | {t.median('source') / floor.median('source'):.2f} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--root", type=Path, default=ROOT, help="checkout whose functions/")
    parser.add_argument("--target-ms", type=float, default=TARGET_MS)
    parser.add_argument("--ratio-target", type=float, default=RATIO_TARGET)
    args = parser.parse_args()

    env = child_env()
    root = args.root.resolve()
    floor = Target(FLOOR, FLOOR, root / "functions")
    targets = [
        Target(h.parent.name, str(h), h.parent) for h in sorted(root.glob("functions/*/handler.py"))
    ]
    measure([floor, *targets], args.runs, env)
    print(
        f"Cold start (import time), {args.runs} fresh interpreters each, "
        f"{sys.version.split()[0]}, {root}; load average {os.getloadavg()[0]:.2f} at the end"
    )
    print(table(targets, floor, args.target_ms, args.ratio_target))
    print(
        "CPU: the import's process_time (as its wall time on an idle machine, without the "
        "waits for a core on a busy one); min/max: bytecode runs; "
        "floor: import fastapi, sqlalchemy.orm, pydantic, mangum; "
        f"targets: API <= {args.ratio_target}x floor, non-HTTP <= {args.target_ms:.0f} ms "
        "(with bytecode); no-bytecode: every module outside the standard library compiled "
        "from source (layers without .pyc)"
    )
    met = all(verdict(t, floor, args.target_ms, args.ratio_target) == "yes" for t in targets)
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
