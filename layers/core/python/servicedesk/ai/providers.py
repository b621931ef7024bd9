"""The remote embedding providers, registered in ``embeddings.FACTORIES`` on import.

- ``bedrock``: Amazon Titan Text Embeddings v2 through bedrock-runtime ``InvokeModel``
  (boto3; the endpoint is boto3's choice or ``embedding_base_url``, so a scripted server
  or a VPC endpoint works the same). One text per call (Titan v2 takes one ``inputText``);
  dimensions 256, 512 or 1024, normalised by the service.
- ``openai``: any OpenAI-compatible ``POST {base}/embeddings`` (bearer key, ``dimensions``
  when configured), a batch per call.

Both: bounded time (connect + read timeouts, no retries beyond one), bounded response
size, and every failure an ``EmbeddingError`` (the key never appears in one).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

import httpx

from servicedesk.ai.embeddings import FACTORIES, EmbeddingError
from servicedesk.platform.config import Settings, resolve_secret

TITAN_V2 = "amazon.titan-embed-text-v2:0"
TITAN_DIMENSIONS = (256, 512, 1024)
# Titan v2 accepts 8,192 tokens (about 50,000 characters); beyond it the call fails.
TITAN_MAX_CHARS = 40_000
OPENAI_DEFAULT_MODEL = "text-embedding-3-small"
OPENAI_MAX_BATCH = 64
OPENAI_MAX_CHARS = 24_000
MAX_RESPONSE_BYTES = 16 * 1024 * 1024


def _unit(vector: Any, dim: int | None) -> list[float]:
    """A finite vector of ``dim`` floats (any when None), L2-normalised."""
    if not isinstance(vector, list) or not vector or (dim is not None and len(vector) != dim):
        raise EmbeddingError("the provider answered a vector of the wrong shape")
    try:
        values = [float(x) for x in vector]
    except (TypeError, ValueError) as exc:
        raise EmbeddingError("the provider answered a vector that is not numbers") from exc
    norm = math.sqrt(sum(x * x for x in values))
    if not math.isfinite(norm) or norm == 0:
        raise EmbeddingError("the provider answered a zero or non-finite vector")
    return [x / norm for x in values]


class BedrockTitanEmbedder:
    def __init__(
        self,
        *,
        model: str = TITAN_V2,
        dimensions: int = 1024,
        endpoint_url: str | None = None,
        region: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        if dimensions not in TITAN_DIMENSIONS:
            raise EmbeddingError(
                f"Titan v2 embeds in {TITAN_DIMENSIONS} dimensions, not {dimensions}"
            )
        from botocore.config import Config

        from servicedesk.platform.aws import botocore_session

        self._model = model
        self._dim = dimensions
        self._client = botocore_session().create_client(
            "bedrock-runtime",
            region_name=region,
            endpoint_url=endpoint_url,
            config=Config(
                connect_timeout=min(timeout, 5.0),
                read_timeout=timeout,
                retries={"max_attempts": 2, "mode": "standard"},
            ),
        )

    @property
    def model_id(self) -> str:
        return f"{self._model}/{self._dim}"

    @property
    def dim(self) -> int:
        return self._dim

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return [self._one(text) for text in texts]

    def _one(self, text: str) -> list[float]:
        from botocore.exceptions import BotoCoreError, ClientError

        body = {
            "inputText": text[:TITAN_MAX_CHARS] or " ",
            "dimensions": self._dim,
            "normalize": True,
        }
        try:
            response = self._client.invoke_model(
                modelId=self._model,
                body=json.dumps(body),
                contentType="application/json",
                accept="application/json",
            )
            stream = response["body"]
            raw = stream.read(MAX_RESPONSE_BYTES + 1)
            stream.close()
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "error")
            raise EmbeddingError(f"Bedrock refused the embedding: {code}") from exc
        except BotoCoreError as exc:
            raise EmbeddingError(f"Bedrock is unreachable: {type(exc).__name__}") from exc
        if len(raw) > MAX_RESPONSE_BYTES:
            raise EmbeddingError("Bedrock answered more than an embedding")
        try:
            document = json.loads(raw)
        except ValueError as exc:
            raise EmbeddingError("Bedrock answered something that is not JSON") from exc
        if not isinstance(document, dict):
            raise EmbeddingError("Bedrock answered something that is not an embedding")
        return _unit(document.get("embedding"), self._dim)


class OpenAICompatibleEmbedder:
    def __init__(
        self,
        *,
        base_url: str,
        model: str = OPENAI_DEFAULT_MODEL,
        api_key: str | None = None,
        dimensions: int | None = None,
        timeout: float = 10.0,
    ) -> None:
        self._url = base_url.rstrip("/") + "/embeddings"
        self._model = model
        self._dimensions = dimensions
        self._dim: int | None = dimensions
        headers = {"Accept": "application/json"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self._http = httpx.Client(
            headers=headers, timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0))
        )

    @property
    def model_id(self) -> str:
        return self._model if self._dimensions is None else f"{self._model}/{self._dimensions}"

    @property
    def dim(self) -> int:
        if self._dim is None:
            # The model's native size: learned from one call.
            self._dim = len(self.embed(["dimension"])[0])
        return self._dim

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        out: list[list[float]] = []
        for start in range(0, len(texts), OPENAI_MAX_BATCH):
            out.extend(self._batch(texts[start : start + OPENAI_MAX_BATCH]))
        return out

    def _post(self, body: dict[str, Any]) -> bytes:
        try:
            with self._http.stream("POST", self._url, json=body) as response:
                if response.status_code >= 400:
                    raise EmbeddingError(f"the embedding endpoint answered {response.status_code}")
                raw = b""
                for chunk in response.iter_bytes():
                    raw += chunk
                    if len(raw) > MAX_RESPONSE_BYTES:
                        raise EmbeddingError("the embedding endpoint answered too much")
                return raw
        except httpx.TimeoutException as exc:
            raise EmbeddingError("the embedding endpoint timed out") from exc
        except httpx.HTTPError as exc:
            raise EmbeddingError(
                f"the embedding endpoint is unreachable: {type(exc).__name__}"
            ) from exc

    def _batch(self, texts: Sequence[str]) -> list[list[float]]:
        body: dict[str, Any] = {
            "model": self._model,
            "input": [text[:OPENAI_MAX_CHARS] or " " for text in texts],
            "encoding_format": "float",
        }
        if self._dimensions is not None:
            body["dimensions"] = self._dimensions
        try:
            document = json.loads(self._post(body))
            data = sorted(document["data"], key=lambda item: int(item["index"]))
            vectors = [item["embedding"] for item in data]
        except (ValueError, KeyError, TypeError) as exc:
            raise EmbeddingError("the embedding endpoint answered something else") from exc
        if len(vectors) != len(texts):
            raise EmbeddingError("the embedding endpoint answered a different number of vectors")
        result = [_unit(vector, self._dim) for vector in vectors]
        if self._dim is None:
            self._dim = len(result[0])
            if any(len(vector) != self._dim for vector in result):
                raise EmbeddingError("the embedding endpoint answered vectors of mixed sizes")
        return result


def _bedrock(settings: Settings) -> BedrockTitanEmbedder:
    return BedrockTitanEmbedder(
        model=settings.embedding_model or TITAN_V2,
        dimensions=settings.embedding_dimensions or 1024,
        endpoint_url=settings.embedding_base_url,
        timeout=settings.embedding_timeout_seconds,
    )


def _openai(settings: Settings) -> OpenAICompatibleEmbedder:
    if not settings.embedding_base_url:
        raise EmbeddingError("the openai embedding provider needs embedding_base_url")
    return OpenAICompatibleEmbedder(
        base_url=settings.embedding_base_url,
        model=settings.embedding_model or OPENAI_DEFAULT_MODEL,
        api_key=resolve_secret(settings.embedding_api_key, settings.embedding_api_key_secret_arn),
        dimensions=settings.embedding_dimensions,
        timeout=settings.embedding_timeout_seconds,
    )


FACTORIES["bedrock"] = _bedrock
FACTORIES["openai"] = _openai
