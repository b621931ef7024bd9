#!/usr/bin/env bash
# Build the Lambda deps layer for the functions' platform: CPython 3.12 on ARM64 (Graviton).
#
#   scripts/build_layers.sh        (what `make layers` runs)
#
# Output: build/layers/deps/python/... (the layer zip must hold python/<package>), picked up
# by stacks/constructs/domain_function.py. Without it the stacks still synthesize, but the deps
# layer is empty: run this before `cdk deploy`. Only binary wheels are used (no compiler,
# no Docker); boto3 is left out, the Lambda runtime ships it. manylinux_2_28 wheels are
# accepted too (the python3.12 runtime is Amazon Linux 2023, glibc 2.34): google-re2
# publishes its aarch64 wheels only with that tag.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
[ -x "$PYTHON" ] || PYTHON=python3
OUT="${OUT:-$ROOT/build/layers/deps}"
REQUIREMENTS="$ROOT/layers/deps/requirements.txt"

rm -rf "$OUT"
mkdir -p "$OUT/python"
"$PYTHON" -m pip install \
  --disable-pip-version-check \
  --platform manylinux2014_aarch64 \
  --platform manylinux_2_28_aarch64 \
  --implementation cp \
  --python-version 3.12 \
  --only-binary=:all: \
  --no-compile \
  --upgrade \
  --target "$OUT/python" \
  -r "$REQUIREMENTS"

# Slim the layer: caches, tests and metadata that nothing imports at run time.
find "$OUT/python" -type d -name "__pycache__" -prune -exec rm -rf {} +
rm -rf "$OUT/python/bin"

size_kb="$(du -sk "$OUT" | cut -f1)"
echo "deps layer: $OUT (${size_kb} KiB unzipped; the Lambda limit is 250 MiB for all layers + code)"
if [ "$size_kb" -gt 240000 ]; then
  echo "deps layer is too large for Lambda" >&2
  exit 1
fi
