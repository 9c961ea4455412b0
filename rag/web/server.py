"""`rag serve`: one ASGI app on one port, the chat UI at /, the OpenAI-compatible API at /v1, and /health."""

from __future__ import annotations

import gradio as gr
import uvicorn
from fastapi import FastAPI

from app import CSS, MONO_FONTS, SYSTEM_FONTS, App, build_ui
from rag.config import Settings
from rag.pipeline import load_pipeline
from rag.web.api import build_api


def build_app(app: App) -> FastAPI:
    """The API's routes first, then the UI mounted at / for every other path."""
    settings = app.pipeline.settings
    server = build_api(app, settings.api_key, settings.max_request_kb * 1024, settings.request_timeout_s)
    return gr.mount_gradio_app(
        server,
        build_ui(app).queue(max_size=64),
        path="/",
        footer_links=[],
        max_file_size=int(settings.max_file_mb * 1024 * 1024),
        css=CSS,
        theme=gr.themes.Soft(font=SYSTEM_FONTS, font_mono=MONO_FONTS),  # local fonts: the UI works offline
    )


def serve(app: App, host: str = "127.0.0.1", port: int = 7860) -> None:
    """Serve until interrupted."""
    print(f"chat UI at http://{host}:{port}/  ·  OpenAI-compatible API at http://{host}:{port}/v1", flush=True)
    uvicorn.run(build_app(app), host=host, port=port, log_level="warning", timeout_graceful_shutdown=5)


def main(settings: Settings, host: str = "127.0.0.1", port: int = 7860) -> None:
    """Load the index and both models (or reach the remote engines) once, then serve."""
    pipeline = load_pipeline(settings)
    pipeline.embedder.warm_up()
    pipeline.generator.warm_up()
    serve(App(pipeline), host, port)
