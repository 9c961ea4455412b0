"""The OpenAI-compatible API: /v1/models (one per collection), /v1/chat/completions (with citations, streamed or
not), /v1/documents (list, delete) and /health."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

from rag.config import DEFAULT_COLLECTION
from rag.errors import RagError
from rag.store import catalog, storage
from rag.web.jobs import Event, Job
from rag.web.openai_format import (
    ApiError,
    Chunks,
    collection_of,
    completion,
    conversation,
    error,
    error_event,
    lost,
    model_id,
    parse,
    sources,
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
        """One model per collection: `rag` answers from the default one, `rag/NAME` from another."""
        data = [{"id": model_id(c), "object": "model", "created": 0, "owned_by": "rag"} for c in served.collections()]
        return {"object": "list", "data": data}

    @v1.get("/documents")
    def list_documents(collection: str = DEFAULT_COLLECTION) -> dict[str, Any]:
        index = served.pipeline_for(collection).index  # NotFound: 404; a bad name: 400
        rows = catalog.documents(index, served.settings.ingest.ocr_min_confidence)
        return {"object": "list", "collection": collection, "data": [asdict(row) for row in rows]}

    @v1.delete("/documents/{name}")
    def delete_document(name: str, collection: str = DEFAULT_COLLECTION) -> dict[str, Any]:
        with served.indexing:
            index = catalog.remove(served.settings_for(collection).store, [name])  # an unknown name: 404
        return {"object": "document", "id": name, "deleted": True, "collection": collection, "files": len(index.files)}

    @v1.post("/chat/completions", response_model=None)
    async def chat_completions(request: Request) -> JSONResponse | StreamingResponse:
        chat = parse(await read_body(request, max_request_bytes))
        collection = collection_of(chat.model, served.collections())
        pipeline = await asyncio.to_thread(served.pipeline_for, collection)
        question, history = conversation(chat, pipeline.settings.answer.max_question_chars)
        job = Job(pipeline, question, history, served.queue, timeout_s).start()  # Busy: 503, nothing started
        watcher = asyncio.create_task(cancel_on_disconnect(request, job))
        streaming = False
        try:
            first = await job.next()
            if first[0] not in ("sources", "piece", "answer"):
                raise error(first[1]) if first[0] == "error" else lost()
            if chat.stream:
                watcher.cancel()  # from here the streaming response watches the connection itself
                streaming = True
                events = stream(job, first, chat.model)
                return StreamingResponse(events, media_type="text/event-stream", headers=NO_BUFFERING)
            return JSONResponse(await complete(job, first, chat.model))
        finally:
            watcher.cancel()
            if not streaming:
                job.cancel()

    @app.get("/health")
    def health() -> JSONResponse:
        pipeline = served.pipeline
        index = pipeline.index
        ready = storage.exists(pipeline.settings.store.collection_dir)
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


async def complete(job: Job, event: Event, model: str) -> dict[str, Any]:
    """Run the job to its Answer and shape it as a chat.completion."""
    while event[0] in ("sources", "piece"):
        event = await job.next()
    if event[0] != "answer":
        raise error(event[1]) if event[0] == "error" else lost()
    return completion(event[1], model)


async def stream(job: Job, event: Event, model: str) -> AsyncIterator[str]:
    """Server-sent events: the draft as it is written, then the final chunk (see Chunks.final), then [DONE].
    Leaving early (the client went away) cancels the job, which stops the model."""
    chunks = Chunks(model)
    try:
        if event[0] == "sources":  # the passages the model reads, sent before it writes
            yield chunks.delta({"role": "assistant", "content": ""}, sources=sources(event[1]))
            event = await job.next()
        else:
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
