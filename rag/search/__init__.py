"""A question to ranked passages: dense and BM25 search fused, reranked by sentence, cut to answering clauses, and
follow-up questions joined to the one they follow.
May import: rag.config, rag.records, rag.errors, rag.language, rag.engines, rag.store."""
