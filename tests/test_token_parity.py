"""Token parity across the ecosystem (benchmarks/token_parity.py): the rows of `bagel run
--sample` tokenized by trl's own SFTTrainer/DPOTrainer on `load_dataset(OUT, cfg)`, by axolotl's
rule and by LLaMA-Factory's (`template: empty` on the exported copies) equal `bagel train`'s ids
and loss masks: prompt masked, answer + EOS trained."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
from engine_fixtures import tool_code

ROOT = Path(__file__).resolve().parents[1]


def _parity():
    spec = importlib.util.spec_from_file_location("token_parity", ROOT / "benchmarks" / "token_parity.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_trl_and_axolotl_build_bagels_tokens(bagel_sample_out, tiny_llama):
    """Identical in every format, vicuna included: the rows are cut on a token boundary."""
    from transformers import AutoTokenizer

    parity = _parity()
    tokenizer = AutoTokenizer.from_pretrained(tiny_llama)
    sft = pq.read_table(bagel_sample_out / "sft.parquet").to_pylist()
    ours = parity.bagel_sft(tokenizer, sft)
    assert all(mask[-1] == 1 and ids[-1] == tokenizer.eos_token_id for ids, mask in ours)  # EOS trained
    assert all(mask[0] == 0 for ids, mask in ours)  # BOS (and the prompt) masked
    assert parity.axolotl_sft(tokenizer, bagel_sample_out, sft) == ours
    trl = parity.trl_sft(bagel_sample_out, str(tiny_llama), tokenizer)
    assert [(list(a), list(b)) for a, b in trl] == ours
    formats = [r["format"] for r in sft]
    assert parity.compare(ours, trl, formats) == {f: (formats.count(f), formats.count(f)) for f in set(formats)}
    assert set(formats) == {"alpaca", "chatml", "llama-2", "plain-text", "vicuna"}

    dpo = pq.read_table(bagel_sample_out / "dpo.parquet").to_pylist()
    ours = parity.bagel_dpo(tokenizer, dpo)
    assert len(ours) == 2 * len(dpo)
    assert [(list(a), list(b)) for a, b in parity.trl_dpo(bagel_sample_out, str(tiny_llama), tokenizer)] == ours
    assert {r["format"] for r in dpo} == {"alpaca", "chatml", "llama-2", "vicuna"}

    # What made trl differ before: a vicuna prompt ended with a space, which merges into the
    # answer's first token when trl tokenizes prompt + answer as one string. The trainers'
    # columns hold the same text, cut before that space.
    vicuna = [r for r in sft if r["format"] == "vicuna"]
    assert vicuna and all(r["prompt"].endswith("ASSISTANT:") and r["completion"].startswith(" ") for r in vicuna)
    # The format's own cut (the reference's input/output) puts that space at the end of the input.
    assert any(_merges(tokenizer, r["prompt"] + " ", r["completion"][1:]) for r in vicuna)
    assert not any(_merges(tokenizer, r["prompt"], r["completion"]) for r in sft)


def _merges(tokenizer, prompt: str, answer: str) -> bool:
    """Whether tokenizing prompt + answer as one string changes the prompt's own tokens."""
    ids = tokenizer(prompt)["input_ids"]
    return tokenizer(prompt + answer)["input_ids"][: len(ids)] != ids


def test_llama_factory_rule_on_the_exported_copies(bagel_sample_out, tiny_llama, tmp_path):
    """LLaMA-Factory's `empty` template (0.9.5 src/llamafactory/data/template.py: user and
    assistant slots `{{content}}`, no prefix) encodes each text with `add_special_tokens=False`
    and masks the prompt; on `bagel export llama-factory`'s copies (BOS/EOS as text, the columns
    its dataset_info.json names) that is bagel's rows. Its own code runs in
    test_llama_factory_own_code below where it is given."""
    import json

    from transformers import AutoTokenizer

    from bagel_core.export import export

    parity = _parity()
    tokenizer = AutoTokenizer.from_pretrained(tiny_llama)
    info, sft_copy, dpo_copy = export("llama-factory", bagel_sample_out, tmp_path / "lf")
    columns = json.loads(info.read_text())["bagel_sft"]["columns"]

    def encode(text: str) -> list[int]:
        return list(tokenizer(text, add_special_tokens=False)["input_ids"])

    lf = []
    for r in pq.read_table(sft_copy).to_pylist():
        prompt, response = encode(r[columns["prompt"]]), encode(r[columns["response"]])
        lf.append((prompt + response, [0] * len(prompt) + [1] * len(response)))
    assert lf == parity.bagel_sft(tokenizer, pq.read_table(bagel_sample_out / "sft.parquet").to_pylist())
    # The rows as they are (what `template: empty` read before): no EOS, so no learning to stop.
    plain = [encode(r["completion"]) for r in pq.read_table(bagel_sample_out / "sft.parquet").to_pylist()]
    assert not any(ids and ids[-1] == tokenizer.eos_token_id for ids in plain)


def test_llama_factory_own_code(bagel_sample_out, tiny_llama):
    """LLaMA-Factory's own processors (its code from scripts/setup.sh, or BAGEL_LLAMAFACTORY_SRC),
    in a process of their own: token_parity stubs the modules it imports for images, audio and
    its CLI, stubs that must not leak into other tests."""
    from transformers import AutoTokenizer

    src = os.environ.get("BAGEL_LLAMAFACTORY_SRC") or str(tool_code("llamafactory"))
    code = (
        "import json, sys; from pathlib import Path; sys.path.insert(0, sys.argv[1]); import token_parity; "
        "print(json.dumps(token_parity.llamafactory(sys.argv[2], Path(sys.argv[3]), sys.argv[4])))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(ROOT / "benchmarks"), src, str(bagel_sample_out), str(tiny_llama)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lf_sft, lf_dpo = json.loads(done.stdout.splitlines()[-1])
    parity = _parity()
    tokenizer = AutoTokenizer.from_pretrained(tiny_llama)

    def rows(table: str, encode) -> list:
        return [
            [list(ids), list(mask)]
            for ids, mask in encode(tokenizer, pq.read_table(bagel_sample_out / table).to_pylist())
        ]

    assert lf_sft and lf_sft == rows("sft.parquet", parity.bagel_sft)
    assert lf_dpo and lf_dpo == rows("dpo.parquet", parity.bagel_dpo)
