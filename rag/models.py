"""The model interfaces the pipeline depends on (the local engines, remote ones and test fakes implement them), and
an embedder that embeds each text once."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Protocol

import numpy as np

from rag.prompting import Prompt


class Embedder(Protocol):
    """Turns text into unit vectors (inner product = cosine) and measures text in its own tokens."""

    @property
    def model_id(self) -> str: ...

    @property
    def dimension(self) -> int: ...

    def count_tokens(self, text: str) -> int: ...

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_documents(
        self, texts: Sequence[str], titles: Sequence[str] | None = None, advance: Callable[[int], None] | None = None
    ) -> np.ndarray:
        """Passage vectors; `advance` is told how many texts are done as the work goes on."""

    def warm_up(self) -> None:
        """Load the model now rather than on first use."""


class Piece(str):
    """A piece of a generator's streamed text, with the least probability the model gave a token of it (None where
    the engine does not say). It is text: whoever needs only the words reads it as a str."""

    probability: float | None

    def __new__(cls, text: str, probability: float | None = None) -> Piece:
        piece = super().__new__(cls, text)
        piece.probability = probability
        return piece


class Generator(Protocol):
    """Writes an answer to a prompt, streamed as text pieces (a `Piece` also says how sure the model was)."""

    @property
    def model_id(self) -> str: ...

    def stream(self, prompt: Prompt) -> Iterator[str]: ...

    def warm_up(self) -> None:
        """Load the model now rather than on first use."""


class RememberingEmbedder:
    """An Embedder that embeds each distinct text once and hands back the same vector after that. Checking one draft
    compares the same sentences with each passage and then with all of them, and a translation with a passage
    already embedded for the checks; one instance serves one question."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self._vectors: dict[tuple[str, str], np.ndarray] = {}  # (query | document, text) -> vector

    @property
    def model_id(self) -> str:
        return self.embedder.model_id

    @property
    def dimension(self) -> int:
        return self.embedder.dimension

    def count_tokens(self, text: str) -> int:
        return self.embedder.count_tokens(text)

    def warm_up(self) -> None:
        self.embedder.warm_up()

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed("query", texts, self.embedder.embed_queries)

    def embed_documents(
        self, texts: Sequence[str], titles: Sequence[str] | None = None, advance: Callable[[int], None] | None = None
    ) -> np.ndarray:
        if titles is not None or advance is not None:  # a title changes the vector; titled texts do not repeat
            return self.embedder.embed_documents(texts, titles, advance)
        return self._embed("document", texts, self.embedder.embed_documents)

    def _embed(self, kind: str, texts: Sequence[str], embed: Callable[[Sequence[str]], np.ndarray]) -> np.ndarray:
        if not texts:
            return embed(texts)  # an empty array of the embedder's own shape
        new = [text for text in dict.fromkeys(texts) if (kind, text) not in self._vectors]
        if new:
            self._vectors.update(((kind, text), vector) for text, vector in zip(new, embed(new)))
        return np.stack([self._vectors[kind, text] for text in texts])
