"""ultrafeedback on its sample: score, single-turn, refusal and equality filters, and the
validation of both sides."""

import pytest

from bagel_core import uid
from bagel_core.testing import load_sample
from bagel_dpo_builtin.ultrafeedback import UltraFeedback


def test_dpo_ultrafeedback_exact_pairs():
    records, _ = load_sample(UltraFeedback)
    assert records[0] == {
        "id": uid("Explain why the sky is blue in one sentence."),
        "source": "ultrafeedback",
        "prompt": "Explain why the sky is blue in one sentence.",
        "chosen": "Sunlight scatters off air molecules, and blue light scatters the most because of its short wavelength.",
        "rejected": "Because the ocean reflects onto it.",
    }
    # score_chosen of exactly 8 passes; the repeated prompt is still loaded (dedup is the core's)
    assert [r["prompt"] for r in records[1:]] == [
        "What is 12 times 12?",
        "Explain why the sky is blue in one sentence.",
    ]
    assert records[2]["id"] == records[0]["id"]


def test_dpo_ultrafeedback_filters_and_malformed_rows():
    _, counts = load_sample(UltraFeedback)
    assert counts.filtered == {
        "chosen score below minimum": 1,
        "not single-turn": 1,
        "refusal in chosen": 1,  # "As an AI language model", capitalised
        "chosen equals rejected": 1,  # "Yes." vs " yes. "
    }
    assert counts.rejected == {
        "chosen: empty response": 1,
        "rejected: empty response": 1,
        "rejected: roles are not user, assistant": 1,
    }


def test_dpo_ultrafeedback_options():
    records, counts = load_sample(UltraFeedback, {"min_chosen_score": 0.0, "refusal_patterns": "head"})
    assert "chosen score below minimum" not in counts.filtered
    assert "List two uses of copper." in {r["prompt"] for r in records}  # score 7.5
    with pytest.raises(
        ValueError,
        match="DPO builder 'ultrafeedback': refusal_patterns = 'strict' is not allowed; expected one of 'v0.2', 'head'",
    ):
        load_sample(UltraFeedback, {"refusal_patterns": "strict"})
