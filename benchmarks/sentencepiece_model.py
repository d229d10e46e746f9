"""A tiny random Llama whose tokenizer is SentencePiece-style (``Metaspace``: spaces become
``▁`` and a ``▁`` is prepended to every text that does not start with one, as Llama 2's and
Mistral v0.1's legacy tokenizers do), its vocabulary trained on a bagel output's rows: the
second tokenizer family for ``token_parity.py`` (the tests' tokenizer is byte-level BPE). No
download. Usage::

    python benchmarks/sentencepiece_model.py --out bagel-out --folder sp-llama
    python benchmarks/token_parity.py --out bagel-out --model sp-llama
"""

from __future__ import annotations

import argparse
from pathlib import Path


def build(out: Path, folder: Path, vocab_size: int = 2000) -> None:
    import pyarrow.parquet as pq
    import torch
    from tokenizers import SentencePieceBPETokenizer, processors
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    table = pq.read_table(out / "sft.parquet", columns=["input", "output"])
    texts = [t for c in ("input", "output") for t in table.column(c).to_pylist()]
    sp = SentencePieceBPETokenizer(unk_token="<unk>")
    sp.train_from_iterator(texts, vocab_size=vocab_size, special_tokens=["<s>", "</s>", "<pad>", "<unk>"])
    sp.post_processor = processors.TemplateProcessing(
        single="<s> $A", pair="<s> $A <s> $B", special_tokens=[("<s>", sp.token_to_id("<s>"))]
    )
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=sp._tokenizer, bos_token="<s>", eos_token="</s>", pad_token="<pad>", unk_token="<unk>"
    )
    tokenizer.save_pretrained(folder)
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=4,
        max_position_embeddings=512,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    LlamaForCausalLM(config).save_pretrained(folder)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="a bagel output folder (its rows train the vocabulary)")
    parser.add_argument("--folder", type=Path, required=True, help="where the model folder goes")
    args = parser.parse_args()
    build(args.out, args.folder)
    print(f"saved a tiny SentencePiece-style Llama to {args.folder}")


if __name__ == "__main__":
    main()
