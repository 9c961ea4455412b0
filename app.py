"""Serve the chat UI: `python app.py` does what `rag serve` does (settings from RAG_* variables)."""

from rag.config import load_settings
from rag.web.server import main

if __name__ == "__main__":
    main(load_settings())
