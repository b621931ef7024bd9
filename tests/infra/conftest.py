"""Synthesize the CDK app once per test session (plus one prod synthesis, with cdk-nag).

``dev`` is the dev preset; ``prod`` is what ``npx cdk synth -c stage=prod -c emailSender=...``
builds, with the cdk-nag policy-validation plugin exactly as in app.py: any unacknowledged
finding fails the synthesis.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from constructs import IConstruct

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from aws_cdk import App, NestedStack, Stack  # noqa: E402
from aws_cdk.assertions import Template  # noqa: E402

from stacks import ServicedeskApp, build_app  # noqa: E402
from stacks.asyncq import CONSUMERS, SCHEDULED_JOBS  # noqa: E402

CONTEXT: dict[str, Any] = json.loads((ROOT / "cdk.json").read_text())["context"]

# The functions the async stack wires up (scheduled jobs, queue consumers).
ASYNC_FUNCTIONS: tuple[str, ...] = tuple(sorted({*SCHEDULED_JOBS, *CONSUMERS}))


@dataclass(frozen=True)
class Synthesized:
    sd: ServicedeskApp
    templates: dict[str, Template]  # "Data", "Storage", "Async", "Api", "Api.Domains", ...


def synthesize(outdir: Path, *, context: dict[str, Any], nag: bool) -> Synthesized:
    """Build and synthesize the app."""
    app = App(context=context, outdir=str(outdir))
    sd = build_app(app, nag=nag)
    app.synth()
    templates = {s.node.id.rsplit("-", 1)[-1]: Template.from_stack(s) for s in sd.stacks}
    # Nested stacks (the Api stack's "Domains") are templates of their own: "Api.Domains".
    for s in sd.stacks:
        for child in s.node.find_all():
            if isinstance(child, NestedStack):
                name = f"{s.node.id.rsplit('-', 1)[-1]}.{child.node.id}"
                templates[name] = Template.from_stack(child)
    return Synthesized(sd=sd, templates=templates)


def template_key(construct: IConstruct) -> str:
    """The ``templates`` key of the template holding ``construct`` ("Api", "Api.Domains")."""
    stack = Stack.of(construct)
    if isinstance(stack, NestedStack):
        parent = Stack.of(stack.node.scope)  # type: ignore[arg-type]
        return f"{parent.node.id.rsplit('-', 1)[-1]}.{stack.node.id}"
    return stack.node.id.rsplit("-", 1)[-1]


PROD_EMAIL_SENDER = "desk@example.com"


@pytest.fixture(scope="session")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    # nag runs explicitly in a test (to report every finding), not as the synth plugin.
    return synthesize(tmp_path_factory.mktemp("cdk.out.dev"), context=CONTEXT, nag=False)


PROD_DIRECTORY_CIDR = "10.40.0.0/16"


@pytest.fixture(scope="session")
def prod(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    return synthesize(
        tmp_path_factory.mktemp("cdk.out.prod"),
        context={
            **CONTEXT,
            "stage": "prod",
            "emailSender": PROD_EMAIL_SENDER,
            # The tenants' directories (LDAP sign-in): an on-premises network over a VPN.
            "ldapDirectoryCidrs": [PROD_DIRECTORY_CIDR],
        },
        nag=True,
    )


MAIL_DOMAIN = "inbound.example.com"
MAIL_FORWARDED_DOMAIN = "support.example.org"


@pytest.fixture(scope="session")
def mail(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """Prod with inbound mail on (two SES receiving domains), the nag plugin as in app.py."""
    return synthesize(
        tmp_path_factory.mktemp("cdk.out.mail"),
        context={
            **CONTEXT,
            "stage": "prod",
            "emailSender": PROD_EMAIL_SENDER,
            "inboundMailDomain": MAIL_DOMAIN,
            "sesReceivingDomains": [MAIL_DOMAIN, MAIL_FORWARDED_DOMAIN],
            "inboundMailRetentionDays": 7,
        },
        nag=True,
    )
