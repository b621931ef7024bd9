"""Upload the built web app (web/dist) to the web stack's bucket and refresh CloudFront.

Usage: .venv/bin/python scripts/deploy_web.py --bucket SITE_BUCKET [--distribution-id ID]

Both values are outputs of the ``<prefix>-Web`` stack (``SiteBucket``, ``DistributionId``).
Hashed files under assets/ are uploaded first and cached for a year; index.html last and
``no-cache``, so a browser never gets an index.html whose assets are not there yet. Old
assets stay (tabs still running the previous version load their chunks); source maps and
config.json (the edge answers it) are not uploaded.
"""

from __future__ import annotations

import argparse
import mimetypes
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DIST = ROOT / "web" / "dist"
IMMUTABLE = "public, max-age=31536000, immutable"
SKIPPED_SUFFIXES = (".map",)
SKIPPED_NAMES = ("config.json",)


def plan(dist: Path) -> list[tuple[Path, str, dict[str, str]]]:
    """(file, key, extra args) in upload order: assets, other files, index.html last."""
    files = sorted(
        p
        for p in dist.rglob("*")
        if p.is_file() and p.suffix not in SKIPPED_SUFFIXES and p.name not in SKIPPED_NAMES
    )
    if not (dist / "index.html").is_file():
        raise SystemExit(f"{dist}/index.html is missing: run `make web` first")

    def order(path: Path) -> int:
        key = path.relative_to(dist).as_posix()
        return 0 if key.startswith("assets/") else 2 if key == "index.html" else 1

    uploads = []
    for path in sorted(files, key=order):
        key = path.relative_to(dist).as_posix()
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if content_type.startswith("text/") or content_type == "application/javascript":
            content_type += "; charset=utf-8"
        cache = IMMUTABLE if key.startswith("assets/") else "no-cache"
        uploads.append((path, key, {"ContentType": content_type, "CacheControl": cache}))
    return uploads


def deploy(
    dist: Path, bucket: str, distribution_id: str | None, *, s3: Any, cloudfront: Any
) -> int:
    uploads = plan(dist)
    for path, key, extra in uploads:
        s3.upload_file(str(path), bucket, key, ExtraArgs=extra)
    if distribution_id:
        cloudfront.create_invalidation(
            DistributionId=distribution_id,
            InvalidationBatch={
                "Paths": {"Quantity": 1, "Items": ["/index.html"]},
                "CallerReference": f"deploy-web-{time.time_ns()}",
            },
        )
    return len(uploads)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--bucket", required=True, help="the Web stack's SiteBucket output")
    parser.add_argument("--distribution-id", help="the Web stack's DistributionId output")
    parser.add_argument("--dist", type=Path, default=DIST)
    args = parser.parse_args(argv)
    import boto3

    count = deploy(
        args.dist,
        args.bucket,
        args.distribution_id,
        s3=boto3.client("s3"),
        cloudfront=boto3.client("cloudfront"),
    )
    sys.stdout.write(f"uploaded {count} files to s3://{args.bucket}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
