"""Deterministic stand-ins that implement the Embedder and Generator protocols (rag.engines.protocols), for fast tests."""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np

from rag.answer.prompt import TRANSLATE
from rag.engines.protocols import Piece
from rag.records import Prompt
from rag.store.bm25 import tokenize


class HashEmbedder:
    """Bag-of-tokens vectors hashed into a fixed dimension: texts sharing tokens are similar."""

    model_id = "hash-embedder"
    dimension = 512

    def warm_up(self) -> None:
        pass

    def count_tokens(self, text: str) -> int:
        return max(1, len(tokenize(text)) // 2)

    def _vector(self, text: str) -> np.ndarray:
        vector = np.zeros(self.dimension, np.float32)
        for token in tokenize(text):
            vector[int(hashlib.md5(token.encode()).hexdigest(), 16) % self.dimension] += 1.0
        norm = np.linalg.norm(vector)
        return vector / norm if norm else vector

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return np.array([self._vector(t) for t in texts], np.float32).reshape(-1, self.dimension)

    def embed_documents(
        self, texts: Sequence[str], titles: Sequence[str] | None = None, advance: Callable[[int], None] | None = None
    ) -> np.ndarray:
        if advance:
            advance(len(texts))
        return self.embed_queries(texts)


class EchoGenerator:
    """Answers with the first passage's text and a citation (or with `reply`); translates with `translations`
    (source text -> its translation; anything else is "translated" to nothing). Records the prompts it saw.

    With `pieces` and `delay` it streams the answer in that many pieces, pausing before each, like a slow model;
    with `log` it appends a line per piece written and "closed" when it is stopped before the end. With
    `probability`, the pieces of a reply say the model gave their tokens that probability.
    """

    model_id = "echo"

    def __init__(
        self,
        reply: str | None = None,
        translations: dict[str, str] | None = None,
        pieces: int = 2,
        delay: float = 0.0,
        log: Path | None = None,
        probability: float | None = None,
    ) -> None:
        self.reply = reply
        self.probability = probability
        self.translations = translations or {}
        self.pieces = pieces
        self.delay = delay
        self.log = log
        self.prompts: list[Prompt] = []

    def warm_up(self, prompts: Sequence[Prompt] = ()) -> None:
        pass

    def stream(self, prompt: Prompt) -> Iterator[Piece]:
        self.prompts.append(prompt)
        if prompt.system == TRANSLATE:
            source = prompt.user.split("\n\n")[1]  # "Translate into English…\n\n<text>\n\nEnglish translation:"
            yield Piece(self.translations.get(source, ""))
            return
        if self.reply is not None:
            yield Piece(self.reply, self.probability)
            return
        first = re.search(r"^\[1\] \([^)]*\) (.*)$", prompt.user, re.MULTILINE)
        text = (first.group(1) if first else "") + " [1]"
        size = -(-len(text) // self.pieces)
        try:
            for start in range(0, len(text), size):
                time.sleep(self.delay)
                self._note(f"piece {start}")
                yield Piece(text[start : start + size])
        except GeneratorExit:
            self._note("closed")
            raise

    def _note(self, line: str) -> None:
        if self.log:
            with open(self.log, "a", encoding="utf-8") as handle:
                handle.write(line + "\n")
