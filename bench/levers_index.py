"""Section 3: indexing levers side by side on the seeds (what is embedded, int8, batching, threads), with the
retrieval quality each one gives on the gold set, and indexing before / after through the product's own code."""

from __future__ import annotations

import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from bench.indexing import seed_files
from bench.report import Section, ratio
from bench.timing import embedding_itself, in_turn
from bench.workload import Budget, gold_rank, recall_at
from rag.answer.decide import gate
from rag.answer.question import read_question
from rag.config import Settings
from rag.engines.embedder import KEEP_FLOAT, SentenceTransformerEmbedder
from rag.engines.protocols import Embedder
from rag.evaluation import GoldItem
from rag.ingest.build import index_files
from rag.ingest.chunk import chunk_document
from rag.ingest.read import find_files, load_document
from rag.records import Chunk, Document
from rag.search.retrieve import retrieve
from rag.store.vectors import BuildInfo, VectorIndex, make_faiss


@dataclass(frozen=True)
class Work:
    """The seeds, loaded and chunked once: what every lever embeds."""

    docs: list[Document]
    chunks: list[list[Chunk]]  # per document

    @property
    def kb(self) -> float:
        return sum(len(d.text.encode("utf-8")) for d in self.docs) / 1000

    def sentence_texts(self, doc: int) -> list[str]:
        """Unique sentences of one document, as the product embeds them."""
        d = self.docs[doc]
        return [d.text[a:b] for a, b in dict.fromkeys(s for c in self.chunks[doc] for s in c.sentences)]


class ChunkVectorIndex(VectorIndex):
    """Format 1's dense search: one vector per chunk (the sentence vectors still rerank the hits)."""

    def __init__(self, info: BuildInfo, chunks: list[Chunk], sentences: Any, chunk_vectors: np.ndarray) -> None:
        super().__init__(info, chunks, sentences)
        self.chunk_vectors = chunk_vectors

    def search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        scores = self.chunk_vectors @ query
        return [(int(row), float(scores[row])) for row in np.argsort(-scores)[:k]]


def local_encoder(embedder: Embedder) -> SentenceTransformerEmbedder:
    """The local sentence-transformers model behind `embedder`: the levers set its batching and encode with it."""
    inner = embedding_itself(embedder)
    if not isinstance(inner, SentenceTransformerEmbedder):
        raise SystemExit("the indexing levers need the local embedding model: unset RAG_EMBED_URL")
    return inner


def load_work(seeds: Path, embedder: Embedder) -> Work:
    docs = [load_document(p) for p in find_files([seeds])]
    return Work(docs, [chunk_document(d, 160, embedder.count_tokens) for d in docs])


def encoder(settings: Settings, variant: str, threads: int | None = None) -> SentenceTransformerEmbedder:
    """fp32 | int8 (all Linear layers) | int8-keep-down (the product's: MLP down projection stays float), loaded
    (and quantized) now, before anything is timed."""
    keep_float = () if variant == "int8" else KEEP_FLOAT
    path, threads = settings.engines.embedder_path, threads or settings.engines.threads
    embedder = SentenceTransformerEmbedder(path, threads=threads, int8=variant != "fp32", keep_float=keep_float)
    embedder.warm_up()
    return embedder


def old_path(embedder: SentenceTransformerEmbedder, work: Work) -> tuple[float, np.ndarray, np.ndarray]:
    """Format-1 indexing: per file, every chunk and then every sentence (repeats included), batches of 16."""
    embedder.batch_size = 16
    started, chunk_vectors, sentence_vectors = time.perf_counter(), [], []
    for doc, chunks in zip(work.docs, work.chunks):
        chunk_vectors.append(embedder.embed_documents([c.text for c in chunks], [doc.title] * len(chunks)))
        texts = [doc.text[a:b] for c in chunks for a, b in c.sentences]
        sentence_vectors.append(embedder.embed_documents(texts, [doc.title] * len(texts)))
    return time.perf_counter() - started, np.vstack(chunk_vectors), np.vstack(sentence_vectors)


def new_path(
    embedder: SentenceTransformerEmbedder, work: Work, batch: int, sort: bool = True
) -> tuple[float, np.ndarray]:
    """Format-2 indexing: each unique sentence once; vectors returned in the index's row order."""
    embedder.batch_size, embedder.sort_by_length = batch, sort
    started, rows = time.perf_counter(), []
    for i, (doc, chunks) in enumerate(zip(work.docs, work.chunks)):
        texts = work.sentence_texts(i)
        vectors = embedder.embed_documents(texts, [doc.title] * len(texts))
        where = {s: j for j, s in enumerate(dict.fromkeys(s for c in chunks for s in c.sentences))}
        rows.append(vectors[[where[s] for c in chunks for s in c.sentences]])
    embedder.sort_by_length = True
    return time.perf_counter() - started, np.vstack(rows)


