"""Answer generation with any local GGUF model through llama-cpp-python, loaded on first use."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from rag.errors import MissingDependency, ModelMissing
from rag.preflight import ensure_engine_runs
from rag.prompting import Prompt, chat_messages

STOP = ["\n"]  # base-model answers are one line, as in the worked examples
# UTF-8 lead bytes of U+3000-U+9FFF (CJK punctuation, kana, Han): a token holding one writes Chinese script.
CJK_LEAD_BYTES = frozenset(range(0xE3, 0xEA))


class LlamaCppGenerator:
    """Streams text from a GGUF model; uses its chat template when the file carries one."""

    def __init__(
        self, path: Path, n_ctx: int = 2048, threads: int = 2, max_tokens: int = 96, state_dir: Path | None = None
    ) -> None:
        self.path = Path(path)
        self.state_dir = state_dir  # where the engine pre-flight check is remembered; None: no check
        self.n_ctx = n_ctx
        self.threads = threads
        self.max_tokens = max_tokens
        self._llm: Any = None
        self._no_cjk: np.ndarray | None = None

    @property
    def model_id(self) -> str:
        return self.path.name

    @property
    def llm(self) -> Any:
        if self._llm is None:
            self._llm = self._load()
        return self._llm

    def _load(self) -> Any:
        if not self.path.is_file():
            raise ModelMissing(f"GGUF model not found at {self.path} (run: python models/fetch.py, or set RAG_GGUF)")
        try:
            from llama_cpp import Llama
        except ImportError:
            raise MissingDependency("llama-cpp-python is missing: pip install llama-cpp-python") from None
        if self.state_dir is not None:  # a crash in a child process is a message; in this one it would be the end
            ensure_engine_runs(self.path, self.threads, self.state_dir)
        try:
            return Llama(
                str(self.path), n_ctx=self.n_ctx, n_threads=self.threads, n_threads_batch=self.threads, verbose=False
            )
        except ValueError as exc:
            raise ModelMissing(f"{self.path.name} is not a loadable GGUF model ({exc})") from None

    @property
    def has_chat_template(self) -> bool:
        return bool(self.llm.metadata.get("tokenizer.chat_template"))

    def warm_up(self) -> None:
        """Load the model and build its Chinese-script mask now, so that the first question waits for neither."""
        self._cjk_offsets()

    def stream(self, prompt: Prompt) -> Iterator[str]:
        """Yield the answer's text pieces as the model writes them (greedy decoding). A reply due in English or
        Vietnamese cannot write Chinese script: small multilingual models otherwise slip "新西兰" into English."""
        processors = [self._without_cjk] if prompt.language in ("en", "vi") else None
        if self.has_chat_template:
            chunks = self.llm.create_chat_completion(
                chat_messages(prompt),
                max_tokens=self.max_tokens,
                temperature=0.0,
                stream=True,
                logits_processor=processors,
            )
            for chunk in chunks:
                piece = chunk["choices"][0]["delta"].get("content")
                if piece:
                    yield piece
        else:
            chunks = self.llm(
                prompt.completion,
                max_tokens=self.max_tokens,
                temperature=0.0,
                stop=STOP,
                stream=True,
                logits_processor=processors,
            )
            for chunk in chunks:
                yield chunk["choices"][0]["text"]

    def _without_cjk(self, input_ids: np.ndarray, scores: np.ndarray) -> np.ndarray:
        return scores + self._cjk_offsets()

    def _cjk_offsets(self) -> np.ndarray:
        if self._no_cjk is None:
            self._no_cjk = cjk_mask(self.llm)
        return self._no_cjk


def cjk_mask(llm: Any) -> np.ndarray:
    """Logit offsets that rule out every token of the model's vocabulary holding a CJK character (or its first
    byte), and leave the others unchanged."""
    mask = np.zeros(llm.n_vocab(), dtype=np.float32)
    for token in range(len(mask)):
        if CJK_LEAD_BYTES.intersection(llm.detokenize([token], special=True)):
            mask[token] = -np.inf
    return mask
