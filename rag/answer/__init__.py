"""Passages to a checked answer: the question read once, the prompt, the decision on the model's draft
(decide.py: the gate and an ordered list of named checks with typed reasons), quoting and translating evidence.
May import: rag.config, rag.records, rag.errors, rag.language, rag.engines, rag.store, rag.ingest, rag.search,
rag.pipeline."""
