"""Text embeddings behind one interface, chosen by ``embedding_provider``.

- ``local``: the WordLlama model whose weights ship inside the ``wordllama`` wheel (a
  32,000 x 256 token-embedding table in safetensors and its tokenizer): no download at run
  time. It is loaded here with ``safetensors`` + ``tokenizers`` (average pooling over the
  tokens, then L2 normalisation, as WordLlama's own inference does), not through
  ``WordLlama.load``, which fetches its tokenizer from Hugging Face when it is not in a
  cache. The default for ``make dev`` and the tests; not part of the Lambda layer.
- ``bedrock``: Amazon Titan Text Embeddings v2 (servicedesk.ai.providers, issue 18).
- ``openai``: any OpenAI-compatible ``/v1/embeddings`` endpoint.

Every vector is L2-normalised, so cosine distance is ``1 - dot``. ``model_id`` names the
model and dimension and is what kb_embeddings.model records.
"""

from __future__ import annotations

import functools
import hashlib
import threading
from collections.abc import Callable, Sequence
from typing import Protocol

from servicedesk.platform.config import Settings, get_settings

# Tokens embedded per text: the local model's cost is linear in them; Titan v2 takes 8,192.
LOCAL_MAX_TOKENS = 2048
LOCAL_MODEL = "wordllama-l2-supercat-256"


class EmbeddingError(Exception):
    """The provider failed or answered something that is not an embedding."""


class Embedder(Protocol):
    @property
    def model_id(self) -> str: ...

    @property
    def dim(self) -> int: ...

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """One unit vector of ``dim`` floats per text, in order."""
        ...


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class LocalEmbedder:
    """The packaged WordLlama model (numpy; thread-safe after the first load)."""

    def __init__(self) -> None:
        from importlib.resources import files

        import numpy as np
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        root = files("wordllama")
        weights = load_file(str(root / "weights" / "l2_supercat_256.safetensors"))
        self._table = np.asarray(weights["embedding.weight"], dtype=np.float32)
        self._tokenizer = Tokenizer.from_file(
            str(root / "tokenizers" / "l2_supercat_tokenizer_config.json")
        )
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(LOCAL_MAX_TOKENS)
        self._np = np

    @property
    def model_id(self) -> str:
        return LOCAL_MODEL

    @property
    def dim(self) -> int:
        return int(self._table.shape[1])

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        np = self._np
        out: list[list[float]] = []
        for encoding in self._tokenizer.encode_batch(list(texts), add_special_tokens=False):
            ids = encoding.ids
            if not ids:
                vector = np.zeros(self.dim, dtype=np.float32)
            else:
                vector = self._table[ids].mean(axis=0)
                norm = float(np.linalg.norm(vector))
                if norm > 0:
                    vector = vector / norm
            out.append([float(x) for x in vector])
        return out


_LOCK = threading.Lock()
# Provider name -> factory(settings); the remote providers register themselves here.
FACTORIES: dict[str, Callable[[Settings], Embedder]] = {}
# One client per configuration and process (connection pools, Bedrock's signer).
_REMOTE: dict[tuple[str, str, int | None, str | None], Embedder] = {}


@functools.cache
def _local() -> LocalEmbedder:
    return LocalEmbedder()


def get_embedder(settings: Settings | None = None) -> Embedder:
    """The configured provider (one per process)."""
    settings = settings or get_settings()
    if settings.embedding_provider == "local":
        with _LOCK:
            return _local()
    # The remote providers register themselves (and import httpx/botocore) on first use.
    import servicedesk.ai.providers  # noqa: F401

    factory = FACTORIES.get(settings.embedding_provider)
    if factory is None:
        raise EmbeddingError(f"embedding provider {settings.embedding_provider!r} is not available")
    key = (
        settings.embedding_provider,
        settings.embedding_model,
        settings.embedding_dimensions,
        settings.embedding_base_url,
    )
    with _LOCK:
        made = _REMOTE.get(key)
        if made is None:
            made = _REMOTE[key] = factory(settings)
        return made


def as_literal(vector: Sequence[float]) -> str:
    """A vector as pgvector's text literal ('[0.1,0.2,...]'), for CAST(:v AS vector)."""
    return "[" + ",".join(f"{x:.7g}" for x in vector) + "]"
