"""Performance benchmarks of the RAG product: query path, indexing, levers and FAISS scale (`python -m bench`)."""
