"""Synthetic upstream data for the biggest bagel sources, at any size, from a seed.

:func:`generate` writes ``ROOT/owner/name/<upstream files>`` in the upstream schemas and file
layouts the built-in plugins read, and returns (and writes to ``ROOT/expected.json``) what it
planted: rows per source, refusals, duplicates of which other source, assistant turns, pairs
a DPO builder should emit. :func:`expected_counts` turns that into the manifest counts a run
over a chosen subset of the sources must report, so tests compare exactly.

Same seed and size give byte-identical files: every random draw comes from a numpy generator
seeded with ``(seed, source)``; gzip headers carry no time; parquet files have fixed metadata.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .text import REFUSALS, TextPool

#: Rows of each upstream file (the real datasets), the shares a total size is split by.
UPSTREAM_ROWS = {
    "slimorca": 517_982,
    "mathinstruct": 262_039,
    "ultrafeedback": 60_829,
    "airoboros": 57_000,
    "helpsteer": 35_331,
}
SOURCES = tuple(UPSTREAM_ROWS)
DATASETS = {
    "slimorca": "Open-Orca/SlimOrca",
    "mathinstruct": "TIGER-Lab/MathInstruct",
    "ultrafeedback": "allenai/ultrafeedback_binarized_cleaned",
    "airoboros": "unalignment/spicy-3.1",
    "helpsteer": "nvidia/HelpSteer",
}
FILES = {
    "slimorca": "oo-labeled_correct.gpt4.sharegpt.jsonl",
    "mathinstruct": "MathInstruct.json",
    "ultrafeedback": "data/train_gen-00000-of-00001.parquet",
    "airoboros": "conversations-no-mathjson.json",
    "helpsteer": "train.jsonl.gz",
}

# Shares of planted rows (of the source's rows).
REFUSAL_SHARE = 0.02
SLIMORCA_DUP_OF_MATH = 0.015
SLIMORCA_SELF_DUP = 0.005
MATH_SELF_DUP = 0.01  # MathInstruct holds CoT and PoT versions of the same question
AIROBOROS_DUP_OF_SLIMORCA = 0.02
AIROBOROS_MULTI_TURN = 0.15
AIROBOROS_SYSTEM = 0.4
ULTRAFEEDBACK_DUP_OF_HELPSTEER = 0.03
ULTRAFEEDBACK_SAME_RESPONSES = 0.01

# Orca system prompts (the real SlimOrca ones, abridged set).
ORCA_SYSTEMS = (
    "You are an AI assistant. You will be given a task. You must generate a detailed and long answer.",
    "You are a helpful assistant, who always provide explanation. Think like you are answering to a five year old.",
    "You are an AI assistant that helps people find information.",
    "You are an AI assistant. User will you give you a task. Your goal is to complete the task as faithfully as you can. While performing the task think step-by-step and justify your steps.",
    "You are an AI assistant that follows instruction extremely well. Help as much as you can.",
    "Explain how you used the definition to come up with the answer.",
    "You should describe the task and explain your answer. While answering a multiple choice question, first output the correct answer(s). Then explain why other answers are wrong. Think like you are answering to a five year old.",
    "User will you give you a task with some instruction. Your job is follow the instructions as faithfully as you can. While answering think step-by-step and justify your answer.",
)
AIROBOROS_CATEGORIES = (
    ("general", 0.2),
    ("orca", 0.15),
    ("coding", 0.1),
    ("writing", 0.1),
    ("roleplay", 0.08),
    ("trivia", 0.07),
    ("multiple_choice", 0.05),
    ("contextual", 0.05),
    ("riddle", 0.03),
    ("joke", 0.02),
    ("misconception", 0.02),
    ("detailed_writing", 0.03),
    ("experience", 0.02),
    ("agent", 0.02),
    ("plan", 0.02),
    ("song", 0.01),
    ("stylized_response", 0.01),
    ("cot", 0.01),
    ("summarization", 0.01),
)
AIROBOROS_SYSTEMS = (
    "A chat.",
    "A chat between a curious user and an assistant.",
    "You are a world class trivia machine.",
    "You are to take on the role of: Captain Ada. Keep your replies in character.",
)
MATH_SOURCES = (
    ("data/CoT/math50k_camel.json", 0.19),
    ("data/CoT/aqua_rat.json", 0.12),
    ("data/PoT/mathqa.json", 0.11),
    ("data/CoT/gsm_rft.json", 0.1),
    ("data/PoT/gsm_gpt4.json", 0.1),
    ("data/CoT/MATH_train.json", 0.1),
    ("data/PoT/aqua_rat_filtered.json", 0.08),
    ("data/CoT/gsm_train.json", 0.06),
    ("data/PoT/MATH_train.json", 0.06),
    ("data/PoT/numglue.json", 0.05),
    ("data/CoT/college_math.json", 0.02),
    ("data/CoT/TheoremQA.json", 0.01),
)
ULTRAFEEDBACK_ORIGINS = (
    "evol_instruct",
    "false_qa",
    "flan_v2_niv2",
    "sharegpt",
    "ultrachat",
    "flan_v2_cot",
    "truthful_qa",
)
HELPSTEER_ATTRIBUTES = ("helpfulness", "correctness", "coherence", "complexity", "verbosity")


@dataclass
class Planted:
    """What one source's upstream file holds, as its loader must see it."""

    rows: int = 0
    #: Records the loader emits (after its own filters), before dedup.
    loaded: int = 0
    #: Rows dropped by the loader's filters, by the reason they were planted for.
    filtered: dict[str, int] = field(default_factory=dict)
    #: Records whose id an earlier record has: {source loaded first (or itself): count}.
    duplicates_of: dict[str, int] = field(default_factory=dict)
    #: Assistant turns of the loaded SFT records (one output row each per format).
    gpt_turns: int = 0
    #: Assistant turns of the duplicate records, per source they duplicate.
    duplicate_turns_of: dict[str, int] = field(default_factory=dict)
    #: DPO pairs among the loaded records.
    pairs: int = 0
    #: Refusals a loader without a refusal filter keeps.
    kept_refusals: int = 0


