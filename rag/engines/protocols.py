"""The model interfaces the pipeline depends on (the local engines, remote ones and test fakes implement them), and
an embedder that remembers the vectors it made."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from rag.records import Prompt


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


@dataclass(frozen=True)
class Piece:
    """A piece of a generator's streamed text, with the least probability the model gave a token of it (None where
    the engine does not say)."""

    text: str
    probability: float | None = None


def joined(pieces: Iterable[Piece]) -> str:
    """The text of streamed pieces, put together."""
    return "".join(piece.text for piece in pieces)


class Generator(Protocol):
    """Writes an answer to a prompt, streamed as pieces of text that say how sure the model was."""

    @property
    def model_id(self) -> str: ...

    def stream(self, prompt: Prompt) -> Iterator[Piece]: ...

    def warm_up(self, prompts: Sequence[Prompt] = ()) -> None:
        """Load the model now rather than on first use, and read the fixed heads of `prompts` ahead of time."""


class RememberingEmbedder:
    """An Embedder that embeds each distinct text (with its title) once and hands back the same vector after that,
    for the `capacity` texts used last. Checking one draft compares the same sentences with each passage and then
    with all of them; and over a conversation or an eval the same passages come back, so their clauses are cut and
    their sentences checked without embedding them again. Indexing (`advance` given) passes straight through."""

    def __init__(self, embedder: Embedder, capacity: int = 20_000) -> None:
        self.embedder = embedder
        self.capacity = capacity
        # (query | document, title, text) -> vector, the one used longest ago first
        self._vectors: OrderedDict[tuple[str, str, str], np.ndarray] = OrderedDict()
        self._lock = threading.Lock()  # a server answers several questions at once

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
        keys = [("query", "", text) for text in texts]
        return self._embed(keys, lambda new: self.embedder.embed_queries([text for _, _, text in new]))

    def embed_documents(
        self, texts: Sequence[str], titles: Sequence[str] | None = None, advance: Callable[[int], None] | None = None
    ) -> np.ndarray:
        if advance is not None:  # indexing: every text is new
            return self.embedder.embed_documents(texts, titles, advance)
        keys = [("document", title, text) for text, title in zip(texts, titles or [""] * len(texts), strict=True)]

        def embed(new: list[tuple[str, str, str]]) -> np.ndarray:
            new_titles = [title for _, title, _ in new] if titles is not None else None
            return self.embedder.embed_documents([text for _, _, text in new], new_titles)

        return self._embed(keys, embed)

    def _embed(
        self, keys: list[tuple[str, str, str]], embed: Callable[[list[tuple[str, str, str]]], np.ndarray]
    ) -> np.ndarray:
        if not keys:
            return embed([])  # an empty array of the embedder's own shape
        unique = list(dict.fromkeys(keys))
        with self._lock:
            found = {key: self._vectors[key] for key in unique if key in self._vectors}
        new = [key for key in unique if key not in found]
        if new:
            found.update(zip(new, embed(new), strict=True))
        with self._lock:
            for key in unique:
                self._vectors[key] = found[key]
                self._vectors.move_to_end(key)
            while len(self._vectors) > self.capacity:
                self._vectors.popitem(last=False)
        return np.stack([found[key] for key in keys])
