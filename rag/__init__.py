"""Offline multilingual retrieval-augmented question answering with checked citations."""
