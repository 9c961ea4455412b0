"""The OpenAI chat-completions wire format: requests checked into a question, error bodies, and an Answer
shaped as a chat.completion or as chat.completion.chunk events, with its citations."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Sequence
from typing import Any, Literal

from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr, ValidationError

from rag.answer.question import read_question
from rag.config import DEFAULT_COLLECTION
from rag.errors import (
    BadQuestion,
    BadSettings,
    Busy,
    EngineError,
    EngineTimeout,
    EngineUnreachable,
    IndexProblem,
    NotFound,
    RagError,
    TooSlow,
)
from rag.records import Answer, Passage

MODEL = "rag"
RETRY_AFTER_S = 5
# The first class an error is an instance of decides; any other RagError is a 500.
STATUS = {
    NotFound: 404,
    BadSettings: 400,
    Busy: 503,
    TooSlow: 504,
    EngineTimeout: 504,
    EngineUnreachable: 503,
    EngineError: 502,
    IndexProblem: 503,
}


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


def parse(body: bytes) -> ChatRequest:
    try:
        chat = ChatRequest.model_validate_json(body)
    except ValidationError as problem:
        first = problem.errors()[0]
        where = ".".join(str(x) for x in first["loc"])
        if first["type"] == "json_invalid":
            raise ApiError(400, "the request body is not valid JSON", code="invalid_json") from None
        raise ApiError(400, f"{where or 'body'}: {first['msg']}", param=where or None) from None
    return chat


def model_id(collection: str) -> str:
    """The model id that picks a collection: `rag` for the default one, `rag/NAME` for another."""
    return MODEL if collection == DEFAULT_COLLECTION else f"{MODEL}/{collection}"


def collection_of(model: str, collections: list[str]) -> str:
    """The collection a model id picks; 404 when no collection has that id."""
    for collection in collections:
        if model_id(collection) == model:
            return collection
    known = ", ".join(repr(model_id(c)) for c in collections)
    raise ApiError(
        404, f"the model {model!r} does not exist; use one of {known}", code="model_not_found", param="model"
    )


def conversation(chat: ChatRequest, max_chars: int) -> tuple[str, list[str]]:
    """The question (the last message, which must be the user's) and the earlier questions, which let a
    follow-up ("and with Korea?") be searched together with the question it follows, as in the UI."""
    last = chat.messages[-1]
    if last.role != "user":
        raise ApiError(400, "the last message must be the user's question", param="messages")
    try:
        question = read_question(last.text(), max_chars).text
    except BadQuestion as problem:
        raise ApiError(400, str(problem), param="messages", code="bad_question") from None
    return question, [m.text() for m in chat.messages[:-1] if m.role == "user" and m.text().strip()]


def error(problem: RagError) -> ApiError:
    status = next((code for kind, code in STATUS.items() if isinstance(problem, kind)), 500)
    headers = {"Retry-After": str(RETRY_AFTER_S)} if isinstance(problem, Busy | EngineUnreachable) else None
    code = {404: "not_found", 400: "bad_request", 503: "unavailable", 504: "timeout", 502: "engine_error"}.get(
        status, "server_error"
    )
    if isinstance(problem, Busy):
        code = "queue_full"
    kind = "invalid_request_error" if status < 500 else "server_error"
    return ApiError(status, str(problem), kind, code, headers=headers)


def lost() -> ApiError:
    return ApiError(500, "the answer was lost: the request was cancelled", "server_error")


def completion_id() -> str:
    return f"chatcmpl-{uuid.uuid4().hex}"


def sources(passages: Sequence[Passage]) -> list[dict[str, Any]]:
    """The passages the model reads, as they are sent before its answer: n, source, title, date, page, span, text."""
    return [
        {
            "n": p.n,
            "source": p.chunk.source,
            "title": p.chunk.title,
            "date": p.chunk.date,
            "page": p.chunk.page_at(p.start),
            "start": p.start,
            "end": p.end,
            "text": p.text,
        }
        for p in passages
    ]


def citations(answer: Answer) -> list[dict[str, Any]]:
    """The answer's checked citations: n, source, title, date, start, end, page where known, text."""
    return list(answer.to_dict()["citations"])


def completion(answer: Answer, model: str = MODEL) -> dict[str, Any]:
    """The checked answer as a chat.completion, with citations, abstained, outcome, reason and doubt beside the choices."""
    return {
        "id": completion_id(),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
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
        "reason": answer.reason.value,
        "doubt": answer.doubt,
    }


class Chunks:
    """Server-sent chat.completion.chunk events of one response, all with the same id."""

    def __init__(self, model: str = MODEL) -> None:
        self.id, self.created, self.model = completion_id(), int(time.time()), model

    def delta(self, delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
        body = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
            **extra,
        }
        return event(body)

    def final(self, answer: Answer, draft: str) -> str:
        """The last chunk: what the draft lacks of the checked answer (why it was replaced, then the answer),
        and the answer's citations, abstained, outcome, reason, doubt and checked text."""
        tail = "" if answer.text == draft.strip() else answer.text
        if tail and draft.strip():
            tail = f"\n\n({answer.note()})\n\n{tail}"
        extra = {
            "abstained": answer.abstained,
            "outcome": answer.outcome.value,
            "reason": answer.reason.value,
            "doubt": answer.doubt,
            "answer": answer.text,
        }
        return self.delta({"content": tail} if tail else {}, "stop", citations=citations(answer), **extra)


def event(body: dict[str, Any]) -> str:
    return f"data: {json.dumps(body, ensure_ascii=False, separators=(',', ':'))}\n\n"


def error_event(problem: ApiError) -> str:
    """An error inside a stream that has begun: the openai client raises it as an APIError."""
    return event({"error": {"message": str(problem), "type": problem.kind, "code": problem.code}})
