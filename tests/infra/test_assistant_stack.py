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
EMBEDDING_MODEL = "amazon.titan-embed-text-v2:0"
# The functions that call the language model: the assistant, and drafts from resolved tickets.
MODEL_CALLERS = ["assistant", "knowledge_consumer"]


def _env_of(synthesized: Synthesized, stack: str, function: Any) -> dict[str, Any]:
    resources = synthesized.templates[stack].to_json()["Resources"]
    return dict(resources[_logical_id(function)]["Properties"]["Environment"]["Variables"])


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
    # No model configured: no model settings, no key, and Bedrock only for the embeddings
    # of the knowledge base search tool.
    assert not {k for k in _env(dev) if k.startswith("SERVICEDESK_LLM_")}
    bedrock = _statements_by_function(dev, lambda a: a.startswith("bedrock:"))
    assert all(EMBEDDING_MODEL in json.dumps(s) for s in bedrock["assistant"])


def test_openai_compatible_model_key_comes_from_secrets_manager(with_openai: Synthesized) -> None:
    env = _env(with_openai)
    assert env["SERVICEDESK_LLM_PROVIDER"] == "openai"
    assert env["SERVICEDESK_LLM_BASE_URL"] == GROQ
    # Each call, and the turn, end inside API Gateway's 29 seconds.
    assert float(env["SERVICEDESK_LLM_TIMEOUT_SECONDS"]) <= 25
    assert float(env["SERVICEDESK_ASSISTANT_TURN_SECONDS"]) < 29
    assert "SERVICEDESK_LLM_API_KEY" not in env  # never the key itself
    secret = with_openai.sd.api.llm_secret
    assert secret is not None and secret is with_openai.sd.asyncq.llm_secret
    assert _logical_id(secret) in json.dumps(env["SERVICEDESK_LLM_API_KEY_SECRET_ARN"])
    secrets = with_openai.templates["Async"].to_json()["Resources"][_logical_id(secret)]
    assert secrets["Properties"]["Name"] == "servicedesk/dev/llm-api-key"
    consumer = with_openai.sd.asyncq.functions["knowledge_consumer"].function
    drafts = _env_of(with_openai, "Async", consumer)
    assert drafts["SERVICEDESK_LLM_PROVIDER"] == "openai"
    assert drafts["SERVICEDESK_LLM_API_KEY_SECRET_ARN"] == {"Ref": _logical_id(secret)}
    readers = _statements_by_function(with_openai, lambda a: a.startswith("secretsmanager:Get"))
    # Only the functions that call the model read it.
    assert (
        sorted(
            name
            for name, statements in readers.items()
            if _logical_id(secret) in json.dumps([s["Resource"] for s in statements])
        )
        == MODEL_CALLERS
    )
    bedrock = _statements_by_function(with_openai, lambda a: a.startswith("bedrock:"))
    assert all(EMBEDDING_MODEL in json.dumps(s) for s in bedrock["assistant"])


def test_bedrock_model_may_be_invoked_and_nothing_else(with_bedrock: Synthesized) -> None:
    env = _env(with_bedrock)
    assert env["SERVICEDESK_LLM_PROVIDER"] == "bedrock"
    assert env["SERVICEDESK_LLM_MODEL"] == BEDROCK_MODEL
    assert "SERVICEDESK_LLM_API_KEY_SECRET_ARN" not in env
    statements = _statements_by_function(with_bedrock, lambda a: a.startswith("bedrock:"))
    for caller in MODEL_CALLERS:
        assert {s["Action"] for s in statements[caller]} == {"bedrock:InvokeModel"}
        resources = [json.dumps(r) for s in statements[caller] for r in _as_list(s["Resource"])]
        # The chat model and the embedding model, each by its own ARN, nothing wider.
        assert sorted(r.split("foundation-model/")[1] for r in resources) == sorted(
            [f'{BEDROCK_MODEL}"]]}}', f'{EMBEDDING_MODEL}"]]}}']
        ), resources
    consumer = with_bedrock.sd.asyncq.functions["knowledge_consumer"].function
    assert _env_of(with_bedrock, "Async", consumer)["SERVICEDESK_LLM_MODEL"] == BEDROCK_MODEL


def test_an_openai_model_needs_its_base_url() -> None:
    with pytest.raises(ValueError, match="llmBaseUrl"):
        DeploymentConfig.model_validate({"llmProvider": "openai"})
    with pytest.raises(ValueError):
        DeploymentConfig.model_validate({"llmProvider": "openai", "llmBaseUrl": "http://x"})
    ok = DeploymentConfig.model_validate({"llmProvider": "bedrock"})
    assert ok.llm_provider == "bedrock"
