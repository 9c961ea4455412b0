"""All settings in one frozen object, grouped by the stage that reads them; environment variables are read here and
nowhere else."""

from __future__ import annotations

import os
import re
from dataclasses import Field, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from rag.errors import BadSettings

PROJECT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_COLLECTION = "default"  # its index is index_dir itself; another collection's is index_dir/collections/NAME
COLLECTIONS = "collections"
_COLLECTION_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")


@dataclass(frozen=True)
class StoreSettings:
    """Where documents and indexes live."""

    index_dir: Path = PROJECT_DIR / "index"
    collection: str = DEFAULT_COLLECTION  # which index to use (see collection_dir)
    corpus_dir: Path = PROJECT_DIR / "seeds"
    upload_dir: Path = PROJECT_DIR / "data" / "uploads"

    def __post_init__(self) -> None:
        if not _COLLECTION_NAME.fullmatch(self.collection):
            raise BadSettings(f"collection names are 1 to 64 letters, digits, - and _, got {self.collection!r}")

    @property
    def collection_dir(self) -> Path:
        """The folder of this collection's index: index_dir for the default one (where indexes always were)."""
        if self.collection == DEFAULT_COLLECTION:
            return self.index_dir
        return self.index_dir / COLLECTIONS / self.collection

    @property
    def upload_folder(self) -> Path:
        """Where this collection's uploads are kept: upload_dir for the default one, upload_dir/collections/NAME
        for another."""
        if self.collection == DEFAULT_COLLECTION:
            return self.upload_dir
        return self.upload_dir / COLLECTIONS / self.collection


@dataclass(frozen=True)
class IngestSettings:
    """How files are read and cut into chunks."""

    chunk_tokens: int = 160  # chunk size in embedding-model tokens
    max_file_mb: float = 20.0
    max_pages: int = 2000  # a longer PDF is refused
    # A page read by OCR (a scan, an image file) whose mean word confidence (0-100) is lower is indexed with a warning.
    ocr_min_confidence: float = 60.0

    def __post_init__(self) -> None:
        _positive(self, "chunk_tokens", "max_file_mb", "max_pages")
        if not 0.0 <= self.ocr_min_confidence <= 100.0:
            raise BadSettings(f"ocr_min_confidence must be within 0..100, got {self.ocr_min_confidence}")


@dataclass(frozen=True)
class SearchSettings:
    """What retrieval fetches and shows the model."""

    top_k: int = 2  # passages given to the generator
    candidates: int = 12  # chunks fetched by each retriever before fusion
    lexical: bool = True  # fuse BM25 with dense search
    span_chars: int = 240  # a longer passage is cut to the clauses that answer the question, for prompt and quote
    # A question can also be searched in the language most of its best passages are written in, translated by the
    # generator; the translation is used only when it keeps the question's numbers and acronyms and comes this close
    # (cosine) to the question. Off by default: the bundled 1.5B model translates questions too loosely (eval/REPORT.md).
    translate_questions: bool = False
    min_question_similarity: float = 0.75

    def __post_init__(self) -> None:
        _positive(self, "top_k", "candidates", "span_chars")
        _fraction(self, "min_question_similarity")
        if self.candidates < self.top_k:
            raise BadSettings(f"candidates must be >= top_k ({self.top_k}), got {self.candidates}")


@dataclass(frozen=True)
class AnswerSettings:
    """When the model reads, and which of its drafts are kept."""

    max_question_chars: int = 2000
    # Abstain without generating when the best sentence's cosine is below the gate: the question is about nothing
    # the documents hold. Question and passage in the same language score higher for the same relevance, so that
    # case has a higher bar (and is ranked with the difference taken off: see `same_language_margin`). The gate is
    # set low enough for a technical manual as well as for news (eval/REPORT.md, both corpora).
    min_relevance: float = 0.37
    min_relevance_same_language: float = 0.42
    # The model's own "not found" is accepted for a question asking for a fact; for a yes/no question only between
    # the gate and this relevance (plus the same-language margin): above it, the passages are quoted (a passage
    # often states the rule without a yes or a no, and a small model then finds nothing to copy).
    trust_not_found_below: float = 0.50
    # Each sentence of a kept answer must come this close (cosine) to a sentence of the passages it cites.
    min_support: float = 0.50
    # A kept answer is marked as doubtful where the model wrote a word it added to the question with a probability
    # under this (0: never); see eval/REPORT.md.
    doubt_below: float = 0.20
    # A draft citing only passages less relevant than the best one by more than this (cosine, ranked as retrieval
    # ranks) took its fact from a weaker source: it is not kept (0: never); see eval/REPORT.md.
    max_source_gap: float = 0.05
    # A name of the question is named by a passage that writes a name this close to it (cosine of the two names
    # embedded alone, across languages: Korea and Hàn Quốc 0.89, Japan and Hàn Quốc 0.68); see `unnamed_party`.
    min_name_similarity: float = 0.85
    # A one-word name in a Vietnamese passage ("Úc", also a common word) compared as "nước Úc": Australia 0.86,
    # United States and Mỹ 0.77, the closest of other countries 0.75.
    min_country_similarity: float = 0.75
    # A draft that fails a check is written again from the best passage it did not draw on, read alone, when that
    # passage is the best one or within max_source_gap of it (a clearly weaker one answers with whatever it holds).
    second_reading: bool = True
    translate_quotes: bool = True  # a quoted passage in another language is shown translated, when that checks out
    min_translation_similarity: float = 0.70  # cosine a translation needs to its original to be shown

    def __post_init__(self) -> None:
        _positive(self, "max_question_chars")
        _fraction(
            self,
            "min_relevance",
            "min_relevance_same_language",
            "trust_not_found_below",
            "min_support",
            "max_source_gap",
            "doubt_below",
            "min_translation_similarity",
            "min_name_similarity",
            "min_country_similarity",
        )

    @property
    def same_language_margin(self) -> float:
        """How much higher a question and a passage in the same language score for the same relevance: the
        difference between the two gates, also taken off same-language sentences when ranking."""
        return self.min_relevance_same_language - self.min_relevance


