"""The OpenAI-compatible API: /v1/models, /v1/chat/completions (with citations, streamed or not) and /health."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

from rag.errors import RagError
from rag.store import storage
from rag.web.jobs import Event, Job
from rag.web.openai_format import (
    MODEL,
    ApiError,
    Chunks,
    completion,
    conversation,
    error,
    error_event,
    lost,
    parse,
)
from rag.web.service import Service

DISCONNECT_POLL_S = 0.25


def build_api(served: Service, api_key: str, max_request_bytes: int, timeout_s: float) -> FastAPI:
    """A FastAPI app with the API's routes; the UI is mounted at / beside it."""
    app = FastAPI(title="rag", docs_url=None, redoc_url=None, openapi_url=None)
    app.add_exception_handler(ApiError, lambda _request, exc: exc.response())
    app.add_exception_handler(RagError, lambda _request, exc: error(exc).response())  # e.g. a damaged new index
    v1 = APIRouter(prefix="/v1", dependencies=[Depends(_auth(api_key))])

    @v1.get("/models")
    def models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": MODEL, "object": "model", "created": 0, "owned_by": "rag"}]}

    @v1.post("/chat/completions", response_model=None)
    async def chat_completions(request: Request) -> JSONResponse | StreamingResponse:
        chat = parse(await read_body(request, max_request_bytes))
        pipeline = served.pipeline
        question, history = conversation(chat, pipeline.settings.max_question_chars)
        job = Job(pipeline, question, history, served.queue, timeout_s).start()  # Busy: 503, nothing started
        watcher = asyncio.create_task(cancel_on_disconnect(request, job))
        streaming = False
        try:
            first = await job.next()
            if first[0] not in ("piece", "answer"):
                raise error(first[1]) if first[0] == "error" else lost()
            if chat.stream:
                watcher.cancel()  # from here the streaming response watches the connection itself
                streaming = True
                return StreamingResponse(stream(job, first), media_type="text/event-stream", headers=NO_BUFFERING)
            return JSONResponse(await complete(job, first))
        finally:
            watcher.cancel()
            if not streaming:
                job.cancel()

    @app.get("/health")
    def health() -> JSONResponse:
        pipeline = served.pipeline
        index = pipeline.index
        ready = storage.exists(pipeline.settings.collection_dir)
        body = {
            "status": "ready" if ready else "no index",
            "index": {"documents": len(index.files), "chunks": len(index.chunks)},
            "embedder": pipeline.embedder.model_id,
            "generator": pipeline.generator.model_id,
            "queue": {"waiting": served.queue.waiting, "size": served.queue.size, "generating": served.queue.running},
        }
        return JSONResponse(body, 200 if ready else 503)

    app.include_router(v1)
    return app


NO_BUFFERING = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def _auth(api_key: str) -> Any:
    expected = f"Bearer {api_key}".encode()

    def check(request: Request) -> None:
        if not api_key:
            return
        given = request.headers.get("authorization", "").encode()
        if not secrets.compare_digest(given, expected):
            raise ApiError(
                401,
                "a valid API key is required: send `Authorization: Bearer <key>`",
                "authentication_error",
                "invalid_api_key",
                headers={"WWW-Authenticate": "Bearer"},
            )

    return check


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 as soon as it passes `limit` bytes."""
    declared = request.headers.get("content-length", "")
    too_large = ApiError(413, f"the request body is larger than {limit // 1024} KB", code="request_too_large")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    body = bytearray()
    async for part in request.stream():
        body += part
        if len(body) > limit:
            raise too_large
    return bytes(body)


async def cancel_on_disconnect(request: Request, job: Job) -> None:
    """Cancel the job when the client goes away while it waits for the model or for the whole answer."""
    while not job.cancelled.is_set():
        if await request.is_disconnected():
            job.cancel()
            return
        await asyncio.sleep(DISCONNECT_POLL_S)


async def complete(job: Job, event: Event) -> dict[str, Any]:
    """Run the job to its Answer and shape it as a chat.completion."""
    while event[0] == "piece":
        event = await job.next()
    if event[0] != "answer":
        raise error(event[1]) if event[0] == "error" else lost()
    return completion(event[1])


async def stream(job: Job, event: Event) -> AsyncIterator[str]:
    """Server-sent events: the draft as it is written, then the final chunk (see Chunks.final), then [DONE].
    Leaving early (the client went away) cancels the job, which stops the model."""
    chunks = Chunks()
    try:
        yield chunks.delta({"role": "assistant", "content": ""})
        draft = ""
        while event[0] == "piece":
            draft += event[1]
            if event[1]:
                yield chunks.delta({"content": event[1]})
            event = await job.next()
        if event[0] == "answer":
            yield chunks.final(event[1], draft)
        else:
            yield error_event(error(event[1]) if event[0] == "error" else lost())
        yield "data: [DONE]\n\n"
    finally:
        job.cancel()
