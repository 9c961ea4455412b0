"""A tiny OpenAI-compatible HTTP server on loopback, for forcing a remote engine's failures (500, malformed
JSON, a hang past the timeout) and for fast tests of the remote embedder and generator."""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.fakes import HashEmbedder

MODES = ("ok", "unsupported", "no-logprobs", "rejects-logprobs", "500", "malformed", "wrong-shape", "hang")


class FakeEngine:
    """Serves /v1/models, /v1/embeddings and /v1/chat/completions; `mode` decides how the engine answers."""

    def __init__(self, mode: str = "ok", hang_s: float = 30.0) -> None:
        assert mode in MODES, mode
        self.mode = mode
        self.hang_s = hang_s
        self.requests: list[str] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/v1"

    def __enter__(self) -> FakeEngine:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop listening: from now on a connection is refused."""
        if self.server.socket.fileno() != -1:
            self.server.shutdown()
            self.server.server_close()


def _handler(engine: FakeEngine) -> type[BaseHTTPRequestHandler]:
    embedder = HashEmbedder()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # keep test output clean
            pass

        def do_GET(self) -> None:
            engine.requests.append(f"GET {self.path}")
            self._json({"object": "list", "data": [{"id": "fake-model", "object": "model", "owned_by": "test"}]})

        def do_POST(self) -> None:
            engine.requests.append(f"POST {self.path}")
            body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}")
            if engine.mode == "hang":
                time.sleep(engine.hang_s)
                return
            if engine.mode == "rejects-logprobs" and body.get("logprobs"):  # a server that validates strictly
                self._json({"error": {"message": "unknown field: logprobs"}}, 400)
                return
            if engine.mode == "500":
                self._json({"error": {"message": "CUDA out of memory"}}, 500)
                return
            if engine.mode == "malformed":
                self._raw(b'{"choices": [', "application/json")
                return
            if self.path.endswith("/embeddings"):
                texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
                vectors = embedder.embed_documents(texts).tolist()
                if engine.mode == "wrong-shape":
                    vectors = vectors[:-1]
                data = [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)]
                self._json({"object": "list", "model": body.get("model") or "fake-model", "data": data})
                return
            self._chat(body)

        def _chat(self, body: dict[str, Any]) -> None:
            if engine.mode == "wrong-shape":
                self._raw(b'data: {"id": "x", "choices": "none"}\n\ndata: [DONE]\n\n', "text/event-stream")
                return
            passage = re.search(r"^\[1\] \([^)]*\) (.*)$", body["messages"][-1]["content"], re.MULTILINE)
            text = (passage.group(1) if passage else "") + " [1]"
            if engine.mode == "unsupported":  # an answer that fails the citation checks
                text = "It has laid eggs since 2016 [7]."  # 2016: in the panda document only
            pieces = [text[i : i + 12] for i in range(0, len(text), 12)]
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.end_headers()
            for n, piece in enumerate(pieces, 1):
                choice: dict[str, Any] = {"index": 0, "delta": {"content": piece}, "finish_reason": None}
                if body.get("logprobs") and engine.mode != "no-logprobs":  # the n-th piece's token: logprob -n/10
                    token: dict[str, Any] = {"token": piece, "logprob": -n / 10, "bytes": None, "top_logprobs": []}
                    choice["logprobs"] = {"content": [token]}
                chunk = {"id": "x", "object": "chat.completion.chunk", "created": 0, "model": "fake-model"}
                chunk["choices"] = [choice]
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.write(b"data: [DONE]\n\n")

        def _json(self, data: object, status: int = 200) -> None:
            self._raw(json.dumps(data).encode(), "application/json", status)

        def _raw(self, data: bytes, kind: str, status: int = 200) -> None:
            self.send_response(status)
            self.send_header("content-type", kind)
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler
