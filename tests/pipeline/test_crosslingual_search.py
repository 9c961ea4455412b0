"""A question searched in another language too: BM25 and the rerank use the translation (real index, fake models)."""

from __future__ import annotations

from rag.search.crosslingual import Translation
from rag.search.retrieve import retrieve

QUESTION = "Which fruit grows there?"  # no word of it is in any document


def test_a_translation_finds_by_its_words_what_the_question_cannot(fake_pipeline):
    vietnamese = "Việt Nam xuất khẩu gạo sang Philippines?"
    query = fake_pipeline.embedder.embed_queries([vietnamese])[0]
    translation = Translation("vi", vietnamese, query)
    args = (fake_pipeline.index, fake_pipeline.embedder, fake_pipeline.settings.search, 0.05, "en")
    alone, translated = retrieve(QUESTION, *args), retrieve(QUESTION, *args, translation=translation)
    assert translated.hits[0].chunk.source == "vi.txt" and translated.hits[0].relevance > 0.3
    assert alone.hits[0].relevance < translated.hits[0].relevance
