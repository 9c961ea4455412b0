"""The index on disk: one vector per sentence in FAISS, BM25 over the chunks, and atomic generations.
May import: rag.config, rag.records, rag.errors, rag.language, rag.engines."""
