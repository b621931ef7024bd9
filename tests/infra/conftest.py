"""Synthesize the CDK app once per test session (plus one prod synthesis, with cdk-nag).

``dev`` is the dev preset with a **stub handler for every planned function that has not been
written yet** (scheduled jobs, queue consumers), staged in a temporary copy of ``functions/``:
the templates then hold the whole async design (schedules, consumers, their roles and
alarms) and the assertions run on it today. Nothing is written into the repository's
``functions/``.

``prod`` is what ``npx cdk synth -c stage=prod -c emailSender=...`` builds (same staged
functions), with the cdk-nag policy-validation plugin exactly as in app.py: any unacknowledged
finding fails the synthesis.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from aws_cdk import App  # noqa: E402
from aws_cdk.assertions import Template  # noqa: E402

from stacks import ServicedeskApp, build_app  # noqa: E402
from stacks.asyncq import CONSUMERS, SCHEDULED_JOBS  # noqa: E402
from stacks.constructs import domain_function  # noqa: E402

CONTEXT: dict[str, Any] = json.loads((ROOT / "cdk.json").read_text())["context"]

# Entry points the async stack wires up once their handler exists.
PLANNED_FUNCTIONS: tuple[str, ...] = tuple(sorted({*SCHEDULED_JOBS, *CONSUMERS}))

STUB_HANDLER = (
    '"""Test stub staged by tests/infra/conftest.py; never deployed."""\n\n\n'
    "def lambda_handler(event, context):\n"
    "    raise NotImplementedError\n"
)


def stage_functions(target: Path, stubs: Iterable[str]) -> set[str]:
    """Copy ``functions/`` into ``target`` and add a stub handler for each missing name.

    Returns the names that were stubbed (those whose real handler does not exist yet).
    """
    shutil.copytree(
        domain_function.FUNCTIONS_DIR,
        target,
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    stubbed: set[str] = set()
    for name in stubs:
        handler = target / name / "handler.py"
        if handler.is_file():
            continue
        handler.parent.mkdir(parents=True, exist_ok=True)
        handler.write_text(STUB_HANDLER)
        stubbed.add(name)
    return stubbed


@dataclass(frozen=True)
class Synthesized:
    sd: ServicedeskApp
    templates: dict[str, Template]  # "Data", "Storage", "Async", "Api", ... -> template
    # Functions whose handler exists for this synthesis (real or stubbed).
    functions: frozenset[str]
    stubbed: frozenset[str]


def synthesize(
    outdir: Path,
    *,
    context: dict[str, Any],
    nag: bool,
    functions_dir: Path | None = None,
) -> Synthesized:
    """Build and synthesize the app; ``functions_dir`` replaces ``functions/`` meanwhile."""
    with pytest.MonkeyPatch.context() as patch:
        if functions_dir is not None:
            patch.setattr(domain_function, "FUNCTIONS_DIR", functions_dir)
        present = frozenset(
            p.parent.name for p in domain_function.FUNCTIONS_DIR.glob("*/handler.py")
        )
        app = App(context=context, outdir=str(outdir))
        sd = build_app(app, nag=nag)
        app.synth()
    templates = {s.node.id.rsplit("-", 1)[-1]: Template.from_stack(s) for s in sd.stacks}
    return Synthesized(sd=sd, templates=templates, functions=present, stubbed=frozenset())


PROD_EMAIL_SENDER = "desk@example.com"


@pytest.fixture(scope="session")
def staged_functions(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, frozenset[str]]:
    staged = tmp_path_factory.mktemp("functions") / "functions"
    return staged, frozenset(stage_functions(staged, PLANNED_FUNCTIONS))


@pytest.fixture(scope="session")
def dev(
    tmp_path_factory: pytest.TempPathFactory, staged_functions: tuple[Path, frozenset[str]]
) -> Iterator[Synthesized]:
    staged, stubbed = staged_functions
    # nag runs explicitly in a test (to report every finding), not as the synth plugin.
    built = synthesize(
        tmp_path_factory.mktemp("cdk.out.dev"),
        context=CONTEXT,
        nag=False,
        functions_dir=staged,
    )
    yield Synthesized(
        sd=built.sd,
        templates=built.templates,
        functions=built.functions,
        stubbed=stubbed,
    )


@pytest.fixture(scope="session")
def prod(
    tmp_path_factory: pytest.TempPathFactory, staged_functions: tuple[Path, frozenset[str]]
) -> Synthesized:
    staged, stubbed = staged_functions
    built = synthesize(
        tmp_path_factory.mktemp("cdk.out.prod"),
        context={**CONTEXT, "stage": "prod", "emailSender": PROD_EMAIL_SENDER},
        nag=True,
        functions_dir=staged,
    )
    return Synthesized(
        sd=built.sd, templates=built.templates, functions=built.functions, stubbed=stubbed
    )
