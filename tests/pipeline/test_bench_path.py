"""The benchmark times the product's own path: its prompt and retrieval steps come from rag.answer.ask.prepare."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bench.llm import prompt_for
from bench.query import retrieval_steps
from rag.answer.ask import prepare

QUESTION = "Việt Nam xuất khẩu bao nhiêu gạo?"


def test_the_bench_times_the_prompt_the_product_sends(fake_pipeline):
    prompt = prompt_for(fake_pipeline, QUESTION)
    assert prompt == prepare(QUESTION, fake_pipeline).prompt
    assert "[2]" in prompt.user and "[2]" not in prompt_for(fake_pipeline, QUESTION, top_k=1).user


def test_a_gated_question_has_no_prompt_to_time(fake_pipeline):
    settings = fake_pipeline.settings.with_(min_relevance=1.0, min_relevance_same_language=1.0)
    strict = replace(fake_pipeline, settings=settings)
    with pytest.raises(SystemExit, match="gate abstains"):
        prompt_for(strict, QUESTION)


def test_each_retrieval_step_is_timed_on_the_products_inputs(fake_pipeline):
    steps = retrieval_steps(fake_pipeline, QUESTION, repeat=2)
    assert list(steps) == [
        "query embedding",
        "FAISS search",
        "hybrid search (FAISS + BM25 + fusion)",
        "sentence rerank + passage selection",
        "prompt build",
    ]
    assert all(len(samples) == 2 for samples in steps.values())
