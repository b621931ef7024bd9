"""Optional Sentry (platform/sentry.py) as the stacks wire it: with ``sentryDsnSecret`` every
function of ours knows the DSN's secret and may read it, and none in the VPC is left in the
isolated subnets (Sentry is outside AWS); without it, nothing of the kind exists."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.infra.conftest import SENTRY_DSN_SECRET, Synthesized
from tests.infra.test_stacks import _all_resources

pytestmark = pytest.mark.infra

ENV = "SERVICEDESK_SENTRY_DSN_SECRET_ARN"


def _ours(sd: Synthesized) -> list[tuple[str, str, dict[str, Any]]]:
    """Our functions (every template, nested ones included): those with our stage variable."""
    return [
        (stack, logical_id, fn)
        for stack, logical_id, fn in _all_resources(sd.templates, "AWS::Lambda::Function")
        if "SERVICEDESK_STAGE" in fn["Properties"].get("Environment", {}).get("Variables", {})
    ]


def _policies_of(sd: Synthesized, stack: str, role_ref: dict[str, Any]) -> str:
    """Every inline policy attached to the role ``role_ref`` (a Fn::GetAtt on it), as text."""
    role = role_ref["Fn::GetAtt"][0]
    return json.dumps(
        [
            p["Properties"]["PolicyDocument"]
            for p in sd.templates[stack].find_resources("AWS::IAM::Policy").values()
            if {"Ref": role} in p["Properties"]["Roles"]
        ]
    )


def test_with_a_dsn_secret_every_function_reads_it_and_can_reach_sentry(
    sentry: Synthesized,
) -> None:
    functions = _ours(sentry)
    assert len(functions) > 30  # the API's, the consumers', the schedules', the sockets'
    for stack, logical_id, fn in functions:
        props = fn["Properties"]
        assert props["Environment"]["Variables"][ENV] == SENTRY_DSN_SECRET, logical_id
        policies = _policies_of(sentry, stack, props["Role"])
        assert "secretsmanager:GetSecretValue" in policies, logical_id
        assert f"secret:{SENTRY_DSN_SECRET}-??????" in policies, logical_id
        if "VpcConfig" in props:
            subnets = json.dumps(props["VpcConfig"]["SubnetIds"])
            assert "isolated" not in subnets.lower(), (logical_id, subnets)
            assert "egress" in subnets.lower(), (logical_id, subnets)


def test_without_one_nothing_knows_of_sentry_and_isolated_stays_isolated(
    prod: Synthesized,
) -> None:
    isolated = 0
    for stack, logical_id, fn in _ours(prod):
        props = fn["Properties"]
        assert ENV not in props["Environment"]["Variables"], logical_id
        assert "sentry" not in _policies_of(prod, stack, props["Role"]).lower(), logical_id
        if "isolated" in json.dumps(props.get("VpcConfig", {})).lower():
            isolated += 1
    assert isolated > 10