@dataclass(frozen=True)
class EngineSettings:
    """The models: the bundled local ones, or any OpenAI-compatible server (llama.cpp server, vLLM, Ollama, TGI)."""

    embedder_path: Path = PROJECT_DIR / "models" / "embeddinggemma-300m"
    # Chosen by measurement over the 0.5B sibling and Gemma 3 270M (eval/REPORT.md): it reads and translates best.
    gguf_path: Path = PROJECT_DIR / "models" / "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
    state_dir: Path = Path.home() / ".cache" / "rag"  # remembers that the engine ran on this CPU
    # int8 embedding encoder on a CPU: faster indexing and queries but a little less accurate (bench/REPORT.md
    # section 3), so float32 is the default.
    embed_int8: bool = False
    n_ctx: int = 2048
    max_answer_tokens: int = 96
    threads: int = max(1, min(4, os.cpu_count() or 1))
    llm_url: str = ""  # e.g. http://gpu-box:8080/v1; empty: the local GGUF
    llm_model: str = ""  # empty: the first model the server lists
    llm_api_key: str = field(default="", repr=False)
    embed_url: str = ""
    embed_model: str = ""
    embed_api_key: str = field(default="", repr=False)
    engine_timeout_s: float = 60.0  # longest wait for a remote engine's next byte

    def __post_init__(self) -> None:
        _positive(self, "n_ctx", "max_answer_tokens", "threads", "engine_timeout_s")
        for name in ("llm_url", "embed_url"):
            url = getattr(self, name)
            if url and not url.startswith(("http://", "https://")):
                raise BadSettings(f"{name} must start with http:// or https://, got {url!r}")


@dataclass(frozen=True)
class ServeSettings:
    """The HTTP API served beside the UI."""

    api_key: str = field(default="", repr=False)  # when set, /v1 requests need `Authorization: Bearer <key>`
    queue_size: int = 16  # questions that may wait for the generator; more get 503
    parallel_generations: int = 1  # answers generated at once; above 1 only with a remote engine that batches
    request_timeout_s: float = 120.0  # queue wait plus answering, per request
    max_request_kb: int = 256

    def __post_init__(self) -> None:
        _positive(self, "queue_size", "parallel_generations", "request_timeout_s", "max_request_kb")


@dataclass(frozen=True)
class Settings:
    """Every setting, one group per stage; invalid values are refused at construction. Field names are unique
    across groups, so `with_(top_k=3)` and the RAG_* variables name a setting without its group."""

    store: StoreSettings = field(default_factory=StoreSettings)
    ingest: IngestSettings = field(default_factory=IngestSettings)
    search: SearchSettings = field(default_factory=SearchSettings)
    answer: AnswerSettings = field(default_factory=AnswerSettings)
    engines: EngineSettings = field(default_factory=EngineSettings)
    serve: ServeSettings = field(default_factory=ServeSettings)

    def __post_init__(self) -> None:
        if self.serve.parallel_generations > 1 and not self.engines.llm_url:
            raise BadSettings(
                f"parallel_generations is {self.serve.parallel_generations}, but a local GGUF model runs one "
                "generation at a time: set RAG_LLM_URL to a server that batches requests, or leave it at 1"
            )

    def with_(self, **changes: Any) -> Settings:
        """A copy with some settings changed, named without their group (validated again)."""
        unknown = sorted(set(changes) - set(_GROUP_OF))
        if unknown:
            raise BadSettings(f"unknown setting {unknown[0]!r}")
        changes = {name: _as_path(name, value) for name, value in changes.items()}
        groups: dict[str, Any] = {}
        for group in _GROUPS:  # in stage order, so the first bad value named is always the same one
            if mine := {name: value for name, value in changes.items() if _GROUP_OF[name] == group}:
                groups[group] = replace(getattr(self, group), **mine)
        return replace(self, **groups)


