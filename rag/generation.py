"""Answer generation with any local GGUF model through llama-cpp-python, loaded on first use."""

from __future__ import annotations

import ctypes
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rag.errors import MissingDependency, ModelMissing
from rag.preflight import ensure_engine_runs
from rag.prompting import Prompt, chat_messages

STOP = ["\n"]  # base-model answers are one line, as in the worked examples
# UTF-8 lead bytes of U+3000-U+9FFF (CJK punctuation, kana, Han): a token holding one writes Chinese script.
CJK_LEAD_BYTES = frozenset(range(0xE3, 0xEA))
KEPT_CONTEXTS = 4  # contexts set aside at most, one per system message (the answer's and the translation's)


@dataclass(frozen=True)
class KeptContext:
    """What llama.cpp had read for one kind of prompt: its tokens and their KV cache (sequence 0), a few MB."""

    tokens: np.ndarray
    kv: bytes


class LlamaCppGenerator:
    """Streams text from a GGUF model; uses its chat template when the file carries one, and keeps the KV cache of
    each kind of prompt (answers, translations) for the next prompt of that kind."""

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
        self._system: str | None = None  # the system message of the prompts whose context llama.cpp holds now
        self._kept: dict[str, KeptContext] = {}  # system message -> its context, set aside while another one ran

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
        self._switch_to(prompt.system)
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

    def _switch_to(self, system: str) -> None:
        """Put back the context read for prompts with this system message, and set aside the one llama.cpp holds.

        llama.cpp reuses the KV cache of the longest prefix a prompt shares with the previous one. Answers and
        translations open with different instructions, so without this an answer after a translation re-read its
        instructions (about 100 tokens, 2 s on 2 cores) and a translation after an answer re-read its own."""
        if system == self._system:
            return
        llm = self.llm
        if self._system is not None:
            self._kept[self._system] = set_aside(llm)
            while len(self._kept) > KEPT_CONTEXTS:
                del self._kept[next(iter(self._kept))]
        kept = self._kept.pop(system, None)
        if kept is not None:
            put_back(llm, kept)
        self._system = system

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


def set_aside(llm: Any) -> KeptContext:
    """A copy of the tokens llama.cpp has read and of their KV cache."""
    from llama_cpp import llama_cpp

    size = llama_cpp.llama_state_seq_get_size(llm.ctx, 0)
    buffer = (ctypes.c_uint8 * size)()
    written = llama_cpp.llama_state_seq_get_data(llm.ctx, buffer, size, 0)
    return KeptContext(llm.input_ids[: llm.n_tokens].copy(), bytes(buffer)[:written])


def put_back(llm: Any, kept: KeptContext) -> None:
    """Make `kept` the context llama.cpp holds; if llama.cpp refuses it, start from an empty one."""
    from llama_cpp import llama_cpp

    llama_cpp.llama_memory_seq_rm(llama_cpp.llama_get_memory(llm.ctx), 0, -1, -1)
    size = len(kept.kv)
    if not size or not llama_cpp.llama_state_seq_set_data(
        llm.ctx, (ctypes.c_uint8 * size).from_buffer_copy(kept.kv), size, 0
    ):
        llm.reset()
        return
    llm.input_ids[: len(kept.tokens)] = kept.tokens
    llm.n_tokens = len(kept.tokens)
    llm._requires_eval = True  # as Llama.load_state does: the logits in hand belong to the context set aside
