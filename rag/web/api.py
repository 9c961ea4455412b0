"""The OpenAI-compatible API: /v1/models, /v1/chat/completions (with citations, streamed or not) and /health."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr, ValidationError

from rag import storage
from rag.answering import clean_question
from rag.errors import (
    BadQuestion,
    Busy,
    EngineError,
    EngineTimeout,
    EngineUnreachable,
    IndexProblem,
    RagError,
    TooSlow,
)
from rag.records import Answer
from rag.web.jobs import Job
from rag.web.service import Service

MODEL = "rag"
RETRY_AFTER_S = 5
DISCONNECT_POLL_S = 0.25
# The first class an error is an instance of decides; any other RagError is a 500.
STATUS = {Busy: 503, TooSlow: 504, EngineTimeout: 504, EngineUnreachable: 503, EngineError: 502, IndexProblem: 503}


class ApiError(Exception):
    """An OpenAI-style error response."""

    def __init__(
        self,
        status: int,
        message: str,
        kind: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.kind, self.code, self.param, self.headers = status, kind, code, param, headers

    def response(self) -> JSONResponse:
        body = {"error": {"message": str(self), "type": self.kind, "param": self.param, "code": self.code}}
        return JSONResponse(body, self.status, headers=self.headers)


class Part(BaseModel):
    type: StrictStr
    text: StrictStr | None = None


class Message(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: StrictStr | list[Part] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return " ".join(p.text or "" for p in self.content if p.type == "text")
        return self.content or ""


class ChatRequest(BaseModel):
    """The fields this API reads; others (temperature, max_tokens, …) are accepted and ignored."""

    model_config = ConfigDict(extra="allow")
    model: StrictStr
    messages: list[Message] = Field(min_length=1)
    stream: StrictBool = False


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
        ready = storage.exists(pipeline.settings.index_dir)
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


def parse(body: bytes) -> ChatRequest:
    try:
        chat = ChatRequest.model_validate_json(body)
    except ValidationError as problem:
        first = problem.errors()[0]
        where = ".".join(str(x) for x in first["loc"])
        if first["type"] == "json_invalid":
            raise ApiError(400, "the request body is not valid JSON", code="invalid_json") from None
        raise ApiError(400, f"{where or 'body'}: {first['msg']}", param=where or None) from None
    if chat.model != MODEL:
        raise ApiError(
            404, f"the model {chat.model!r} does not exist; use {MODEL!r}", code="model_not_found", param="model"
        )
    return chat


def conversation(chat: ChatRequest, max_chars: int) -> tuple[str, list[str]]:
    """The question (the last message, which must be the user's) and the earlier questions, which let a
    follow-up ("and with Korea?") be searched together with the question it follows, as in the UI."""
    last = chat.messages[-1]
    if last.role != "user":
        raise ApiError(400, "the last message must be the user's question", param="messages")
    try:
        question = clean_question(last.text(), max_chars)
    except BadQuestion as problem:
        raise ApiError(400, str(problem), param="messages", code="bad_question") from None
    return question, [m.text() for m in chat.messages[:-1] if m.role == "user" and m.text().strip()]


def error(problem: RagError) -> ApiError:
    status = next((code for kind, code in STATUS.items() if isinstance(problem, kind)), 500)
    headers = {"Retry-After": str(RETRY_AFTER_S)} if isinstance(problem, Busy | EngineUnreachable) else None
    code = {503: "unavailable", 504: "timeout", 502: "engine_error"}.get(status, "server_error")
    if isinstance(problem, Busy):
        code = "queue_full"
    return ApiError(status, str(problem), "server_error", code, headers=headers)


async def cancel_on_disconnect(request: Request, job: Job) -> None:
    """Cancel the job when the client goes away while it waits for the model or for the whole answer."""
    while not job.cancelled.is_set():
        if await request.is_disconnected():
            job.cancel()
            return
        await asyncio.sleep(DISCONNECT_POLL_S)


def lost() -> ApiError:
    return ApiError(500, "the answer was lost: the request was cancelled", "server_error")


def completion_id() -> str:
    return f"chatcmpl-{uuid.uuid4().hex}"


def citations(answer: Answer) -> list[dict[str, Any]]:
    """The answer's checked citations: n, source, title, date, start, end, page where known, text."""
    return list(answer.to_dict()["citations"])


async def complete(job: Job, event: tuple[str, Any]) -> dict[str, Any]:
    """Run the job to its Answer and shape it as a chat.completion with citations."""
    while event[0] == "piece":
        event = await job.next()
    if event[0] != "answer":
        raise error(event[1]) if event[0] == "error" else lost()
    answer: Answer = event[1]
    return {
        "id": completion_id(),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": MODEL,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": answer.text},
                "finish_reason": "stop",
                "logprobs": None,
            }
        ],
        "citations": citations(answer),
        "abstained": answer.abstained,
        "outcome": answer.outcome.value,
    }


async def stream(job: Job, event: tuple[str, Any]) -> AsyncIterator[str]:
    """Server-sent chat.completion.chunk events: the draft as it is written, then the checked answer's
    citations in the final chunk, then [DONE]. A draft that fails the checks is followed by why, and by the
    checked answer (also in the final chunk's `answer`)."""
    cid, created = completion_id(), int(time.time())

    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
        body = {
            "id": cid,
            "object": "chat.completion.chunk",
            "created": created,
            "model": MODEL,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
            **extra,
        }
        return f"data: {json.dumps(body, ensure_ascii=False, separators=(',', ':'))}\n\n"

    try:
        yield chunk({"role": "assistant", "content": ""})
        draft = ""
        while event[0] == "piece":
            draft += event[1]
            if event[1]:
                yield chunk({"content": event[1]})
            event = await job.next()
        if event[0] == "answer":
            answer: Answer = event[1]
            tail = "" if answer.text == draft.strip() else answer.text
            if tail and draft.strip():  # the streamed draft failed a check: say so, then give the checked answer
                tail = f"\n\n({answer.note()})\n\n{tail}"
            yield chunk(
                {"content": tail} if tail else {},
                "stop",
                citations=citations(answer),
                abstained=answer.abstained,
                outcome=answer.outcome.value,
                answer=answer.text,
            )
        else:
            problem = error(event[1]) if event[0] == "error" else lost()
            yield f"data: {json.dumps({'error': {'message': str(problem), 'type': problem.kind, 'code': problem.code}})}\n\n"
        yield "data: [DONE]\n\n"
    finally:
        job.cancel()
