"""The model seams: the Embedder and Generator protocols, their local engines (sentence-transformers, llama.cpp),
remote OpenAI-compatible engines, and the check that the local engine runs on this CPU.
May import: rag.config, rag.records, rag.errors, rag.language."""
