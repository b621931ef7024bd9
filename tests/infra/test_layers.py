"""``make layers`` ships bytecode for the Lambda runtime (python3.12), and the stacks deploy it.

The core layer and the function bundles are built for real into a temporary directory by
scripts/build_layers.sh; the deps layer (a download of every wheel) is checked where
``make layers`` left it, ``build/layers/deps``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from aws_cdk import App, Stack

from stacks.config import load_config
from stacks.constructs import domain_function
from stacks.constructs.domain_function import DomainFunction, SharedLayers, built_copy
from tests.infra.conftest import CONTEXT

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "build_layers.sh"
UNCHECKED_HASH = 0b01  # PEP 552 flags: hash-based, source not checked


def _python312() -> str | None:
    if shutil.which("pyenv"):
        done = subprocess.run(
            ["pyenv", "prefix", "3.12.1"], capture_output=True, text=True, check=False
        )
        if done.returncode == 0 and (Path(done.stdout.strip()) / "bin" / "python").is_file():
            return str(Path(done.stdout.strip()) / "bin" / "python")
    return shutil.which("python3.12")


PY312 = _python312()
needs_312 = pytest.mark.skipif(PY312 is None, reason="no CPython 3.12 (pyenv 3.12.1 or python3.12)")


def _magic_312() -> bytes:
    assert PY312 is not None
    done = subprocess.run(
        [PY312, "-c", "import importlib.util; print(importlib.util.MAGIC_NUMBER.hex())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return bytes.fromhex(done.stdout.strip())


def _unbuilt_sources(root: Path, magic: bytes) -> list[str]:
    """Every .py under ``root`` without a cpython-312 unchecked-hash .pyc beside it."""
    missing = []
    for source in root.rglob("*.py"):
        if "__pycache__" in source.parts:
            continue
        compiled = source.parent / "__pycache__" / f"{source.stem}.cpython-312.pyc"
        if not compiled.is_file():
            missing.append(f"{source.relative_to(root)}: no .pyc")
            continue
        header = compiled.read_bytes()[:8]
        flags = int.from_bytes(header[4:8], "little")
        if header[:4] != magic or flags != UNCHECKED_HASH:
            missing.append(f"{source.relative_to(root)}: header {header.hex()}")
    return missing


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if PY312 is None:
        pytest.skip("no CPython 3.12 (pyenv 3.12.1 or python3.12)")
    out = tmp_path_factory.mktemp("build")
    env = dict(os.environ, OUT=str(out), PYTHON312=PY312)
    subprocess.run(["bash", str(SCRIPT), "core", "functions"], env=env, check=True, timeout=300)
    return out


@needs_312
def test_core_layer_has_runtime_bytecode_for_every_module(built: Path) -> None:
    core = built / "layers" / "core" / "python"
    assert (core / "servicedesk" / "platform" / "db.py").is_file()
    assert _unbuilt_sources(core, _magic_312()) == []
    assert not list(core.rglob("*.cpython-311.pyc"))  # no developer bytecode copied in


@needs_312
def test_every_function_bundle_has_runtime_bytecode(built: Path) -> None:
    functions = built / "functions"
    names = {p.parent.name for p in functions.glob("*/handler.py")}
    assert names == {p.parent.name for p in (ROOT / "functions").glob("*/handler.py")}
    assert _unbuilt_sources(functions, _magic_312()) == []


@needs_312
def test_deps_layer_has_runtime_bytecode() -> None:
    deps = ROOT / "build" / "layers" / "deps" / "python"
    if not deps.is_dir():
        pytest.skip("build/layers/deps not built here: run `make layers` (downloads wheels)")
    magic = _magic_312()
    for package in ("fastapi", "sqlalchemy", "pydantic", "mangum", "psycopg"):
        assert _unbuilt_sources(deps / package, magic) == [], package
    assert list(deps.glob("pydantic_core/_pydantic_core.cpython-312-aarch64-linux-gnu.so"))


def test_a_build_older_than_the_sources_is_not_deployed(tmp_path: Path) -> None:
    source, copy = tmp_path / "src", tmp_path / "build"
    for root in (source, copy):
        (root / "pkg").mkdir(parents=True)
        (root / "pkg" / "mod.py").write_text("X = 1\n")
    assert built_copy(source, copy) == copy
    (source / "pkg" / "mod.py").write_text("X = 2\n")
    assert built_copy(source, copy) is None
    assert built_copy(source, tmp_path / "absent") is None


@needs_312
def test_stacks_deploy_the_built_copies_with_their_bytecode(
    built: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(domain_function, "CORE_LAYER_BUILT_DIR", built / "layers" / "core")
    monkeypatch.setattr(domain_function, "FUNCTIONS_BUILT_DIR", built / "functions")
    app = App(outdir=str(tmp_path / "cdk.out"), context=CONTEXT)
    stack = Stack(app, "Layers")
    config = load_config(app.node)
    layers = SharedLayers(stack, "Layers")
    DomainFunction(stack, "Authorizer", name="authorizer", config=config, layers=layers)
    assembly = app.synth()
    staged = Path(assembly.directory)
    compiled = {p.relative_to(staged).parts[1:] for p in staged.glob("asset.*/**/*.pyc")}
    assert ("python", "servicedesk", "platform", "__pycache__", "db.cpython-312.pyc") in compiled
    assert ("__pycache__", "handler.cpython-312.pyc") in compiled