def retrieval_quality(
    work: Work,
    sentence_vectors: np.ndarray,
    encoded: tuple[Embedder, np.ndarray],
    gold: list[GoldItem],
    settings: Settings,
    chunk_vectors: np.ndarray | None = None,
    float32: bool = False,
) -> dict[str, float]:
    """recall@1/@5/MRR of the gold source after the product's retrieval (hybrid search and sentence rerank) over
    these vectors, with an embedder and its vectors of the gold questions (`encoded`), and what the relevance gate
    does (false abstention on answerable, abstention on unanswerable questions)."""
    embedder, queries = encoded
    chunks = [c for cs in work.chunks for c in cs]
    info = BuildInfo("bench", sentence_vectors.shape[1], 160)
    store = make_faiss(sentence_vectors)
    if float32:  # format 1 kept float32 sentence vectors
        store = faiss.IndexFlatIP(info.dimension)
        store.add(sentence_vectors.astype(np.float32))
    if chunk_vectors is None:
        index = VectorIndex(info, chunks, store)
    else:  # format 1: dense search over one vector per chunk
        index = ChunkVectorIndex(info, chunks, store, chunk_vectors)
    ranks, abstained, margin = [], [], settings.answer.same_language_margin
    for item, query in zip(gold, queries):
        asked = read_question(item.question, settings.answer.max_question_chars)
        found = retrieve(asked.text, index, embedder, settings.search, margin, asked.language, query=query)
        ranks.append(gold_rank(found.hits, item))
        abstained.append(gate(asked, found.passages, settings.answer) is not None)
    answerable = [(r, a) for item, r, a in zip(gold, ranks, abstained) if item.answerable]
    unanswerable = [a for item, a in zip(gold, abstained) if not item.answerable]
    return {
        "recall@1": recall_at([r for r, _ in answerable], 1),
        "recall@5": recall_at([r for r, _ in answerable], 5),
        "mrr": statistics.mean(1 / r if r else 0.0 for r, _ in answerable),
        "false abstention": statistics.mean(a for _, a in answerable),
        "abstains on unanswerable": statistics.mean(unanswerable) if unanswerable else float("nan"),
    }


def _time_levers(
    product: SentenceTransformerEmbedder,
    fp32: SentenceTransformerEmbedder,
    int8_all: SentenceTransformerEmbedder | None,
    work: Work,
    repeat: int,
) -> tuple[dict[str, float], dict[str, tuple]]:
    """Median seconds of each lever's embedding of the work (the levers taken in turn `repeat` times; the int8
    and batching levers only with `int8_all`), and the vectors each encoder made."""
    vectors: dict[str, tuple] = {}

    def keep(name: str, result: tuple) -> float:
        vectors[name] = result[1:]
        return float(result[0])

    levers = {
        "float32, each chunk and each sentence, batch 16 (before)": lambda: keep("before", old_path(fp32, work)),
        f"product encoder ({product.model_id}), unique sentences, batch 16": lambda: keep(
            "product", new_path(product, work, 16)
        ),
    }
    if int8_all is not None:
        named = f"product encoder ({product.model_id})"
        levers |= {
            "float32, unique sentences, batch 16": lambda: keep("fp32", new_path(fp32, work, 16)),
            "int8 all Linear layers, unique sentences, batch 16": lambda: keep("int8", new_path(int8_all, work, 16)),
            f"{named}, batch 16 unsorted": lambda: new_path(product, work, 16, sort=False)[0],
            f"{named}, batch 1": lambda: new_path(product, work, 1)[0],
        }
    return {name: statistics.median(v) for name, v in in_turn(levers, repeat).items()}, vectors


def index_seconds(settings: Settings, embedder: Embedder, corpus: Path) -> float:
    """Wall time of the product's indexing (load, chunk, embed, save) of `corpus` into a fresh index."""
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        index_files([corpus], settings.with_(index_dir=Path(tmp) / "index"), embedder, rebuild=True)
        return time.perf_counter() - started


