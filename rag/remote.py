"""Remote engines: generation and embeddings from any OpenAI-compatible server, failures as one-line errors."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import urlsplit

import numpy as np

from rag.errors import (
    EngineBadResponse,
    EngineError,
    EngineFailed,
    EngineTimeout,
    EngineUnreachable,
    MissingDependency,
)
from rag.prompting import Prompt, chat_messages

EMBED_BATCH = 32
_PIECE = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]|[^\W_]+|[^\w\s]")


class Engine:
    """One remote server: a lazily made OpenAI client (no retries, explicit timeout) and its error translation."""

    def __init__(self, role: str, url: str, api_key: str = "", timeout_s: float = 60.0) -> None:
        self.role = role  # "generation" or "embedding", named in every error message
        self.url = with_api_path(url)
        self.api_key = api_key
        self.timeout_s = timeout_s
        self._client: Any = None

    @property
    def client(self) -> Any:
        if self._client is None:
            try:
                import openai
            except ImportError:
                raise MissingDependency("the openai package is missing: pip install openai") from None
            timeout = openai.Timeout(self.timeout_s, connect=min(self.timeout_s, 10.0))
            self._client = openai.OpenAI(
                base_url=self.url, api_key=self.api_key or "none", timeout=timeout, max_retries=0
            )
        return self._client

    @contextlib.contextmanager
    def errors(self) -> Iterator[None]:
        """Turn a failed call into one EngineError that names the engine and what went wrong."""
        import openai

        where = f"the {self.role} engine at {self.url}"
        try:
            yield
        except EngineError:
            raise
        except openai.APITimeoutError:
            raise EngineTimeout(f"{where} did not answer within {self.timeout_s:g} s") from None
        except openai.APIConnectionError as exc:
            raise EngineUnreachable(f"cannot reach {where} ({_reason(exc.__cause__ or exc)})") from None
        except openai.APIStatusError as exc:
            raise EngineFailed(f"{where} answered HTTP {exc.status_code}{_hint(exc.status_code)}") from None
        except openai.APIResponseValidationError as exc:
            raise EngineBadResponse(f"{where} sent a malformed response ({_reason(exc)})") from None
        except openai.APIError as exc:  # an error event inside a stream
            raise EngineFailed(f"{where} reported an error: {_reason(exc)}") from None
        except (ValueError, TypeError, AttributeError, KeyError, IndexError) as exc:  # not JSON, or another shape
            raise EngineBadResponse(f"{where} sent a malformed response ({type(exc).__name__})") from None

    def malformed(self, what: str) -> EngineBadResponse:
        return EngineBadResponse(f"the {self.role} engine at {self.url} sent a malformed response ({what})")

    def first_model(self) -> str:
        """The first model the server lists, for when no model name is configured."""
        with self.errors():
            ids = [getattr(m, "id", None) for m in self.client.models.list()]
        if not ids or not isinstance(ids[0], str):
            raise self.malformed("no model in /models")
        return ids[0]


def with_api_path(url: str) -> str:
    """The base URL the OpenAI client needs: `http://host:8080` becomes `http://host:8080/v1`."""
    url = url.rstrip("/")
    return url + "/v1" if urlsplit(url).path in ("", "/") else url


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.split("] ", 1)[-1].lower() if text.startswith("[Errno") else text.splitlines()[0][:160]


def _hint(status: int) -> str:
    if status in (401, 403):
        return ": the key was refused (set RAG_LLM_API_KEY / RAG_EMBED_API_KEY)"
    if status == 404:
        return ": no such model or path (check the URL ends in /v1 and RAG_LLM_MODEL / RAG_EMBED_MODEL)"
    return " (a server error)" if status >= 500 else ""


class RemoteGenerator:
    """Streams answers from `/v1/chat/completions`, with the same prompt a local chat-template model gets."""

    def __init__(self, url: str, model: str = "", api_key: str = "", timeout_s: float = 60.0, max_tokens: int = 96):
        self.engine = Engine("generation", url, api_key, timeout_s)
        self.max_tokens = max_tokens
        self._model = model

    @property
    def model(self) -> str:
        if not self._model:
            self._model = self.engine.first_model()
        return self._model

    @property
    def model_id(self) -> str:
        return f"remote:{self._model or self.engine.url}"

    def warm_up(self) -> None:
        """Ask the server for its model now, so that a wrong URL shows before the first question."""
        self.model  # noqa: B018

    def stream(self, prompt: Prompt) -> Iterator[str]:
        """Yield the answer's text pieces as the engine sends them; closing the iterator closes the connection,
        which stops the engine's generation."""
        with self.engine.errors():
            chunks = self.engine.client.chat.completions.create(
                model=self.model,
                messages=chat_messages(prompt),
                max_tokens=self.max_tokens,
                temperature=0.0,
                stream=True,
            )
            with chunks:
                received = 0
                for received, chunk in enumerate(chunks, 1):  # noqa: B007 - the count is read after the loop
                    piece = self._text(chunk)
                    if piece:
                        yield piece
                if not received:
                    raise self.engine.malformed("an empty stream")

    def _text(self, chunk: Any) -> str:
        choices = getattr(chunk, "choices", None)
        if not isinstance(choices, list):
            raise self.engine.malformed("a chunk without choices")
        if not choices:  # some servers end with a usage-only chunk
            return ""
        content = getattr(getattr(choices[0], "delta", None), "content", None)
        if content is not None and not isinstance(content, str):
            raise self.engine.malformed("content is not text")
        return content or ""


