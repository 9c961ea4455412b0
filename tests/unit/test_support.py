"""The semantic support check as pure functions over tiny hand-made vectors and multilingual answers."""

from __future__ import annotations

import numpy as np
import pytest

from rag.answer.support import Claim, claims, support_scores


def unit(*values: float) -> np.ndarray:
    vector = np.array(values, np.float32)
    return vector / np.linalg.norm(vector)


def test_each_claim_takes_its_best_evidence_sentence():
    evidence = np.stack([unit(1, 0, 0, 0), unit(0, 1, 0, 0)])
    answer = np.stack([unit(0.9, 0.1, 0, 0), unit(0, 0, 1, 0)])  # one near the first sentence, one near none
    scores = support_scores(answer, evidence)
    assert scores[0] == pytest.approx(0.9 / np.hypot(0.9, 0.1)) and scores[1] == 0


def test_no_evidence_supports_nothing():
    assert support_scores(np.stack([unit(1, 0)]), np.zeros((0, 2), np.float32)).tolist() == [0.0]


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (
            "At the Commemorative Summit the leaders agreed to upgrade relations [1]. It was reported on 28 October 2025 [2].",
            [
                Claim("At the Commemorative Summit the leaders agreed to upgrade relations.", (1,)),
                Claim("It was reported on 28 October 2025.", (2,)),
            ],
        ),
        (
            "双方设定了30亿美元的目标。该目标针对2026年[1]。",
            [Claim("双方设定了30亿美元的目标。", (1,)), Claim("该目标针对2026年。", (1,))],
        ),
        ("Hai bên nhất trí [1, 2].", [Claim("Hai bên nhất trí.", (1, 2))]),
        ("No marker at all.", [Claim("No marker at all.", ())]),
        ("[1]", []),
    ],
)
def test_an_answer_splits_into_claims_that_carry_their_markers(answer, expected):
    assert claims(answer) == expected
