"""The chat page: its layout and events, served by Gradio; the pipeline is built once and shared."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr

from rag.config import Settings
from rag.loading import SUFFIXES
from rag.pipeline import load_pipeline
from rag.web.chat import ChatState, respond
from rag.web.render import NO_SOURCES, status_text
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

    def on_upload(files: list[str] | None, progress: gr.Progress = TRACK_PROGRESS) -> tuple[str, str]:
        return upload(service, files, progress), status_text(service.pipeline)

    with gr.Blocks(title="Ask your documents") as demo:
        chat = gr.State(ChatState())
        gr.Markdown("## Ask your documents\nAsk in English, Tiếng Việt or 中文; answers cite the passages they use.")
        status = gr.Markdown(status_text(service.pipeline), elem_id="status")
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
                with gr.Accordion("Add documents", open=True):
                    kinds = sorted(SUFFIXES)
                    files = gr.File(label=f"Upload {', '.join(kinds)}", file_count="multiple", file_types=kinds)
                    upload_report = gr.Markdown(elem_id="upload-report")
        ask_event: dict[str, Any] = {"fn": on_ask, "inputs": [box, chat], "outputs": [chatbot, sources, chat, box]}
        box.submit(**ask_event, api_name="ask", concurrency_limit=1, concurrency_id="generate")
        send.click(**ask_event, api_visibility="private", concurrency_limit=1, concurrency_id="generate")
        files.upload(on_upload, [files], [upload_report, status], api_name="upload", concurrency_limit=1)
        chatbot.clear(lambda: (ChatState(), NO_SOURCES), None, [chat, sources], api_visibility="private")
        demo.load(lambda: status_text(service.pipeline), None, status, api_visibility="private")
    return demo


def launch(service: Service, host: str = "127.0.0.1", port: int = 7860, block: bool = True) -> gr.Blocks:
    """Queue and serve the UI; with block=False it returns at once (tests run it in the background)."""
    demo = build_ui(service).queue(max_size=64)
    settings = service.pipeline.settings
    demo.launch(
        server_name=host,
        server_port=port,
        prevent_thread_lock=not block,
        max_file_size=int(settings.max_file_mb * 1024 * 1024),
        css=CSS,
        theme=gr.themes.Soft(font=SYSTEM_FONTS, font_mono=MONO_FONTS),  # local fonts: the UI works offline
        footer_links=[],
        quiet=not block,
    )
    return demo


def main(settings: Settings, host: str = "127.0.0.1", port: int = 7860) -> None:
    """Load the index and both models once, then serve the chat UI."""
    pipeline = load_pipeline(settings)
    pipeline.embedder.warm_up()
    pipeline.generator.warm_up()
    launch(Service(pipeline), host, port)
