"""Write the API's OpenAPI document to web/src/api/openapi.json (the web app's types come
from it, so a backend change that breaks the web app fails its type check).

Usage: .venv/bin/python scripts/export_openapi.py [--check] [output]
``--check`` exits 1 when the file on disk differs from what the code describes.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = ROOT / "web" / "src" / "api" / "openapi.json"


def document() -> str:
    sys.path.insert(0, str(ROOT))
    from local.app import build_app

    schema = build_app().openapi()
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", nargs="?", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--check", action="store_true", help="fail if the file is stale")
    args = parser.parse_args(argv)
    text = document()
    output: Path = args.output
    if args.check:
        current = output.read_text() if output.exists() else ""
        if current != text:
            sys.stderr.write(f"{output} is stale: run scripts/export_openapi.py\n")
            return 1
        return 0
    if not output.exists() or output.read_text() != text:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
