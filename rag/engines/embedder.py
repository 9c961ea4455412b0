"""Sentence-transformers embeddings, loaded lazily from a local folder, L2-normalized float32.

With `int8` (RAG_EMBED_INT8=1) the transformer's Linear layers run as int8 on a CPU (dynamic quantization, weights
per output channel), for queries and documents alike, so both live in one vector space; the model id says so, and
an index built with the other encoder is refused. A CUDA GPU, when present, runs the float model.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rag.errors import MissingDependency, ModelMissing

Advance = Callable[[int], None]  # called with the number of texts embedded so far
SLICE = 32  # texts per progress report
# The MLP's down projection reads activations with a few huge channels: int8 activations cannot hold them (vectors
# drift to cosine 0.96 of the float model's), so it stays float (cosine 0.99).
KEEP_FLOAT = ("down_proj",)
# Texts per forward pass, sorted by length. int8 activations are scaled per batch, and a batch never mixes files
# (indexing embeds one file at a time), so a file's vectors depend only on that file: re-indexing it reproduces them.
BATCH = {"cpu": 16, "cuda": 64}


class SentenceTransformerEmbedder:
    """Embeds queries and documents with a local sentence-transformers model (loaded on first use)."""

    def __init__(
        self,
        path: Path,
        threads: int = 2,
        max_tokens: int = 512,
        int8: bool = False,
        batch_size: int | None = None,
        keep_float: tuple[str, ...] = KEEP_FLOAT,
        sort_by_length: bool = True,
    ) -> None:
        self.path = Path(path)
        self.threads = threads
        self.max_tokens = max_tokens
        self.int8 = int8
        self.batch_size = batch_size  # texts per forward pass; None: BATCH for the device
        self.keep_float = keep_float  # with int8: the Linear layers (by name ending) that stay float
        self.sort_by_length = sort_by_length  # texts batched by length (False: in the order given; the bench times it)
        self._model: Any = None
        self._device: str | None = None

    @property
    def device(self) -> str:
        if self._device is None:
            import torch

            self._device = "cuda" if torch.cuda.is_available() else "cpu"
        return self._device

    @property
    def quantized(self) -> bool:
        return self.int8 and self.device == "cpu"

    @property
    def model_id(self) -> str:
        return self.path.name + ("+int8" if self.quantized else "")

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
        model = SentenceTransformer(str(self.path), device=self.device, local_files_only=True)
        model.max_seq_length = self.max_tokens
        if self.quantized:
            quantize_int8(model[0].auto_model, self.keep_float)
        return model

    @property
    def dimension(self) -> int:
        return int(self.model.get_embedding_dimension())

    def count_tokens(self, text: str) -> int:
        return len(self.model.tokenizer(text, add_special_tokens=False)["input_ids"])

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode([self._prompt("query") + t for t in texts])

    def embed_documents(
        self, texts: Sequence[str], titles: Sequence[str] | None = None, advance: Advance | None = None
    ) -> np.ndarray:
        """Embed passages; the model's document prompt carries each title when it has a title slot."""
        prompt = self._prompt("document")
        titles = titles or ["none"] * len(texts)
        if "title: none" in prompt:
            texts = [prompt.replace("title: none", f"title: {title or 'none'}") + t for t, title in zip(texts, titles)]
        else:
            texts = [prompt + t for t in texts]
        return self._encode(texts, advance)

    def _prompt(self, name: str) -> str:
        return str(getattr(self.model, "prompts", {}).get(name, ""))

    def _encode(self, texts: Sequence[str], advance: Advance | None = None) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        # Sorting by length keeps padding, and so time, low inside each batch.
        order = np.argsort([-len(t) for t in texts], kind="stable") if self.sort_by_length else np.arange(len(texts))
        parts = []
        for start in range(0, len(texts), SLICE):
            batch = [texts[i] for i in order[start : start + SLICE]]
            size = self.batch_size or BATCH[self.device]
            parts.append(self.model.encode(batch, batch_size=size, normalize_embeddings=True))
            if advance:
                advance(start + len(batch))
        out = np.empty((len(texts), parts[0].shape[1]), dtype=np.float32)
        out[order] = np.vstack(parts)
        return out


def quantize_int8(transformer: Any, keep_float: tuple[str, ...] = KEEP_FLOAT) -> None:
    """Replace the Linear layers of a torch model, in place, by int8 ones (weights per output channel,
    activations quantized per call), except those whose names end with `keep_float`."""
    import torch
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    chosen = {
        name: per_channel_dynamic_qconfig
        for name, module in transformer.named_modules()
        if isinstance(module, torch.nn.Linear) and not (keep_float and name.endswith(keep_float))
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.ao's notice that this API moves to the torchao package
        quantize_dynamic(transformer, chosen, dtype=torch.qint8, inplace=True)
