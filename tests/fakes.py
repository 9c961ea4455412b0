"""Deterministic stand-ins that implement the Embedder and Generator protocols (rag.models), for fast tests."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator, Sequence

import numpy as np

from rag.lexical import tokenize
from rag.prompting import Prompt


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
    """Answers with the first passage's text and a citation; records the prompts it saw."""

    model_id = "echo"

    def __init__(self, reply: str | None = None) -> None:
        self.reply = reply
        self.prompts: list[Prompt] = []

    def warm_up(self) -> None:
        pass

    def stream(self, prompt: Prompt) -> Iterator[str]:
        self.prompts.append(prompt)
        if self.reply is not None:
            yield self.reply
            return
        first = re.search(r"^\[1\] \([^)]*\) (.*)$", prompt.user, re.MULTILINE)
        text = first.group(1) if first else ""
        yield from (text[:40], text[40:] + " [1]")