class RemoteEmbedder:
    """Unit vectors from `/v1/embeddings`; its id names the remote model, so an index built with another is refused."""

    def __init__(self, url: str, model: str = "", api_key: str = "", timeout_s: float = 60.0) -> None:
        self.engine = Engine("embedding", url, api_key, timeout_s)
        self._model = model
        self._probe: tuple[str, int] | None = None  # (model named in the server's answer, dimension)

    @property
    def model(self) -> str:
        if not self._model:
            self._model = self.engine.first_model()
        return self._model

    @property
    def model_id(self) -> str:
        return f"remote:{self.probe[0]}"

    def warm_up(self) -> None:
        """Reach the server now, so that a wrong URL shows before the first question."""
        self.probe  # noqa: B018

    @property
    def dimension(self) -> int:
        return self.probe[1]

    @property
    def probe(self) -> tuple[str, int]:
        """Embed one word to learn the model's name as the server reports it and the vector size."""
        if self._probe is None:
            with self.engine.errors():
                response = self.engine.client.embeddings.create(
                    model=self.model, input=["probe"], encoding_format="float"
                )
            vector = self._vectors(response, 1)[0]
            name = getattr(response, "model", None)
            self._probe = (name if isinstance(name, str) and name else self.model, len(vector))
        return self._probe

    def count_tokens(self, text: str) -> int:
        """An estimate, as the API has no tokenizer: a word, a Chinese character or a punctuation mark counts
        one token, a long word more."""
        return max(1, sum(1 + len(piece) // 8 for piece in _PIECE.findall(text)))

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts)

    def embed_documents(
        self, texts: Sequence[str], titles: Sequence[str] | None = None, progress: bool = False
    ) -> np.ndarray:
        return self._embed(texts)

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), np.float32)
        parts = []
        for start in range(0, len(texts), EMBED_BATCH):
            batch = list(texts[start : start + EMBED_BATCH])
            with self.engine.errors():
                response = self.engine.client.embeddings.create(model=self.model, input=batch, encoding_format="float")
            parts.append(self._vectors(response, len(batch)))
        vectors = np.vstack(parts)
        if self._probe and vectors.shape[1] != self._probe[1]:
            raise self.engine.malformed(f"vectors of {vectors.shape[1]} numbers, earlier {self._probe[1]}")
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return (vectors / np.where(norms > 0, norms, 1.0)).astype(np.float32)

    def _vectors(self, response: Any, count: int) -> np.ndarray:
        data = getattr(response, "data", None)
        if not isinstance(data, list) or len(data) != count:
            raise self.engine.malformed(f"expected {count} embeddings")
        ordered = sorted(data, key=lambda item: getattr(item, "index", 0) or 0)
        try:
            vectors = np.array([item.embedding for item in ordered], dtype=np.float32)
        except (AttributeError, TypeError, ValueError):
            raise self.engine.malformed("embeddings are not lists of numbers") from None
        if vectors.ndim != 2 or vectors.shape[1] == 0:
            raise self.engine.malformed("embeddings are not one vector per input")
        return vectors