def indexing_levers(
    settings: Settings, product: SentenceTransformerEmbedder, gold: list[GoldItem], budget: Budget, core: bool = False
) -> tuple[Section, dict]:
    """Time the levers in turn on the same texts, then score each encoder's vectors on the gold set.

    `core` (or a budget without every lever) keeps to before, after and the product's encoder (for a machine too
    busy for every row); the budget's `seed_files` keeps to that many of the seeds.
    """
    int8_all = None if core or not budget.all_index_levers else encoder(settings, "int8")
    fp32 = encoder(settings, "fp32") if product.quantized else product  # the product's encoder is float32 itself
    with seed_files(settings.store.corpus_dir, budget.seed_files) as seeds:
        started = time.perf_counter()
        work = load_work(seeds, fp32)
        load_s = time.perf_counter() - started
        lever_s, vectors = _time_levers(product, fp32, int8_all, work, budget.index_repeat)
        product.batch_size = None  # the product's own batching
        # Before: format-1 indexing replayed (its embedding, plus loading and chunking); after: the product's.
        seconds = {
            "before": load_s + lever_s["float32, each chunk and each sentence, batch 16 (before)"],
            "after": index_seconds(settings, product, seeds),
        }
    encoders = {"fp32": fp32, "product": product} | ({"int8": int8_all} if int8_all else {})
    queries = {name: (e, e.embed_queries([q.question for q in gold])) for name, e in encoders.items()}
    before_chunks, before_sentences = vectors["before"]
    quality = {
        "before: float32 chunk vectors, float32 sentences": retrieval_quality(
            work, before_sentences, queries["fp32"], gold, settings, before_chunks, float32=True
        ),
        "float32 sentences only, best sentence finds the chunk": retrieval_quality(
            work, before_sentences, queries["fp32"], gold, settings, float32=True
        ),
        "same, stored as float16 (format 2)": retrieval_quality(
            work, before_sentences, queries["fp32"], gold, settings
        ),
    }
    if int8_all:
        quality["int8 all Linear layers (queries too), float16"] = retrieval_quality(
            work, vectors["int8"][0], queries["int8"], gold, settings
        )
    quality[f"product encoder ({product.model_id}, queries too), float16"] = retrieval_quality(
        work, vectors["product"][0], queries["product"], gold, settings
    )
    cosine = {
        name: float(np.mean(np.sum(vectors[name][0] * before_sentences, axis=1)))
        for name in ("int8", "product")
        if name in vectors
    }
    found = {"work": work, "seconds": seconds, "levers": lever_s, "quality": quality, "cosine": cosine}
    return _render(found, budget), found


def main() -> None:
    """`python -m bench.levers_index [--core]`: this section alone, printed as Markdown."""
    import sys

    from bench.workload import GOLD
    from rag.config import load_settings
    from rag.evaluation import load_gold
    from rag.pipeline import make_embedder

    settings = load_settings()
    section, _ = indexing_levers(
        settings,
        local_encoder(make_embedder(settings.engines)),
        load_gold(GOLD),
        Budget(index_repeat=1),
        "--core" in sys.argv,
    )
    print(section.markdown())


def _render(found: dict, budget: Budget) -> Section:
    s = Section("3. Indexing: before / after, levers and retrieval quality")
    work, seconds, levers = found["work"], found["seconds"], found["levers"]
    texts = sum(len(c.sentences) for cs in work.chunks for c in cs)
    unique = sum(len(work.sentence_texts(i)) for i in range(len(work.docs)))
    chunks = sum(len(cs) for cs in work.chunks)
    s.text(
        f"The seeds: {len(work.docs)} files, {work.kb:.1f} KB of text, {chunks} chunks, {texts} sentences "
        f"({unique} unique). Before = format-1 indexing replayed: every chunk and every sentence embedded by the "
        "float32 model in batches of 16 per file, plus loading and chunking. After = the product's `index_files` "
        f"(load, chunk, embed, save). Medians of {budget.index_repeat} runs taken in turn."
    )
    before, after = seconds["before"], seconds["after"]
    s.table(
        ["indexing the seeds", "seconds", "text KB/s", "vs before"],
        [
            ("before", before, work.kb / before, "1.00×"),
            ("after", after, work.kb / after, ratio(1 / before, 1 / after)),
        ],
    )
    base = levers["float32, each chunk and each sentence, batch 16 (before)"]
    s.text("Embedding only (no loading, chunking or saving), each lever on the same texts:")
    s.table(
        ["lever", "seconds", "text KB/s", "speed vs before"],
        [(name, t, work.kb / t, ratio(1 / base, 1 / t)) for name, t in levers.items()],
    )
    s.text(
        "Retrieval quality on the gold set with each variant's vectors (answerable questions for recall and MRR, "
        "the product's hybrid search, sentence rerank and relevance gate; no generator involved). Mean cosine to "
        "the float32 sentence vectors: " + ", ".join(f"{k} {v:.3f}" for k, v in found["cosine"].items()) + "."
    )
    metrics = list(next(iter(found["quality"].values())))
    s.table(
        ["vectors", *metrics],
        [(name, *(f"{q[m]:.3f}" for m in metrics)) for name, q in found["quality"].items()],
    )
    return s


if __name__ == "__main__":
    main()
