"""The assistant function's infrastructure: egress (the model's endpoint, @connections),
POST to its caller's WebSocket connections, and the language model as configured: an
OpenAI-compatible endpoint with its key in Secrets Manager, or Bedrock on one model."""

from __future__ import annotations

import json
from typing import Any

import pytest

from stacks.config import DeploymentConfig
from tests.infra.conftest import CONTEXT, Synthesized, synthesize
from tests.infra.test_stacks import (
    _as_list,
    _data_ref,
    _logical_id,
    _statements_by_function,
    _subnet_type,
)

GROQ = "https://api.groq.com/openai/v1"
BEDROCK_MODEL = "openai.gpt-oss-20b-1:0"


@pytest.fixture(scope="module")
def with_openai(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    context = {**CONTEXT, "llmProvider": "openai", "llmBaseUrl": GROQ}
    return synthesize(tmp_path_factory.mktemp("cdk.out.llm-openai"), context=context, nag=False)


@pytest.fixture(scope="module")
def with_bedrock(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    context = {**CONTEXT, "llmProvider": "bedrock", "llmModel": BEDROCK_MODEL}
    return synthesize(tmp_path_factory.mktemp("cdk.out.llm-bedrock"), context=context, nag=False)


def _function(synthesized: Synthesized) -> dict[str, Any]:
    resources = synthesized.templates["Api"].to_json()["Resources"]
    return dict(resources[_logical_id(synthesized.sd.api.functions["assistant"].function)])


def _env(synthesized: Synthesized) -> dict[str, Any]:
    return dict(_function(synthesized)["Properties"]["Environment"]["Variables"])


def test_the_assistant_posts_to_connections_from_the_egress_subnets(dev: Synthesized) -> None:
    data = dev.templates["Data"].to_json()
    subnets = [_data_ref(data, s) for s in _function(dev)["Properties"]["VpcConfig"]["SubnetIds"]]
    assert {_subnet_type(data["Resources"], s) for s in subnets} == {"Private"}
    assert "SERVICEDESK_WEBSOCKET_MANAGEMENT_URL" in _env(dev)
    (statement,) = _statements_by_function(dev, lambda a: a.startswith("execute-api:"))["assistant"]
    assert statement["Action"] == "execute-api:ManageConnections"
    resource = json.dumps(statement["Resource"])
    assert "/*/POST/@connections/*" in resource  # post only: it never closes a connection
    assert "WebSocketApiId" in resource
    # No model configured: no model settings, no key, no Bedrock.
    assert not {k for k in _env(dev) if k.startswith("SERVICEDESK_LLM_")}
    assert "assistant" not in _statements_by_function(dev, lambda a: a.startswith("bedrock:"))


def test_openai_compatible_model_key_comes_from_secrets_manager(with_openai: Synthesized) -> None:
    env = _env(with_openai)
    assert env["SERVICEDESK_LLM_PROVIDER"] == "openai"
    assert env["SERVICEDESK_LLM_BASE_URL"] == GROQ
    assert "SERVICEDESK_LLM_API_KEY" not in env  # never the key itself
    secret = with_openai.sd.api.llm_secret
    assert env["SERVICEDESK_LLM_API_KEY_SECRET_ARN"] == {"Ref": _logical_id(secret)}
    secrets = with_openai.templates["Api"].to_json()["Resources"][_logical_id(secret)]
    assert secrets["Properties"]["Name"] == "servicedesk/dev/llm-api-key"
    readers = _statements_by_function(with_openai, lambda a: a.startswith("secretsmanager:Get"))
    assert any(
        {"Ref": _logical_id(secret)} in _as_list(s["Resource"]) for s in readers["assistant"]
    ), readers["assistant"]
    # Only the assistant reads it.
    assert [
        name
        for name, statements in readers.items()
        if any({"Ref": _logical_id(secret)} in _as_list(s["Resource"]) for s in statements)
    ] == ["assistant"]
    assert "assistant" not in _statements_by_function(
        with_openai, lambda a: a.startswith("bedrock:")
    )


def test_bedrock_model_may_be_invoked_and_nothing_else(with_bedrock: Synthesized) -> None:
    env = _env(with_bedrock)
    assert env["SERVICEDESK_LLM_PROVIDER"] == "bedrock"
    assert env["SERVICEDESK_LLM_MODEL"] == BEDROCK_MODEL
    assert "SERVICEDESK_LLM_API_KEY_SECRET_ARN" not in env
    (statement,) = _statements_by_function(with_bedrock, lambda a: a.startswith("bedrock:"))[
        "assistant"
    ]
    assert statement["Action"] == "bedrock:InvokeModel"
    assert json.dumps(statement["Resource"]).endswith(
        f':bedrock:", {{"Ref": "AWS::Region"}}, "::foundation-model/{BEDROCK_MODEL}"]]}}'
    )


def test_an_openai_model_needs_its_base_url() -> None:
    with pytest.raises(ValueError, match="llmBaseUrl"):
        DeploymentConfig.model_validate({"llmProvider": "openai"})
    with pytest.raises(ValueError):
        DeploymentConfig.model_validate({"llmProvider": "openai", "llmBaseUrl": "http://x"})
    ok = DeploymentConfig.model_validate({"llmProvider": "bedrock"})
    assert ok.llm_provider == "bedrock"
