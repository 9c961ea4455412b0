"""Remote engines: generation and embeddings from any OpenAI-compatible server (see rag.engines.client for its failures)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from rag.engines.client import Engine
from rag.engines.protocols import Piece
from rag.records import Prompt

EMBED_BATCH = 32
_PIECE = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]|[^\W_]+|[^\w\s]")


class RemoteGenerator:
    """Streams answers from `/v1/chat/completions`, with the same prompt a local chat-template model gets."""

    def __init__(self, url: str, model: str = "", api_key: str = "", timeout_s: float = 60.0, max_tokens: int = 96):
        self.engine = Engine("generation", url, model, api_key, timeout_s)
        self.max_tokens = max_tokens
        self._logprobs = True  # ask for log-probabilities, until the engine refuses them

    @property
    def model_id(self) -> str:
        return f"remote:{self.engine.configured_model or self.engine.url}"

    def warm_up(self, prompts: Sequence[Prompt] = ()) -> None:
        """Ask the server for its model now, so that a wrong URL shows before the first question (the server reads
        `prompts` as it will)."""
        self.engine.model  # noqa: B018

    def stream(self, prompt: Prompt) -> Iterator[Piece]:
        """Yield the answer's text pieces as the engine sends them, with their tokens' least probability where the
        engine reports log-probabilities; closing the iterator closes the connection, which stops the engine's
        generation."""
        with self.engine.errors():
            chunks = self._open(prompt)
            with chunks:
                received = 0
                for received, chunk in enumerate(chunks, 1):  # noqa: B007 - the count is read after the loop
                    text = self._text(chunk)
                    if text:
                        yield Piece(text, self._probability(chunk))
                if not received:
                    raise self.engine.malformed("an empty stream")

    def _open(self, prompt: Prompt) -> Any:
        """The engine's stream of chunks, with log-probabilities asked for unless the engine has refused them."""
        import openai

        request: dict[str, Any] = {
            "model": self.engine.model,
            "messages": prompt.messages(),
            "max_tokens": self.max_tokens,
            "temperature": 0.0,
            "stream": True,
        }
        if self._logprobs:
            try:
                return self.engine.client.chat.completions.create(**request, logprobs=True)
            except openai.BadRequestError:  # HTTP 400: an engine that does not know the parameter
                self._logprobs = False  # asked without it from now on
        return self.engine.client.chat.completions.create(**request)

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

    @staticmethod
    def _probability(chunk: Any) -> float | None:
        """The least probability among the chunk's tokens, from the log-probabilities some engines send."""
        tokens = getattr(getattr(chunk.choices[0], "logprobs", None), "content", None) or []
        logprobs = [token.logprob for token in tokens if isinstance(getattr(token, "logprob", None), (int, float))]
        return math.exp(min(logprobs)) if logprobs else None


class RemoteEmbedder:
    """Unit vectors from `/v1/embeddings`; its id names the remote model, so an index built with another is refused."""

    def __init__(self, url: str, model: str = "", api_key: str = "", timeout_s: float = 60.0) -> None:
        self.engine = Engine("embedding", url, model, api_key, timeout_s)
        self._probe: tuple[str, int] | None = None  # (model named in the server's answer, dimension)

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
                    model=self.engine.model, input=["probe"], encoding_format="float"
                )
            vector = self._vectors(response, 1)[0]
            name = getattr(response, "model", None)
            self._probe = (name if isinstance(name, str) and name else self.engine.model, len(vector))
        return self._probe

    def count_tokens(self, text: str) -> int:
        """An estimate, as the API has no tokenizer: a word, a Chinese character or a punctuation mark counts
        one token, a long word more."""
        return max(1, sum(1 + len(piece) // 8 for piece in _PIECE.findall(text)))

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts)

    def embed_documents(
        self, texts: Sequence[str], titles: Sequence[str] | None = None, advance: Callable[[int], None] | None = None
    ) -> np.ndarray:
        return self._embed(texts, advance)

    def _embed(self, texts: Sequence[str], advance: Callable[[int], None] | None = None) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), np.float32)
        parts = []
        for start in range(0, len(texts), EMBED_BATCH):
            batch = list(texts[start : start + EMBED_BATCH])
            with self.engine.errors():
                response = self.engine.client.embeddings.create(
                    model=self.engine.model, input=batch, encoding_format="float"
                )
            parts.append(self._vectors(response, len(batch)))
            if advance:
                advance(start + len(batch))
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
