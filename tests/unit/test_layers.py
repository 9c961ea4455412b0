"""Imports go one way: the core under rag/ never reaches the web edge, the CLI or a web framework."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from rag.config import PROJECT_DIR

RAG = PROJECT_DIR / "rag"
EDGE_ONLY = ("gradio", "fastapi", "uvicorn", "starlette", "rag.web", "rag.cli", "app")


def imported_modules(path: Path) -> set[str]:
    """Every module `path` imports, anywhere in the file, as dotted names (`from rag import web` gives rag.web)."""
    package = list(path.relative_to(PROJECT_DIR).parent.parts)
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            within = package[: len(package) - node.level + 1] if node.level else []  # `from . import x`
            base = ".".join([*within, *([node.module] if node.module else [])])
            found |= {base} | {f"{base}.{alias.name}" for alias in node.names}
    return found


def reaches_the_edge(modules: set[str]) -> set[str]:
    return {m for m in modules if any(m == edge or m.startswith(edge + ".") for edge in EDGE_ONLY)}


def test_the_core_never_imports_the_edge() -> None:
    core = [p for p in RAG.rglob("*.py") if p != RAG / "cli.py" and RAG / "web" not in p.parents]
    assert len(core) > 15 and RAG / "answering.py" in core
    wrong = {p.relative_to(PROJECT_DIR).as_posix(): sorted(reaches_the_edge(imported_modules(p))) for p in core}
    assert {name: edge for name, edge in wrong.items() if edge} == {}


def test_the_import_scan_sees_the_edge_where_it_is() -> None:
    """The scan above can fail: it finds the imports the edge modules really make."""
    assert "rag.web.server" in reaches_the_edge(imported_modules(RAG / "cli.py"))  # imported inside a function
    assert "gradio" in reaches_the_edge(imported_modules(RAG / "web" / "chat.py"))
    assert "rag.web.render" in imported_modules(RAG / "web" / "chat.py")


def test_importing_the_core_and_the_cli_loads_no_model_and_no_web_framework() -> None:
    code = (
        "import sys, rag.cli, rag.answering, rag.pipeline, rag.evaluation; "
        "print(*(m in sys.modules for m in ('torch', 'llama_cpp', 'gradio', 'rag.web')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=PROJECT_DIR, check=True)
    assert out.stdout.split() == ["False", "False", "False", "False"]
