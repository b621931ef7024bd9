#!/usr/bin/env bash
# Build what the stacks deploy, for the functions' platform: CPython 3.12 on ARM64 (Graviton),
# with bytecode compiled by a 3.12 interpreter.
#
#   scripts/build_layers.sh [core] [functions] [deps]     (no argument: all three; `make layers`)
#
# Output, picked up by stacks/constructs/domain_function.py when present:
#   build/layers/core/python/servicedesk     the application package (layers/core)
#   build/layers/deps/python/...             third-party wheels (layers/deps/requirements.txt)
#   build/functions/<name>/handler.py        each function's bundle (functions/<name>)
# Each holds __pycache__/*.cpython-312.pyc next to the sources. /opt and /var/task are
# read-only on Lambda, so without shipped bytecode every cold start compiles every module it
# imports (seconds for a FastAPI function). The .pyc files use --invalidation-mode
# unchecked-hash: the runtime loads them without stat-ing or hashing the source (zip
# extraction gives every file one timestamp, so timestamp checks would be meaningless anyway).
# The interpreter must be 3.12, the runtime's version (PYTHON312, else pyenv's 3.12.1, else
# python3.12 on PATH): its magic number is in every .pyc, and another version's is ignored.
#
# Deps: only binary wheels (no compiler, no Docker); boto3 is left out, the Lambda runtime
# ships it. manylinux_2_28 wheels are accepted too (the python3.12 runtime is Amazon Linux
# 2023, glibc 2.34): google-re2 publishes its aarch64 wheels only with that tag.
#
# OUT (default build/) moves the whole output, e.g. to a temporary directory in tests.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
[ -x "$PYTHON" ] || PYTHON=python3
OUT="${OUT:-$ROOT/build}"
REQUIREMENTS="$ROOT/layers/deps/requirements.txt"

runtime_python() {
  if [ -n "${PYTHON312:-}" ]; then
    echo "$PYTHON312"
  elif command -v pyenv >/dev/null 2>&1 && prefix="$(pyenv prefix 3.12.1 2>/dev/null)"; then
    echo "$prefix/bin/python"
  elif command -v python3.12 >/dev/null 2>&1; then
    command -v python3.12
  else
    echo "no CPython 3.12 (set PYTHON312, or pyenv install 3.12.1)" >&2
    return 1
  fi
}
PY312="$(runtime_python)"
version="$("$PY312" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
if [ "$version" != "3.12" ]; then
  echo "$PY312 is Python $version; the Lambda runtime is python3.12" >&2
  exit 1
fi

# Sources only: a developer's __pycache__ holds another version's bytecode.
copy_sources() {
  local from="$1" to="$2"
  rm -rf "$to"
  mkdir -p "$to"
  (cd "$from" && tar --exclude='__pycache__' --exclude='*.pyc' --exclude='*.egg-info' \
    --exclude='tests' -cf - .) | (cd "$to" && tar -xf -)
}

compile() {
  "$PY312" -m compileall -q -j 0 --invalidation-mode unchecked-hash "$1" >/dev/null
}

build_core() {
  copy_sources "$ROOT/layers/core" "$OUT/layers/core"
  compile "$OUT/layers/core/python"
  echo "core layer: $OUT/layers/core"
}

build_functions() {
  rm -rf "$OUT/functions"
  for handler in "$ROOT"/functions/*/handler.py; do
    name="$(basename "$(dirname "$handler")")"
    copy_sources "$ROOT/functions/$name" "$OUT/functions/$name"
  done
  compile "$OUT/functions"
  echo "function bundles: $OUT/functions"
}

build_deps() {
  local deps="$OUT/layers/deps"
  rm -rf "$deps"
  mkdir -p "$deps/python"
  "$PYTHON" -m pip install \
    --disable-pip-version-check \
    --platform manylinux2014_aarch64 \
    --platform manylinux_2_28_aarch64 \
    --implementation cp \
    --python-version 3.12 \
    --only-binary=:all: \
    --no-compile \
    --upgrade \
    --target "$deps/python" \
    -r "$REQUIREMENTS"
  # Slim the layer: caches and scripts that nothing imports at run time.
  find "$deps/python" -type d -name "__pycache__" -prune -exec rm -rf {} +
  rm -rf "$deps/python/bin"
  # A wheel may carry a file that is not valid 3.12 (a template, a vendored test): it stays
  # source-only, and compileall says which; everything else gets its bytecode.
  "$PY312" -m compileall -q -j 0 --invalidation-mode unchecked-hash "$deps/python" >/dev/null ||
    echo "deps layer: some files did not compile (listed by: $PY312 -m compileall $deps/python)"
  local size_kb
  size_kb="$(du -sk "$deps" | cut -f1)"
  echo "deps layer: $deps (${size_kb} KiB unzipped; the Lambda limit is 250 MiB for all layers + code)"
  if [ "$size_kb" -gt 240000 ]; then
    echo "deps layer is too large for Lambda" >&2
    exit 1
  fi
}

parts=("$@")
[ ${#parts[@]} -gt 0 ] || parts=(core functions deps)
for part in "${parts[@]}"; do
  case "$part" in
    core) build_core ;;
    functions) build_functions ;;
    deps) build_deps ;;
    *)
      echo "unknown part: $part (core, functions, deps)" >&2
      exit 2
      ;;
  esac
done
