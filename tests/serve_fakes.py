"""Serve the real ASGI app (UI at /, API at /v1) over a pipeline with the fake models, on a loopback port.

    python -m tests.serve_fakes --port 8123 --workdir /tmp/x [--pieces 8 --delay 0.05 --log /tmp/x/gen.log]

Settings come from RAG_* variables as in `rag serve` (RAG_API_KEY, RAG_QUEUE_SIZE, RAG_REQUEST_TIMEOUT,
RAG_LLM_URL, ...); the index of a small three-language corpus is built in the work folder with the hash embedder.
With RAG_LLM_URL set, the generator is the remote engine and only the embedder is fake.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rag.config import load_settings
from rag.ingest.build import index_files
from rag.pipeline import load_pipeline, make_generator
from rag.web.server import launch
from rag.web.service import Service
from tests.fakes import EchoGenerator, HashEmbedder

DOCUMENTS = {
    "vi.txt": " date 2024-05-01 Hợp tác lúa gạo\n\nViệt Nam xuất khẩu 8 triệu tấn gạo năm 2023. Thị trường chính là "
    "Philippines.\n",
    "zh.md": "# 熊猫保护\n\n2016年，大熊猫从濒危降为易危。四川是大熊猫的主要栖息地。\n",
    "en.txt": "Kiwi birds\n\nThe kiwi is a flightless bird native to New Zealand. It lays very large eggs.\n",
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--pieces", type=int, default=2, help="pieces the fake model writes an answer in")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before each piece")
    parser.add_argument("--log", type=Path, help="the fake model notes each piece here, and 'closed' when stopped")
    args = parser.parse_args()
    corpus = args.workdir / "docs"
    corpus.mkdir(parents=True, exist_ok=True)
    for name, text in DOCUMENTS.items():
        (corpus / name).write_text(text, encoding="utf-8")
    settings = load_settings(
        index_dir=args.workdir / "index",
        upload_dir=args.workdir / "uploads",
        min_relevance=0.0,
        min_relevance_same_language=0.0,
    )
    embedder = HashEmbedder()
    index_files([corpus], settings, embedder)
    generator = (
        make_generator(settings.engines)
        if settings.engines.llm_url
        else EchoGenerator(pieces=args.pieces, delay=args.delay, log=args.log)
    )
    launch(Service(load_pipeline(settings, embedder, generator)), "127.0.0.1", args.port)


if __name__ == "__main__":
    main()
