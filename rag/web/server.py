"""`rag serve`: one ASGI app on one port, the chat page at / (its layout and events here), the OpenAI-compatible
API at /v1 and /health; the pipeline is built once and shared."""

from __future__ import annotations

import hmac
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import gradio as gr
import uvicorn
from fastapi import FastAPI

from rag.answer.prompt import fixed_prompts
from rag.config import Settings
from rag.ingest.read import SUFFIXES
from rag.pipeline import load_pipeline
from rag.web import documents
from rag.web.api import build_api
from rag.web.chat import ChatState, respond, translate_sources
from rag.web.render import NO_SOURCES
from rag.web.service import Service
from rag.web.uploads import upload

CSS = (Path(__file__).parent / "style.css").read_text(encoding="utf-8")
TRACK_PROGRESS = gr.Progress()  # a handler parameter defaulting to a Progress gets a progress bar in the UI
SYSTEM_FONTS = ["ui-sans-serif", "system-ui", "Noto Sans", "Noto Sans CJK SC", "sans-serif"]
MONO_FONTS = ["ui-monospace", "DejaVu Sans Mono", "monospace"]


def build_ui(service: Service) -> gr.Blocks:
    """The chat page; handlers reach the shared pipeline through `service`, conversations live in session state."""

    def on_ask(question: str, chat: ChatState) -> Iterator[tuple[Any, ...]]:
        yield from respond(service, question, chat)

    def on_translate(chat: ChatState) -> tuple[Any, ...]:
        return translate_sources(service, chat)

    def on_upload(files: list[str] | None, collection: str, progress: gr.Progress = TRACK_PROGRESS) -> tuple[Any, ...]:
        report = upload(service, files, progress, collection)
        return report, *documents.refresh(service, collection), gr.update(choices=service.collections())

    def on_collection(collection: str) -> tuple[Any, ...]:
        """Another collection: a new conversation over it, and its documents."""
        return ChatState(collection=collection), [], NO_SOURCES, *documents.refresh(service, collection)

    def on_load(collection: str) -> tuple[Any, ...]:
        """What may have changed since the page was built: the collections, the documents, the status."""
        return gr.update(choices=service.collections()), *documents.refresh(service, collection)

    first = service.settings.store.collection
    with gr.Blocks(title="Ask your documents") as demo:
        chat = gr.State(ChatState(collection=first))
        gr.Markdown("## Ask your documents\nAsk in English, Tiếng Việt or 中文; answers cite the passages they use.")
        with gr.Row():
            collection = gr.Dropdown(
                service.collections(),
                value=first,
                label="Collection (type a new name to start one with an upload)",
                allow_custom_value=True,
                elem_id="collection",
                scale=1,
            )
            status = gr.Markdown(documents.status(service, first), elem_id="status")
        with gr.Row():
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(
                    label="Chat", height=560, elem_id="chat", feedback_options=None, buttons=["copy", "copy_all"]
                )
                with gr.Row():
                    box = gr.Textbox(placeholder="Ask a question…", show_label=False, scale=6, elem_id="question")
                    send = gr.Button("Ask", variant="primary", scale=1, elem_id="ask")
            with gr.Column(scale=2):
                gr.Markdown("### Sources")
                sources = gr.HTML(NO_SOURCES, elem_id="sources")
                translate = gr.Button("Translate sources into the question's language", size="sm", elem_id="translate")
                with gr.Accordion("Add documents", open=True):
                    kinds = sorted(SUFFIXES)
                    files = gr.File(label=f"Upload {', '.join(kinds)}", file_count="multiple", file_types=kinds)
                    upload_report = gr.Markdown(elem_id="upload-report")
                with gr.Accordion("Documents", open=False, elem_id="documents-panel"):
                    grid, chosen = documents.panel(service, collection, status)
        ask_event: dict[str, Any] = {"fn": on_ask, "inputs": [box, chat], "outputs": [chatbot, sources, chat, box]}
        box.submit(**ask_event, api_name="ask", concurrency_limit=1, concurrency_id="generate")
        send.click(**ask_event, api_visibility="private", concurrency_limit=1, concurrency_id="generate")
        translate.click(
            on_translate, [chat], [sources, chat], api_name="translate", concurrency_limit=1, concurrency_id="generate"
        )
        files.upload(
            on_upload,
            [files, collection],
            [upload_report, grid, chosen, status, collection],
            api_name="upload",
            concurrency_limit=1,
        )
        collection.change(
            on_collection, [collection], [chat, chatbot, sources, grid, chosen, status], api_visibility="private"
        )
        chatbot.clear(
            lambda name: (ChatState(collection=name), NO_SOURCES),
            [collection],
            [chat, sources],
            api_visibility="private",
        )
        demo.load(on_load, [collection], [collection, grid, chosen, status], api_visibility="private")
    return demo


def build_app(service: Service) -> FastAPI:
    """The API's routes first, then the chat page mounted at / for every other path.

    With an API key set, the chat page and its own endpoints (asking, uploading) ask for it too, on a sign-in page.
    """
    settings = service.pipeline.settings
    app = build_api(
        service, settings.serve.api_key, settings.serve.max_request_kb * 1024, settings.serve.request_timeout_s
    )
    return gr.mount_gradio_app(
        app,
        build_ui(service).queue(max_size=64),
        path="/",
        auth=signs_in_with(settings.serve.api_key) if settings.serve.api_key else None,
        auth_message="This server needs its API key (RAG_API_KEY) as the password; any user name will do.",
        footer_links=[],
        max_file_size=int(settings.ingest.max_file_mb * 1024 * 1024),
        css=CSS,
        theme=gr.themes.Soft(font=SYSTEM_FONTS, font_mono=MONO_FONTS),  # local fonts: the UI works offline
    )


def signs_in_with(api_key: str) -> Callable[[str, str], bool]:
    """The chat page's sign-in check: any user name, the API key as the password (compared in constant time)."""

    def check(_user: str, password: str) -> bool:
        return hmac.compare_digest(password.encode(), api_key.encode())

    return check


class Running:
    """A server started in the background (by tests); `close()` stops it."""

    def __init__(self, server: uvicorn.Server) -> None:
        self.server = server
        self.thread = threading.Thread(target=server.run, name="rag-serve", daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 60
        while not server.started and self.thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.05)

    def close(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def launch(service: Service, host: str = "127.0.0.1", port: int = 7860) -> None:
    """Serve the UI and the API until interrupted."""
    print(f"chat UI at http://{host}:{port}/ · OpenAI-compatible API at http://{host}:{port}/v1", flush=True)
    uvicorn.Server(_config(service, host, port)).run()


def launch_in_background(service: Service, host: str = "127.0.0.1", port: int = 7860) -> Running:
    """Serve the UI and the API from a thread; returns once they answer (tests use this)."""
    return Running(uvicorn.Server(_config(service, host, port)))


def _config(service: Service, host: str, port: int) -> uvicorn.Config:
    return uvicorn.Config(build_app(service), host=host, port=port, log_level="warning", timeout_graceful_shutdown=5)


def main(settings: Settings, host: str = "127.0.0.1", port: int = 7860) -> None:
    """Load the index and both models (or reach the remote engines) once, then serve."""
    pipeline = load_pipeline(settings)
    pipeline.embedder.warm_up()
    pipeline.generator.warm_up(fixed_prompts())
    launch(Service(pipeline), host, port)
