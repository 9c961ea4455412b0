"""Answer generation with any local GGUF model through llama-cpp-python, loaded on first use."""

from __future__ import annotations

import ctypes
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rag.engines.preflight import ensure_engine_runs
from rag.engines.protocols import Piece
from rag.errors import MissingDependency, ModelMissing
from rag.records import Prompt

STOP = ["\n"]  # base-model answers are one line, as in the worked examples
# UTF-8 lead bytes of U+3000-U+9FFF (CJK punctuation, kana, Han): a token holding one writes Chinese script.
CJK_LEAD_BYTES = frozenset(range(0xE3, 0xEA))
Processor = Callable[[np.ndarray, np.ndarray], np.ndarray]  # a logits processor: (tokens so far, scores) -> scores


@dataclass(frozen=True)
class Context:
    """What llama.cpp holds after reading some tokens: the tokens and their KV cache (sequence 0), a few MB."""

    tokens: np.ndarray
    kv: bytes


class LlamaCppGenerator:
    """Streams text from a GGUF model; uses its chat template when the file carries one."""

    def __init__(
        self,
        path: Path,
        n_ctx: int = 2048,
        threads: int = 2,
        max_tokens: int = 96,
        state_dir: Path | None = None,
        note_probability: bool = True,
    ) -> None:
        self.path = Path(path)
        self.state_dir = state_dir  # where the engine pre-flight check is remembered; None: no check
        self.n_ctx = n_ctx
        self.threads = threads
        self.max_tokens = max_tokens
        # False: pieces carry no probability (an answer then has no doubt); the benchmark times what noting costs
        self.note_probability = note_probability
        self._llm: Any = None
        self._no_cjk: np.ndarray | None = None
        self._heads: dict[str, Context] = {}  # a kind of prompt's fixed head -> the context of it read alone

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

    def warm_up(self, prompts: Sequence[Prompt] = ()) -> None:
        """Load the model, build its Chinese-script mask and read the fixed heads of `prompts` now, so that the
        first question waits for none of them."""
        self._cjk_offsets()
        for prompt in prompts:
            self._start_from_head(prompt)

    def stream(self, prompt: Prompt) -> Iterator[Piece]:
        """Yield the answer's text pieces as the model writes them (greedy decoding), each with the least
        probability the model gave a token of it. A reply due in English or Vietnamese cannot write Chinese script:
        small multilingual models otherwise slip "新西兰" into English."""
        probabilities: list[float] = []  # of the tokens chosen since the last piece
        processors: list[Processor] = [self._without_cjk] if prompt.language in ("en", "vi") else []
        if self.note_probability:  # last: it sees the scores the choice is made from
            processors.append(noting_probability(probabilities))
        self._start_from_head(prompt)
        if self.has_chat_template:
            chunks = self.llm.create_chat_completion(
                prompt.messages(),
                max_tokens=self.max_tokens,
                temperature=0.0,
                stream=True,
                logits_processor=processors or None,  # none: llama.cpp samples without a Python callback
            )
            texts = (chunk["choices"][0]["delta"].get("content") for chunk in chunks)
        else:
            chunks = self.llm(
                prompt.completion,
                max_tokens=self.max_tokens,
                temperature=0.0,
                stop=STOP,
                stream=True,
                logits_processor=processors or None,
            )
            texts = (chunk["choices"][0]["text"] for chunk in chunks)
        for text in texts:
            if text:
                yield Piece(text, min(probabilities, default=None))
                probabilities.clear()

    def prompt_tokens(self, prompt: Prompt) -> tuple[list[int], int]:
        """The tokens llama.cpp reads for `prompt` (through the model's chat template when the file carries one),
        and how many of them are the fixed head that every prompt of its kind starts from, read once and kept."""
        chat = self.has_chat_template
        rest = prompt.user if chat else prompt.completion[len(prompt.head) :]
        tokens = self.llm.tokenize(self._rendered(prompt, chat, rest).encode(), add_bos=not chat, special=True)
        return tokens, len(self._fixed_tokens(prompt, chat))

    def reset(self) -> None:
        """Forget the fixed heads read so far and empty llama.cpp's context: the next prompt of each kind reads its
        instructions again, as the first one after loading does."""
        self._heads.clear()
        if self._llm is not None:
            clear(self._llm)

    def _start_from_head(self, prompt: Prompt) -> None:
        """Make llama.cpp hold the KV cache of the prompt's fixed head alone: its instructions (and, for a base
        model, its worked examples), read once on their own and kept.

        llama.cpp reads only the part of a prompt after the prefix it shares with the context it holds. Starting
        every prompt from its own head means that the rest is always read from the same point in batches of the
        same shape: a greedy reply depends on its prompt only, not on what was asked before, and an answer after a
        translation does not read its instructions again (about 100 tokens)."""
        chat = self.has_chat_template
        head = prompt.system if chat else prompt.head
        if head not in self._heads:
            self._heads[head] = self._read_alone(self._fixed_tokens(prompt, chat))
        put_back(self.llm, self._heads[head])

    def _fixed_tokens(self, prompt: Prompt, chat: bool) -> list[int]:
        """The tokens that every prompt of this kind starts with: those shared by two that differ only after it."""
        first, second = (
            self.llm.tokenize(self._rendered(prompt, chat, rest).encode(), add_bos=not chat, special=True)
            for rest in "ab"
        )
        shared = next((i for i, (a, b) in enumerate(zip(first, second, strict=False)) if a != b), len(first))
        return first[:shared]

    def _rendered(self, prompt: Prompt, chat: bool, rest: str) -> str:
        """The prompt's text as llama.cpp reads it, with `rest` in place of what follows its fixed head."""
        if not chat:
            return prompt.head + rest
        return chat_template(self.llm)(messages=Prompt(prompt.system, rest, "").messages()).prompt

    def _read_alone(self, tokens: list[int]) -> Context:
        llm = self.llm
        clear(llm)
        llm.eval(tokens)
        return set_aside(llm)

    def _without_cjk(self, input_ids: np.ndarray, scores: np.ndarray) -> np.ndarray:
        return scores + self._cjk_offsets()

    def _cjk_offsets(self) -> np.ndarray:
        if self._no_cjk is None:
            self._no_cjk = cjk_mask(self.llm)
        return self._no_cjk


