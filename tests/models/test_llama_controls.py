"""The local engine's controls that the benchmark uses, with a real small GGUF: turning probability noting off and
forgetting the kept heads (`reset`) leave a greedy reply as it was."""

from __future__ import annotations

from rag.answer.prompt import translation_prompt
from rag.config import PROJECT_DIR
from rag.engines.llama import LlamaCppGenerator
from rag.engines.protocols import joined

SMALL_GGUF = PROJECT_DIR / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"


def test_noting_off_and_reset_leave_the_greedy_reply_as_it_was():
    generator = LlamaCppGenerator(SMALL_GGUF, n_ctx=1024, threads=1, max_tokens=12)
    prompt = translation_prompt("Hai nước nâng cấp quan hệ vào tháng 3 năm 2024.", "en")
    noted = list(generator.stream(prompt))
    assert noted and all(piece.probability is not None for piece in noted)
    generator.note_probability = False
    generator.reset()
    plain = list(generator.stream(prompt))
    assert joined(plain) == joined(noted)
    assert all(piece.probability is None for piece in plain)
    tokens, head = generator.prompt_tokens(prompt)
    assert 0 < head < len(tokens)
