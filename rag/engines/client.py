"""One remote OpenAI-compatible server: its client, made on first use, and its failures (refused connection,
timeout, error status, malformed answer) translated into one-line domain errors that name it."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from rag.errors import (
    EngineBadResponse,
    EngineError,
    EngineFailed,
    EngineTimeout,
    EngineUnreachable,
    MissingDependency,
)


class Engine:
    """One remote server: a lazily made OpenAI client (no retries, explicit timeout), the model to ask for, and
    its error translation."""

    def __init__(self, role: str, url: str, model: str = "", api_key: str = "", timeout_s: float = 60.0) -> None:
        self.role = role  # "generation" or "embedding", named in every error message
        self.url = with_api_path(url)
        self.configured_model = model  # "" asks the server for its first model on first use
        self.api_key = api_key
        self.timeout_s = timeout_s
        self._client: Any = None

    @property
    def model(self) -> str:
        """The configured model, or else the first model the server lists (asked once)."""
        if not self.configured_model:
            self.configured_model = self.first_model()
        return self.configured_model

    @property
    def client(self) -> Any:
        if self._client is None:
            try:
                import openai
            except ImportError:
                raise MissingDependency("the openai package is missing: pip install openai") from None
            timeout = openai.Timeout(self.timeout_s, connect=min(self.timeout_s, 10.0))
            self._client = openai.OpenAI(
                base_url=self.url, api_key=self.api_key or "none", timeout=timeout, max_retries=0
            )
        return self._client

    @contextlib.contextmanager
    def errors(self) -> Iterator[None]:
        """Turn a failed call into one EngineError that names the engine and what went wrong."""
        import openai

        where = f"the {self.role} engine at {self.url}"
        try:
            yield
        except EngineError:
            raise
        except openai.APITimeoutError:
            raise EngineTimeout(f"{where} did not answer within {self.timeout_s:g} s") from None
        except openai.APIConnectionError as exc:
            raise EngineUnreachable(f"cannot reach {where} ({_reason(exc.__cause__ or exc)})") from None
        except openai.APIStatusError as exc:
            raise EngineFailed(f"{where} answered HTTP {exc.status_code}{_hint(exc.status_code)}") from None
        except openai.APIResponseValidationError as exc:
            raise EngineBadResponse(f"{where} sent a malformed response ({_reason(exc)})") from None
        except openai.APIError as exc:  # an error event inside a stream
            raise EngineFailed(f"{where} reported an error: {_reason(exc)}") from None
        except (ValueError, TypeError, AttributeError, KeyError, IndexError) as exc:  # not JSON, or another shape
            raise EngineBadResponse(f"{where} sent a malformed response ({type(exc).__name__})") from None

    def malformed(self, what: str) -> EngineBadResponse:
        return EngineBadResponse(f"the {self.role} engine at {self.url} sent a malformed response ({what})")

    def first_model(self) -> str:
        """The first model the server lists, for when no model name is configured."""
        with self.errors():
            ids = [getattr(m, "id", None) for m in self.client.models.list()]
        if not ids or not isinstance(ids[0], str):
            raise self.malformed("no model in /models")
        return ids[0]


def with_api_path(url: str) -> str:
    """The base URL the OpenAI client needs: `http://host:8080` becomes `http://host:8080/v1`."""
    url = url.rstrip("/")
    return url + "/v1" if urlsplit(url).path in ("", "/") else url


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.split("] ", 1)[-1].lower() if text.startswith("[Errno") else text.splitlines()[0][:160]


def _hint(status: int) -> str:
    if status in (401, 403):
        return ": the key was refused (set RAG_LLM_API_KEY / RAG_EMBED_API_KEY)"
    if status == 404:
        return ": no such model or path (check the URL ends in /v1 and RAG_LLM_MODEL / RAG_EMBED_MODEL)"
    return " (a server error)" if status >= 500 else ""