def noting_probability(probabilities: list[float]) -> Processor:
    """A logits processor that leaves the scores as they are and appends the probability of the likeliest token,
    the one greedy decoding chooses, to `probabilities`."""

    def note(input_ids: np.ndarray, scores: np.ndarray) -> np.ndarray:
        probabilities.append(float(1.0 / np.exp(scores - scores.max()).sum()))
        return scores

    return note


def cjk_mask(llm: Any) -> np.ndarray:
    """Logit offsets that rule out every token of the model's vocabulary holding a CJK character (or its first
    byte), and leave the others unchanged."""
    mask = np.zeros(llm.n_vocab(), dtype=np.float32)
    for token in range(len(mask)):
        if CJK_LEAD_BYTES.intersection(llm.detokenize([token], special=True)):
            mask[token] = -np.inf
    return mask


def chat_template(llm: Any) -> Any:
    """The chat formatter llama-cpp-python builds from the model's template, to render prompts as it does."""
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    def text(token: int) -> str:
        return llm.detokenize([token], special=True).decode("utf-8", "replace") if token >= 0 else ""

    return Jinja2ChatFormatter(llm.metadata["tokenizer.chat_template"], text(llm.token_eos()), text(llm.token_bos()))


def clear(llm: Any) -> None:
    """Empty llama.cpp's context, so that what is read next goes to the first cells of the KV cache."""
    from llama_cpp import llama_cpp

    llama_cpp.llama_memory_clear(llama_cpp.llama_get_memory(llm.ctx), True)
    llm.reset()


def set_aside(llm: Any) -> Context:
    """A copy of the tokens llama.cpp has read and of their KV cache."""
    from llama_cpp import llama_cpp

    size = llama_cpp.llama_state_seq_get_size(llm.ctx, 0)
    buffer = (ctypes.c_uint8 * size)()
    written = llama_cpp.llama_state_seq_get_data(llm.ctx, buffer, size, 0)
    return Context(llm.input_ids[: llm.n_tokens].copy(), bytes(buffer)[:written])


def put_back(llm: Any, context: Context) -> None:
    """Make `context` the one llama.cpp holds; if llama.cpp refuses it, leave an empty one."""
    from llama_cpp import llama_cpp

    clear(llm)
    size = len(context.kv)
    if size and llama_cpp.llama_state_seq_set_data(
        llm.ctx, (ctypes.c_uint8 * size).from_buffer_copy(context.kv), size, 0
    ):
        llm.input_ids[: len(context.tokens)] = context.tokens
        llm.n_tokens = len(context.tokens)
