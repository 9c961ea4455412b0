"""Sentence-transformers embeddings, loaded lazily from a local folder, L2-normalized float32."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rag.errors import MissingDependency, ModelMissing


class SentenceTransformerEmbedder:
    """Embeds queries and documents with a local sentence-transformers model (loaded on first use)."""

    def __init__(self, path: Path, threads: int = 2, max_tokens: int = 512) -> None:
        self.path = Path(path)
        self.threads = threads
        self.max_tokens = max_tokens
        self._model: Any = None

    @property
    def model_id(self) -> str:
        return self.path.name

    @property
    def model(self) -> Any:
        if self._model is None:
            self._model = self._load()
        return self._model

    def warm_up(self) -> None:
        self.embed_queries(["warm up"])

    def _load(self) -> Any:
        if not (self.path / "modules.json").exists():
            raise ModelMissing(f"embedding model not found at {self.path} (run: python models/fetch.py)")
        try:
            import torch
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise MissingDependency(f"{exc.name} is missing: pip install sentence-transformers") from None
        torch.set_num_threads(self.threads)
        model = SentenceTransformer(str(self.path), device="cpu", local_files_only=True)
        model.max_seq_length = self.max_tokens
        return model

    @property
    def dimension(self) -> int:
        return int(self.model.get_embedding_dimension())

    def count_tokens(self, text: str) -> int:
        return len(self.model.tokenizer(text, add_special_tokens=False)["input_ids"])

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode([self._prompt("query") + t for t in texts], batch_size=8)

    def embed_documents(
        self, texts: Sequence[str], titles: Sequence[str] | None = None, progress: bool = False
    ) -> np.ndarray:
        """Embed passages; the model's document prompt carries each title when it has a title slot."""
        prompt = self._prompt("document")
        titles = titles or ["none"] * len(texts)
        if "title: none" in prompt:
            texts = [prompt.replace("title: none", f"title: {title or 'none'}") + t for t, title in zip(texts, titles)]
        else:
            texts = [prompt + t for t in texts]
        return self._encode(texts, batch_size=16, progress=progress)

    def _prompt(self, name: str) -> str:
        return str(getattr(self.model, "prompts", {}).get(name, ""))

    def _encode(self, texts: Sequence[str], batch_size: int, progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        # Sorting by length keeps padding, and so time, low inside each batch.
        order = np.argsort([-len(t) for t in texts], kind="stable")
        vectors = self.model.encode(
            [texts[i] for i in order],
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        out = np.empty_like(vectors, dtype=np.float32)
        out[order] = vectors
        return out
