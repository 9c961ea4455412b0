"""The model interfaces the pipeline depends on; the local engines, remote ones and test fakes implement them."""

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


class Generator(Protocol):
    """Writes an answer to a prompt, streamed as text pieces."""

    @property
    def model_id(self) -> str: ...

    def stream(self, prompt: Prompt) -> Iterator[str]: ...

    def warm_up(self) -> None:
        """Load the model now rather than on first use."""
