"""The embedding provider in AWS: the functions that embed text (the kb and assistant API
functions, the knowledge consumer) get its settings and may invoke the one configured
Bedrock model; no other function may."""

from __future__ import annotations

import json
from typing import Any

from tests.infra.conftest import Synthesized
from tests.infra.test_stacks import _all_resources, _service_of, _statements_by_function

EMBEDDERS = {"kb", "assistant", "knowledge_consumer"}


def test_only_the_embedding_functions_may_invoke_the_configured_bedrock_model(
    dev: Synthesized,
) -> None:
    statements = _statements_by_function(dev, lambda a: a.startswith("bedrock:"))
    embedders = {name for name, found in statements.items() if _invokes_titan(found)}
    assert embedders >= EMBEDDERS
    # The language model (assistant, drafts) may add its own grants; embeddings add no more.
    for name in set(statements) - EMBEDDERS:
        assert not _invokes_titan(statements[name]), name


def _invokes_titan(statements: list[dict[str, Any]]) -> bool:
    return any(
        statement["Action"] == "bedrock:InvokeModel"
        and "*" not in json.dumps(statement["Resource"])
        and "foundation-model/amazon.titan-embed-text-v2:0" in json.dumps(statement["Resource"])
        for statement in statements
    )


def test_the_embedding_functions_get_the_provider_settings(dev: Synthesized) -> None:
    seen = set()
    for _, _, fn in _all_resources(dev.templates, "AWS::Lambda::Function"):
        name = _service_of(fn)
        env = fn["Properties"].get("Environment", {}).get("Variables", {})
        if name in EMBEDDERS:
            seen.add(name)
            assert env["SERVICEDESK_EMBEDDING_PROVIDER"] == "bedrock", name
            assert env["SERVICEDESK_EMBEDDING_MODEL"] == "amazon.titan-embed-text-v2:0", name
            assert env["SERVICEDESK_EMBEDDING_DIMENSIONS"] == "1024", name
        else:
            assert "SERVICEDESK_EMBEDDING_PROVIDER" not in env, name
    assert seen == EMBEDDERS