def source_sizes(items: int) -> dict[str, int]:
    """``items`` split across the sources by their real upstream sizes (sums to ``items``)."""
    total = sum(UPSTREAM_ROWS.values())
    sizes = {s: int(items * n // total) for s, n in UPSTREAM_ROWS.items()}
    sizes["slimorca"] += items - sum(sizes.values())
    return sizes


def _rng(seed: int, source: str) -> np.random.Generator:
    return np.random.default_rng([seed, int(hashlib.blake2b(source.encode(), digest_size=4).hexdigest(), 16)])


def _pick(rng: np.random.Generator, pool: np.ndarray, k: int) -> np.ndarray:
    """``k`` distinct members of ``pool`` (an index array), removed from it by the caller."""
    k = min(k, len(pool))
    return rng.choice(pool, size=k, replace=False) if k else np.array([], dtype=np.int64)


def _tagged(texts: list[str], tag: str, start: int = 0) -> list[str]:
    # A unique reference number makes every planted instruction distinct, so the only
    # duplicates are the planted ones.
    return [f"{t} (ref {tag}{start + i})" for i, t in enumerate(texts)]


def _refuse(rng: np.random.Generator, texts: list[str], rows: np.ndarray) -> None:
    phrases = rng.integers(len(REFUSALS), size=len(rows))
    for row, phrase in zip(rows.tolist(), phrases.tolist()):
        texts[row] = f"{REFUSALS[phrase]} {texts[row]}"


def _write_lines(path: Path, lines: Iterable[str], compress: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if compress:
        # mtime=0 and no file name: the gzip header is the same on every run.
        with (
            open(path, "wb") as raw,
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=1) as out,
        ):
            for chunk in _chunks(lines):
                out.write(chunk.encode())
        return
    with open(path, "w", encoding="utf-8") as out:
        for chunk in _chunks(lines):
            out.write(chunk)


def _chunks(lines: Iterable[str], size: int = 4096) -> Iterator[str]:
    buffer: list[str] = []
    for line in lines:
        buffer.append(line)
        if len(buffer) >= size:
            yield "".join(buffer)
            buffer = []
    yield "".join(buffer)


def _json_array(rows: Iterable[str]) -> Iterator[str]:
    """A JSON array, one compact element per line (valid JSON, streamed)."""
    yield "["
    for i, row in enumerate(rows):
        yield ("\n" if i == 0 else ",\n") + row
    yield "\n]\n"


class _Corpus:
    """The instructions shared across sources while the files are written, and the plan."""

    def __init__(self, root: Path, items: int, seed: int) -> None:
        self.root = root
        self.seed = seed
        self.sizes = source_sizes(items)
        # Small corpora need no 2M-word pool (it takes a second to build).
        self.pool = TextPool(seed, words=int(np.clip(items * 40, 200_000, 2_000_000)))
        self.planted: dict[str, Planted] = {}
        self.math_instructions: list[str] = []
        #: Rows of MathInstruct that repeat an earlier one (not copied by other sources).
        self.math_copies: set[int] = set()
        #: SlimOrca instructions other sources may copy: not refusals, not duplicates.
        self.slimorca_clean: list[str] = []
        #: HelpSteer prompts that yield a pair.
        self.helpsteer_paired: list[str] = []

    def path(self, source: str) -> Path:
        return self.root / DATASETS[source] / FILES[source]

    # -- mathinstruct (priority 3: loaded first) --------------------------------------------
    def mathinstruct(self) -> None:
        n = self.sizes["mathinstruct"]
        rng = _rng(self.seed, "mathinstruct")
        names, shares = zip(*MATH_SOURCES)
        labels = rng.choice(len(names), size=n, p=np.array(shares) / sum(shares))
        instructions = _tagged(self.pool.texts(rng, n, 45, 0.8, min_words=5), "m")
        outputs = self.pool.texts(rng, n, 90, 0.9, min_words=2)
        copies = _pick(rng, np.arange(n // 2, n), int(n * MATH_SELF_DUP))
        originals = rng.integers(0, n // 2, size=len(copies))
        for copy, original in zip(copies.tolist(), originals.tolist()):
            instructions[copy] = instructions[original]
        program = np.char.startswith(np.array(names)[labels].astype(str), "data/PoT")

        def rows() -> Iterator[str]:
            for label, pot, instruction, output in zip(labels.tolist(), program.tolist(), instructions, outputs):
                if pot:
                    output = f"def solution():\n    # {output}\n    answer = 42\n    return answer\nprint(solution())"
                yield json.dumps({"source": names[label], "output": output, "instruction": instruction})

        _write_lines(self.path("mathinstruct"), _json_array(rows()))
        self.math_instructions = instructions
        self.math_copies = set(copies.tolist())
        dups = len(copies)
        self.planted["mathinstruct"] = Planted(
            rows=n,
            loaded=n,
            duplicates_of={"mathinstruct": dups} if dups else {},
            gpt_turns=n,
            duplicate_turns_of={"mathinstruct": dups} if dups else {},
        )

    # -- slimorca (priority 2) --------------------------------------------------------------
    def slimorca(self) -> None:
        n = self.sizes["slimorca"]
        rng = _rng(self.seed, "slimorca")
        systems = rng.integers(len(ORCA_SYSTEMS), size=n)
        instructions = _tagged(self.pool.texts(rng, n, 60, 0.9, min_words=4), "s")
        responses = self.pool.texts(rng, n, 80, 1.0, min_words=1)
        free = np.arange(n)
        math_sources = np.array(sorted(set(range(len(self.math_instructions))) - self.math_copies), dtype=np.int64)
        dup_math = _pick(rng, free, int(n * SLIMORCA_DUP_OF_MATH) if len(math_sources) else 0)
        free = np.setdiff1d(free, dup_math)
        for row, original in zip(dup_math.tolist(), _pick(rng, math_sources, len(dup_math)).tolist()):
            instructions[row] = self.math_instructions[original]
        self_copies = _pick(rng, free, int(n * SLIMORCA_SELF_DUP))
        free = np.setdiff1d(free, self_copies)
        self_originals = _pick(rng, free, len(self_copies))
        free = np.setdiff1d(free, self_originals)
        for copy, original in zip(self_copies.tolist(), self_originals.tolist()):
            instructions[copy] = instructions[original]
        refusals = _pick(rng, free, int(n * REFUSAL_SHARE))
        free = np.setdiff1d(free, refusals)
        _refuse(rng, responses, refusals)

        def rows() -> Iterator[str]:
            for system, instruction, response in zip(systems.tolist(), instructions, responses):
                yield (
                    json.dumps(
                        {
                            "conversations": [
                                {"from": "system", "value": ORCA_SYSTEMS[system], "weight": None},
                                {"from": "human", "value": instruction, "weight": 0.0},
                                {"from": "gpt", "value": response, "weight": 1.0},
                            ]
                        }
                    )
                    + "\n"
                )

        _write_lines(self.path("slimorca"), rows())
        self.slimorca_clean = [instructions[i] for i in np.concatenate([free, self_originals]).tolist()]
        loaded = n - len(refusals)
        dups = {"mathinstruct": len(dup_math), "slimorca": len(self_copies)}
        self.planted["slimorca"] = Planted(
            rows=n,
            loaded=loaded,
            filtered={"refusal": len(refusals)},
            duplicates_of=dups,
            gpt_turns=loaded,
            duplicate_turns_of=dict(dups),
        )

    # -- airoboros (priority 1) -------------------------------------------------------------
    def airoboros(self) -> None:
        n = self.sizes["airoboros"]
        rng = _rng(self.seed, "airoboros")
        names, shares = zip(*AIROBOROS_CATEGORIES)
        categories = rng.choice(len(names), size=n, p=np.array(shares) / sum(shares))
        # Exchanges per conversation: 1, or 2-4 for the multi-turn share.
        exchanges = np.where(rng.random(n) < AIROBOROS_MULTI_TURN, rng.integers(2, 5, size=n), 1)
        systems = np.where(rng.random(n) < AIROBOROS_SYSTEM, rng.integers(len(AIROBOROS_SYSTEMS), size=n), -1)
        total = int(exchanges.sum())
        humans = _tagged(self.pool.texts(rng, total, 40, 1.0, min_words=3), "a")
        gpts = self.pool.texts(rng, total, 250, 0.8, min_words=2)
        single = np.flatnonzero(exchanges == 1)
        offsets = np.concatenate(([0], np.cumsum(exchanges)[:-1]))
        clean = np.arange(len(self.slimorca_clean))
        dup_rows = _pick(rng, single, int(n * AIROBOROS_DUP_OF_SLIMORCA) if len(clean) else 0)
        single = np.setdiff1d(single, dup_rows)
        for row, original in zip(dup_rows.tolist(), _pick(rng, clean, len(dup_rows)).tolist()):
            humans[offsets[row]] = self.slimorca_clean[original]
        # No system turn: the id is the instruction alone under either id rule (human turns,
        # or system and human turns as SOURCES.md has it).
        systems[dup_rows] = -1
        # airoboros has no refusal filter: planted refusals must come through.
        refusals = _pick(rng, single, int(n * REFUSAL_SHARE))
        _refuse(rng, gpts, offsets[refusals])
        ids = rng.integers(0, 2**63, size=(n, 2), dtype=np.int64)

        def rows() -> Iterator[str]:
            for i in range(n):
                turns = [{"from": "system", "value": AIROBOROS_SYSTEMS[systems[i]]}] if systems[i] >= 0 else []
                for k in range(offsets[i], offsets[i] + exchanges[i]):
                    turns += [{"from": "human", "value": humans[k]}, {"from": "gpt", "value": gpts[k]}]
                row_id = str(uuid.UUID(int=(int(ids[i, 0]) << 64) | int(ids[i, 1]), version=4))
                yield json.dumps({"id": row_id, "category": names[categories[i]], "conversations": turns})

        _write_lines(self.path("airoboros"), _json_array(rows()))
        self.planted["airoboros"] = Planted(
            rows=n,
            loaded=n,
            duplicates_of={"slimorca": len(dup_rows)},
            gpt_turns=total,
            duplicate_turns_of={"slimorca": len(dup_rows)},
            kept_refusals=len(refusals),
        )

    # -- helpsteer (DPO, priority 2; ties with ultrafeedback, loaded first by name) -----------
    def helpsteer(self) -> None:
        n = self.sizes["helpsteer"]
        rng = _rng(self.seed, "helpsteer")
        group_sizes = rng.choice([1, 2, 3, 4, 5], size=max(n, 1), p=[0.1, 0.3, 0.3, 0.2, 0.1])
        group_sizes = group_sizes[: int(np.searchsorted(np.cumsum(group_sizes), n)) + 1]
        group_sizes[-1] -= int(group_sizes.sum()) - n
        group_sizes = group_sizes[group_sizes > 0]
        prompts = _tagged(self.pool.texts(rng, len(group_sizes), 120, 1.0, min_words=5), "h")
        group_of = np.repeat(np.arange(len(group_sizes)), group_sizes)
        responses = self.pool.texts(rng, n, 100, 0.9, min_words=5)
        scores = rng.choice(5, size=(n, 5), p=[0.05, 0.1, 0.2, 0.3, 0.35])
        refusals = _pick(rng, np.arange(n), int(n * REFUSAL_SHARE))
        _refuse(rng, responses, refusals)
        refused = np.zeros(n, dtype=bool)
        refused[refusals] = True
        total = scores.sum(axis=1)
        correct = scores[:, HELPSTEER_ATTRIBUTES.index("correctness")] >= 4

        # The builder's rule: per prompt with two kept responses or more, chosen = best score
        # among correctness-4 responses; a pair when another kept response scores lower.
        filtered = {
            "refusal": len(refusals),
            "single response": 0,
            "no correct response": 0,
            "no lower-scoring response": 0,
        }
        paired: list[int] = []
        bounds = np.concatenate(([0], np.cumsum(group_sizes)))
        for group in range(len(group_sizes)):
            kept = [r for r in range(bounds[group], bounds[group + 1]) if not refused[r]]
            if not kept:
                continue
            if len(kept) < 2:
                filtered["single response"] += 1
                continue
            best = max((total[r] for r in kept if correct[r]), default=None)
            if best is None:
                filtered["no correct response"] += 1
            elif not any(total[r] < best for r in kept):
                filtered["no lower-scoring response"] += 1
            else:
                paired.append(group)

        def rows() -> Iterator[str]:
            for i, response in enumerate(responses):
                row = {"prompt": prompts[group_of[i]], "response": response}
                row.update(zip(HELPSTEER_ATTRIBUTES, scores[i].tolist()))
                yield json.dumps(row) + "\n"

        _write_lines(self.path("helpsteer"), rows(), compress=True)
        self.helpsteer_paired = [prompts[g] for g in paired]
        self.planted["helpsteer"] = Planted(
            rows=n, loaded=len(paired), filtered={k: v for k, v in filtered.items() if v}, pairs=len(paired)
        )

    # -- ultrafeedback (DPO, priority 2) --------------------------------------------------
    def ultrafeedback(self) -> None:
        n = self.sizes["ultrafeedback"]
        rng = _rng(self.seed, "ultrafeedback")
        prompts = _tagged(self.pool.texts(rng, n, 50, 1.0, min_words=4), "u")
        chosen = self.pool.texts(rng, n, 150, 0.9, min_words=3)
        rejected = self.pool.texts(rng, n, 120, 0.9, min_words=3)
        score_chosen = rng.choice(
            [6.0, 7.0, 7.5, 8.0, 8.5, 9.0, 9.5, 10.0], size=n, p=[0.1, 0.1, 0.1, 0.2, 0.15, 0.15, 0.1, 0.1]
        )
        score_rejected = np.maximum(score_chosen - rng.choice([0.5, 1.0, 2.0, 3.0], size=n), 1.0)
        low = np.flatnonzero(score_chosen < 8)
        free = np.flatnonzero(score_chosen >= 8)
        refusals = _pick(rng, free, int(n * REFUSAL_SHARE))
        free = np.setdiff1d(free, refusals)
        _refuse(rng, chosen, refusals)
        same = _pick(rng, free, int(n * ULTRAFEEDBACK_SAME_RESPONSES))
        free = np.setdiff1d(free, same)
        for row in same.tolist():
            rejected[row] = f"  {chosen[row].upper()} "
        dups = _pick(rng, free, int(n * ULTRAFEEDBACK_DUP_OF_HELPSTEER) if self.helpsteer_paired else 0)
        for row, original in zip(dups.tolist(), _pick(rng, np.arange(len(self.helpsteer_paired)), len(dups)).tolist()):
            prompts[row] = self.helpsteer_paired[original]
        origins = rng.integers(len(ULTRAFEEDBACK_ORIGINS), size=n)

        def messages(prompt: str, answer: str) -> list[dict[str, str]]:
            return [{"content": prompt, "role": "user"}, {"content": answer, "role": "assistant"}]

        batch = 20_000
        path = self.path("ultrafeedback")
        path.parent.mkdir(parents=True, exist_ok=True)
        with pq.ParquetWriter(path, ULTRAFEEDBACK_SCHEMA) as writer:
            for start in range(0, n, batch):
                part = range(start, min(n, start + batch))
                chosen_messages = [messages(prompts[i], chosen[i]) for i in part]
                writer.write_table(
                    pa.table(
                        {
                            "prompt": [prompts[i] for i in part],
                            "prompt_id": [hashlib.sha256(prompts[i].encode()).hexdigest() for i in part],
                            "chosen": chosen_messages,
                            "rejected": [messages(prompts[i], rejected[i]) for i in part],
                            "messages": chosen_messages,
                            "score_chosen": score_chosen[start : start + len(part)],
                            "score_rejected": score_rejected[start : start + len(part)],
                            "source": [ULTRAFEEDBACK_ORIGINS[o] for o in origins[start : start + len(part)].tolist()],
                        },
                        schema=ULTRAFEEDBACK_SCHEMA,
                    )
                )
        loaded = n - len(low) - len(refusals) - len(same)
        self.planted["ultrafeedback"] = Planted(
            rows=n,
            loaded=loaded,
            filtered={
                "chosen score below minimum": len(low),
                "refusal in chosen": len(refusals),
                "chosen equals rejected": len(same),
            },
            duplicates_of={"helpsteer": len(dups)},
            pairs=loaded,
        )


_MESSAGES = pa.list_(pa.struct([("content", pa.string()), ("role", pa.string())]))
ULTRAFEEDBACK_SCHEMA = pa.schema(
    [
        ("prompt", pa.string()),
        ("prompt_id", pa.string()),
        ("chosen", _MESSAGES),
        ("rejected", _MESSAGES),
        ("messages", _MESSAGES),
        ("score_chosen", pa.float64()),
        ("score_rejected", pa.float64()),
        ("source", pa.string()),
    ]
)


def generate(root: Path, items: int, seed: int = 0) -> dict[str, Any]:
    """Write ``items`` upstream rows (all sources together) under ``root``; returns the plan.

    Sources are written in load order (highest priority first) because lower-priority ones
    copy instructions of higher-priority ones to plant duplicates.
    """
    root = Path(root)
    corpus = _Corpus(root, items, seed)
    corpus.mathinstruct()
    corpus.slimorca()
    corpus.airoboros()
    corpus.helpsteer()
    corpus.ultrafeedback()
    plan = {
        "items": items,
        "seed": seed,
        "datasets": {s: {"dataset_id": DATASETS[s], "file": FILES[s]} for s in SOURCES},
        "planted": {s: asdict(corpus.planted[s]) for s in SOURCES},
    }
    (root / "expected.json").write_text(json.dumps(plan, indent=1, sort_keys=True) + "\n")
    return plan


def expected_counts(plan: dict[str, Any], selected: Sequence[str], formats: int) -> dict[str, dict[str, Any]]:
    """Per source: the ``loaded``, ``duplicates`` and ``rows_written`` (sft, dpo, conversations) a run over ``selected``
    (no decontamination, every item in all ``formats``) must report.

    A planted duplicate of a source that is not selected is not a duplicate in that run. The
    counts hold while no source reaches its cap (SlimOrca's 100,000 and MathInstruct's 50,000
    by default: up to about 175,000 items); beyond, the caps' seeded samples decide.
    """
    expected = {}
    for source in selected:
        p = plan["planted"][source]
        dups = sum(n for other, n in p["duplicates_of"].items() if other in selected)
        dup_turns = sum(n for other, n in p["duplicate_turns_of"].items() if other in selected)
        sft = (p["gpt_turns"] - dup_turns) * formats
        dpo = (p["pairs"] - (dups if p["pairs"] else 0)) * formats
        # conversations.parquet: one row per kept SFT conversation (the generated sources emit
        # either conversations or pairs, never plain text).
        conversations = 0 if p["pairs"] else p["loaded"] - dups
        expected[source] = {
            "loaded": p["loaded"],
            "duplicates": dups,
            "rows_written": {"sft": sft, "dpo": dpo, "conversations": conversations},
        }
    return expected
