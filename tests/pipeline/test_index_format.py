"""Index format 2: one float16 vector per sentence, a chunk found by its best sentence, old formats refused."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from rag.errors import IndexProblem
from rag.ingest.build import index_files
from rag.ingest.chunk import chunk_document
from rag.ingest.read import find_files, load_document
from rag.records import Chunk
from rag.store import storage as store
from rag.store.vectors import FORMAT, BuildInfo, VectorIndex, make_faiss
from tests.fakes import HashEmbedder


class RecordingEmbedder(HashEmbedder):
    """The hashing embedder, remembering every document text it was asked to embed."""

    def __init__(self) -> None:
        self.embedded: list[str] = []

    def embed_documents(self, texts: Sequence[str], titles=None, advance=None) -> np.ndarray:
        self.embedded += texts
        return super().embed_documents(texts, titles, advance)


def _live(index_dir: Path) -> Path:
    return index_dir / (index_dir / "CURRENT").read_text().strip()


def _sentences(corpus: Path, embedder: HashEmbedder) -> list[str]:
    """Every sentence of every chunk, in index row order."""
    out = []
    for path in find_files([corpus]):
        doc = load_document(path)
        out += [doc.text[a:b] for c in chunk_document(doc, 160, embedder.count_tokens) for a, b in c.sentences]
    return out


def test_each_sentence_is_embedded_once_and_no_chunk_text_is(corpus, settings):
    embedder = RecordingEmbedder()
    index_files([corpus], settings, embedder)
    sentences = _sentences(corpus, embedder)
    assert sorted(embedder.embedded) == sorted(set(sentences))
    index = store.load(settings.store.index_dir)
    vectors = index.vectors()
    assert vectors.shape == (len(sentences), embedder.dimension) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=2e-3)


def test_sentence_vectors_round_trip_as_float16(corpus, settings):
    embedder = HashEmbedder()
    index_files([corpus], settings, embedder)
    expected = embedder.embed_documents(_sentences(corpus, embedder))
    loaded = store.load(settings.store.index_dir).vectors()
    assert np.array_equal(loaded, expected.astype(np.float16).astype(np.float32))
    stored = (_live(settings.store.index_dir) / "sentences.faiss").stat().st_size
    assert stored < expected.size * 2 + 4096  # two bytes a number, not four


def test_a_format_1_index_is_refused_with_the_way_to_recover(corpus, settings):
    index_files([corpus], settings, HashEmbedder())
    live = _live(settings.store.index_dir)
    manifest = json.loads((live / "manifest.json").read_text())
    manifest["build"]["format"] = 1  # what indexes with float32 chunk and sentence vectors say
    (live / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexProblem, match=rf"format 1, expected {FORMAT}: run `rag index --rebuild`"):
        store.load(settings.store.index_dir)


def _chunk(source: str, sentences: int) -> Chunk:
    spans = tuple((i * 10, i * 10 + 9) for i in range(sentences))
    return Chunk(source, 0, spans[-1][1], "x" * spans[-1][1], "en", "t", None, spans)


def test_a_chunk_is_found_by_its_best_sentence_and_scored_in_float32():
    vectors = np.eye(4, dtype=np.float32)[[0, 1, 2]]  # chunk a: sentences e0, e1; chunk b: e2
    index = VectorIndex(BuildInfo("test", 4, 160), [_chunk("a", 2), _chunk("b", 1)], make_faiss(vectors))
    query = np.array([0.0, 0.6, 0.8, 0.0], np.float32)
    assert index.search(query, 2) == [(1, pytest.approx(0.8, abs=1e-3)), (0, pytest.approx(0.6, abs=1e-3))]
    scores = index.sentence_scores(0, query)
    assert scores.dtype == np.float32 and np.allclose(scores, [0.0, 0.6], atol=1e-3)


def test_updating_a_file_replaces_its_sentence_vectors(corpus, settings):
    embedder = HashEmbedder()
    index_files([corpus], settings, embedder)
    (corpus / "en.txt").write_text("Kiwi birds\n\nThe kakapo is a parrot that cannot fly.\n", encoding="utf-8")
    index_files([corpus], settings, embedder)
    index = store.load(settings.store.index_dir)
    texts = [c.text[a - c.start : b - c.start] for c in index.chunks for a, b in c.sentences]
    assert "The kakapo is a parrot that cannot fly." in texts and not any("kiwi is" in t for t in texts)
    assert np.array_equal(index.vectors(), embedder.embed_documents(texts).astype(np.float16))
    row = next(i for i, c in enumerate(index.chunks) if c.source == "en.txt")
    assert index.search(embedder.embed_queries(["kakapo parrot"])[0], 1)[0][0] == row


def test_progress_counts_files_read_then_characters_embedded(corpus, settings):
    seen: list[tuple[str, str, int, int]] = []
    index_files([corpus], settings, HashEmbedder(), progress=lambda *a: seen.append(a))
    files = find_files([corpus])
    assert [(phase, name, done) for phase, name, done, _ in seen[:4]] == [
        *(("reading", f.name, i) for i, f in enumerate(files)),
        ("reading", "", 3),
    ]
    total = sum(len(load_document(f).text) for f in files)  # characters of text, not bytes of the files
    embedding = [(done, of) for phase, _, done, of in seen if phase == "embedding"]
    done = [d for d, _ in embedding]
    assert done == sorted(done) and done[-1] == total and {of for _, of in embedding} == {total}
    assert seen[-1] == ("saving", "", total, total)
