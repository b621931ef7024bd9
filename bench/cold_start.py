"""Cold start: how long importing each ``functions/*/handler.py`` takes in a fresh interpreter.

For every function, a new ``python`` process (this interpreter, so the same virtualenv)
imports the handler module by path, as the Lambda runtime does, timing the import with
``time.perf_counter`` inside the child; interpreter start-up is not counted. One discarded
warm-up run first writes the bytecode caches, then ``--runs`` measured runs (default 10).
Then ``--runs`` more with no bytecode outside the standard library: the stacks exclude
``__pycache__`` from the layers and the function bundles, and those are read-only on Lambda,
so there every cold start compiles the application and its dependencies from source.

The environment is what the handlers need at import and no more: test settings, a freshly
generated Ed25519 signing key, and a database URL that points nowhere, so an import that
tried to connect would fail rather than be timed.

    .venv/bin/python bench/cold_start.py [--runs N] [--target-ms MS]

Exit status 1 when a handler's median is over the target.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS = ROOT / "functions"
TARGET_MS = 300.0

# argv: handler path, mode. Mode "source" makes every module outside the standard library
# compile from source and write no cache, as on Lambda when the layers and the function
# bundle ship without __pycache__ (their /opt and /var/task are read-only).
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
started = time.perf_counter()
spec = importlib.util.spec_from_file_location("handler", path)
module = importlib.util.module_from_spec(spec)
sys.modules["handler"] = module
spec.loader.exec_module(module)
elapsed = (time.perf_counter() - started) * 1000
assert callable(getattr(module, "lambda_handler", None)), "no lambda_handler"
print(f"{elapsed:.3f}")
"""


@dataclass(frozen=True)
class Runs:
    import_ms: list[float]
    process_ms: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.import_ms)


@dataclass(frozen=True)
class Result:
    function: str
    cached: Runs  # bytecode caches present (as after a warm-up run)
    source: Runs  # no bytecode outside the standard library (layers shipped without .pyc)


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
    return env


def import_once(handler: Path, env: dict[str, str], mode: str) -> tuple[float, float]:
    """(import ms measured in the child, whole child process wall ms)."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(handler), mode],
        env=env,
        cwd=handler.parent,  # like /var/task: the function's own folder first on sys.path
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    wall = (time.perf_counter() - started) * 1000
    if done.returncode != 0:
        raise RuntimeError(f"importing {handler} failed:\n{done.stderr.strip()}")
    return float(done.stdout.strip().splitlines()[-1]), wall


def measure(handler: Path, runs: int, env: dict[str, str]) -> Result:
    import_once(handler, env, "cached")  # warm-up: writes the bytecode caches
    by_mode: dict[str, Runs] = {}
    for mode in ("cached", "source"):
        imports, walls = [], []
        for _ in range(runs):
            imported, wall = import_once(handler, env, mode)
            imports.append(imported)
            walls.append(wall)
        by_mode[mode] = Runs(imports, walls)
    return Result(handler.parent.name, by_mode["cached"], by_mode["source"])


def table(results: list[Result], target_ms: float) -> str:
    lines = [
        "| function | median ms | min ms | max ms | process median ms | under target "
        "| no-pyc median ms | no-pyc min ms | no-pyc max ms |",
        "|---|---:|---:|---:|---:|---|---:|---:|---:|",
    ]
    for r in results:
        c, s = r.cached, r.source
        verdict = "yes" if c.median <= target_ms else f"**no** (> {target_ms:.0f} ms)"
        lines.append(
            f"| {r.function} | {c.median:.0f} | {min(c.import_ms):.0f} | {max(c.import_ms):.0f} "
            f"| {statistics.median(c.process_ms):.0f} | {verdict} "
            f"| {s.median:.0f} | {min(s.import_ms):.0f} | {max(s.import_ms):.0f} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--target-ms", type=float, default=TARGET_MS)
    args = parser.parse_args()

    env = child_env()
    handlers = sorted(FUNCTIONS.glob("*/handler.py"))
    results = [measure(handler, args.runs, env) for handler in handlers]
    print(
        f"Cold start (import time), {args.runs} fresh interpreters each, {sys.version.split()[0]}"
    )
    print(table(results, args.target_ms))
    print(
        "median/min/max: handler import timed inside the child (bytecode cached); process: "
        "interpreter start + import, timed by the parent; no-pyc: the same import with every "
        "module outside the standard library compiled from source (layers without .pyc)"
    )
    return 0 if all(r.cached.median <= args.target_ms for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