_GROUPS: dict[str, type] = {
    "store": StoreSettings,
    "ingest": IngestSettings,
    "search": SearchSettings,
    "answer": AnswerSettings,
    "engines": EngineSettings,
    "serve": ServeSettings,
}
_FIELDS: dict[str, tuple[str, Field[Any]]] = {  # each setting's group and field, by the setting's name
    setting.name: (group, setting) for group, kind in _GROUPS.items() for setting in fields(kind)
}
_GROUP_OF = {name: group for name, (group, _) in _FIELDS.items()}


def _as_path(name: str, value: Any) -> Any:
    """A folder or file setting given as a string ("data/index"), as a Path."""
    return Path(value).expanduser() if isinstance(value, str) and _FIELDS[name][1].type in ("Path", Path) else value


def _positive(group: object, *names: str) -> None:
    for name in names:
        if (value := getattr(group, name)) <= 0:
            raise BadSettings(f"{name} must be > 0, got {value}")


def _fraction(group: object, *names: str) -> None:
    for name in names:
        if not 0.0 <= (value := getattr(group, name)) <= 1.0:
            raise BadSettings(f"{name} must be within 0..1, got {value}")


_ENV = {
    "RAG_INDEX_DIR": "index_dir",
    "RAG_COLLECTION": "collection",
    "RAG_CORPUS_DIR": "corpus_dir",
    "RAG_UPLOAD_DIR": "upload_dir",
    "RAG_EMBEDDER": "embedder_path",
    "RAG_GGUF": "gguf_path",
    "RAG_STATE_DIR": "state_dir",
    "RAG_TOP_K": "top_k",
    "RAG_MIN_RELEVANCE": "min_relevance",
    "RAG_MIN_RELEVANCE_SAME_LANGUAGE": "min_relevance_same_language",
    "RAG_TRUST_NOT_FOUND_BELOW": "trust_not_found_below",
    "RAG_DOUBT_BELOW": "doubt_below",
    "RAG_MAX_SOURCE_GAP": "max_source_gap",
    "RAG_MIN_NAME_SIMILARITY": "min_name_similarity",
    "RAG_MIN_COUNTRY_SIMILARITY": "min_country_similarity",
    "RAG_THREADS": "threads",
    "RAG_EMBED_INT8": "embed_int8",
    "RAG_MAX_FILE_MB": "max_file_mb",
    "RAG_MAX_PAGES": "max_pages",
    "RAG_OCR_MIN_CONFIDENCE": "ocr_min_confidence",
    "RAG_N_CTX": "n_ctx",
    "RAG_SPAN_CHARS": "span_chars",
    "RAG_TRANSLATE_QUESTIONS": "translate_questions",
    "RAG_LLM_URL": "llm_url",
    "RAG_LLM_MODEL": "llm_model",
    "RAG_LLM_API_KEY": "llm_api_key",
    "RAG_EMBED_URL": "embed_url",
    "RAG_EMBED_MODEL": "embed_model",
    "RAG_EMBED_API_KEY": "embed_api_key",
    "RAG_ENGINE_TIMEOUT": "engine_timeout_s",
    "RAG_API_KEY": "api_key",
    "RAG_QUEUE_SIZE": "queue_size",
    "RAG_PARALLEL_GENERATIONS": "parallel_generations",
    "RAG_REQUEST_TIMEOUT": "request_timeout_s",
}


def load_settings(**overrides: object) -> Settings:
    """Settings from defaults, then RAG_* environment variables, then explicit overrides (named without group)."""
    values: dict[str, object] = {}
    for var, name in _ENV.items():
        if var in os.environ:
            values[name] = _parse(name, _FIELDS[name][1].type, os.environ[var])
    values.update({k: v for k, v in overrides.items() if v is not None})
    return Settings().with_(**values)


def _parse(name: str, kind: object, raw: str) -> object:
    if kind in ("bool", bool):
        if raw not in ("0", "1"):
            raise BadSettings(f"{name} must be 0 or 1, got {raw!r}")
        return raw == "1"
    try:
        if kind in ("int", int):
            return int(raw)
        if kind in ("float", float):
            return float(raw)
    except ValueError:
        raise BadSettings(f"{name} must be a number, got {raw!r}") from None
    if kind in ("str", str):
        return raw.strip()
    return Path(raw).expanduser()
