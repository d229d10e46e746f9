"""The rendering rules shared by every format (bagel_core.rendering) and the render stage."""

from collections import Counter
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from bagel_core import PromptFormat, uid
from bagel_core.rendering import (
    PLAIN_TEXT,
    Renderer,
    chunk_formats,
    collapse_blank_lines,
    collapse_newlines,
    copy_order,
    expand,
    formats_for,
    random_formats,
)
from bagel_core.stages import WORK_SCHEMA
from bagel_core.stages.render import run_render


def _format(fmt_name: str, probability: float = 0.5, system: str = "DEFAULT SYSTEM"):
    """A format that writes ``[name]`` then ``role: content`` lines: easy to read back."""

    class Tagged(PromptFormat):
        name = fmt_name
        description = "test format"
        default_system_prompt = system

        @dataclass
        class Options(PromptFormat.Options):
            system_prompt_probability: float = probability

        def render(self, messages):
            return f"[{self.name}]" + "".join(f"\n{m['role']}: {m['content']}" for m in messages) + "\nassistant:"

    # A module-level name, so a spawned render worker can unpickle the format.
    Tagged.__qualname__ = Tagged.__name__ = f"Tagged{len(_TAGGED)}"
    Tagged.Options.__qualname__ = f"{Tagged.__name__}.Options"
    _TAGGED[Tagged.__name__] = globals()[Tagged.__name__] = Tagged
    return Tagged()


_TAGGED: dict = {}


FORMATS = [_format(n) for n in ("f0", "f1", "f2", "f3")]
MULTI = [
    {"from": "system", "value": "Be terse."},
    {"from": "human", "value": "Tell me a joke."},
    {"from": "gpt", "value": "Why did the chicken\n\n\n\ncross the road?"},
    {"from": "human", "value": "Why?"},
    {"from": "gpt", "value": "To get to the other side."},
]


def test_expand_gives_one_row_per_assistant_turn_with_its_history():
    rows = list(expand(MULTI))
    assert [answer for _, answer in rows] == ["Why did the chicken\n\ncross the road?", "To get to the other side."]
    assert rows[0][0] == [{"role": "system", "content": "Be terse."}, {"role": "user", "content": "Tell me a joke."}]
    # The earlier answer appears in the history collapsed, as it was trained on.
    assert rows[1][0][2] == {"role": "assistant", "content": "Why did the chicken\n\ncross the road?"}
    assert rows[1][0][3] == {"role": "user", "content": "Why?"}


def test_collapse_newlines_keeps_single_blank_lines():
    assert collapse_newlines("a\n\nb\n\n\nc\n\n\n\n\nd\ne") == "a\n\nb\n\nc\n\nd\ne"


def test_newline_rules_of_the_reference_states():
    text = "a\n \n\t\nb\n\n\nc\n\nd"
    # bagel: only runs of bare newlines; blank lines holding spaces are kept.
    assert collapse_newlines(text) == "a\n \n\t\nb\n\nc\n\nd"
    # The reference from January 2024: (\s*\n){3,} -> one blank line, spaces included.
    assert collapse_blank_lines(text) == "a\n\nb\n\nc\n\nd"
    # The reference at v0.1 / v0.2 collapsed nothing.
    rows = list(expand([{"from": "human", "value": "q"}, {"from": "gpt", "value": text}], "none"))
    assert rows[0][1] == text
    assert (
        list(expand([{"from": "human", "value": "q"}, {"from": "gpt", "value": text}], "blank-line-runs"))[0][1]
        == "a\n\nb\n\nc\n\nd"
    )


def test_sft_rows_render_every_turn_in_every_selected_format():
    rows = list(Renderer(FORMATS[:2], seed=1).sft_rows("id-1", "src", MULTI, None, range(2)))
    assert [(r[2], r[4]) for r in rows] == [
        ("f0", "Why did the chicken\n\ncross the road?"),
        ("f0", "To get to the other side."),
        ("f1", "Why did the chicken\n\ncross the road?"),
        ("f1", "To get to the other side."),
    ]
    assert rows[1][3] == (
        "[f0]\nsystem: Be terse.\nuser: Tell me a joke.\nassistant: Why did the chicken\n\ncross the road?"
        "\nuser: Why?\nassistant:"
    )


def test_plain_text_is_not_formatted_and_written_once():
    text = "Chapter 1.\n\n\n\nIt was a bright cold day."
    # Once, whatever the formats: the reference added each plain text once, not once per format.
    for which in ([2], range(4)):
        rows = list(Renderer(FORMATS, seed=1).sft_rows("id-2", "books", None, text, which))
        assert rows == [("id-2", "books", PLAIN_TEXT, "", text)]


def test_dpo_prompt_is_rendered_and_answers_stay_raw():
    fmt = _format("g", probability=0.0)
    rows = list(
        Renderer([fmt], seed=1).dpo_rows(
            "p", "src", "Is the earth flat?", "No.\n\n\n\nIt is round.", "Yes.", "You are careful.", [0]
        )
    )
    assert rows == [
        (
            "p",
            "src",
            "g",
            "[g]\nsystem: You are careful.\nuser: Is the earth flat?\nassistant:",
            "No.\n\n\n\nIt is round.",
            "Yes.",
        )
    ]


def _system_added(fmt, seed, item_id, turns=({"from": "human", "value": "hi"}, {"from": "gpt", "value": "yo"})):
    """The system line the renderer put in front of ``turns``, or ``None``."""
    [(_, _, _, rendered, _)] = Renderer([fmt], seed).sft_rows(item_id, "s", list(turns), None, [0])
    second = rendered.split("\n")[1]
    return second if second.startswith("system: ") else None


def test_default_system_prompt_coin_is_per_seed_item_and_format():
    fmt = FORMATS[0]
    ids = [uid(f"q{i}") for i in range(1000)]
    added = [_system_added(fmt, 7, i) is not None for i in ids]
    assert 430 < sum(added) < 570  # p = 0.5
    assert added == [_system_added(fmt, 7, i) is not None for i in ids]
    assert added != [_system_added(fmt, 8, i) is not None for i in ids]
    assert added != [_system_added(FORMATS[1], 7, i) is not None for i in ids]
    # An item's own system prompt is never replaced; p = 0 and p = 1 are exact.
    own = ({"from": "system", "value": "mine"}, {"from": "human", "value": "hi"}, {"from": "gpt", "value": "yo"})
    assert all(_system_added(fmt, 7, i, own) == "system: mine" for i in ids[:50])
    assert all(_system_added(_format("never", 0.0), 7, i) is None for i in ids[:50])
    assert all(_system_added(_format("always", 1.0), 7, i) == "system: DEFAULT SYSTEM" for i in ids[:50])


def test_all_rows_of_a_multi_turn_item_share_the_coin():
    turns = MULTI[1:]
    for i in range(40):
        rows = list(Renderer(FORMATS[:1], seed=3).sft_rows(f"id{i}", "s", turns, None, [0]))
        assert len({r[3].startswith("[f0]\nsystem: DEFAULT SYSTEM") for r in rows}) == 1


def test_formats_for_deals_consecutive_formats():
    assert list(formats_for(None, 3, 4)) == [0, 1, 2, 3]
    assert [formats_for(r, 3, 4) for r in range(4)] == [[0, 1, 2], [3, 0, 1], [2, 3, 0], [1, 2, 3]]
    assert len(copy_order([], 1)) == 0


# --- the render stage ---------------------------------------------------------------------


def _items(n: int) -> list[dict]:
    items = []
    for i in range(n):
        if i % 10 == 3:
            items.append({"id": uid(f"text {i}"), "source": "books", "origin": "books", "text": f"Plain text {i}."})
            continue
        turns = [{"from": "human", "value": f"Question {i}?"}, {"from": "gpt", "value": f"Answer {i}."}]
        if i % 4 == 0:
            turns += [{"from": "human", "value": "And then?"}, {"from": "gpt", "value": f"Then {i}."}]
        items.append({"id": uid(f"q {i}"), "source": "chat", "origin": "chat", "conversations": turns})
    return items


def _pairs(n: int) -> list[dict]:
    return [
        {
            "id": uid(f"p {i}"),
            "source": "pairs",
            "origin": "pairs",
            "prompt": f"Prompt {i}",
            "chosen": f"good {i}",
            "rejected": f"bad {i}",
            "system": "Sys." if i % 3 == 0 else None,
        }
        for i in range(n)
    ]


def _write_inputs(folder, items, pairs, rows_per_group=16):
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in (("sft.parquet", items), ("dpo.parquet", pairs)):
        columns = {f: [r.get(f) for r in rows] for f in WORK_SCHEMA.names}
        pq.write_table(pa.Table.from_pydict(columns, schema=WORK_SCHEMA), folder / name, row_group_size=rows_per_group)
    return folder


def _render(tmp_path, name, items, pairs, copies=None, num_proc=1, seed=5, assignment="spread"):
    src = _write_inputs(tmp_path / f"in-{name}", items, pairs)
    out = tmp_path / f"out-{name}"
    out.mkdir()
    written = run_render(FORMATS, seed, copies, src, out, num_proc=num_proc, assignment=assignment)
    return pq.read_table(out / "sft.parquet").to_pylist(), pq.read_table(out / "dpo.parquet").to_pylist(), written


@pytest.mark.parametrize("copies", [1, 2, 3])
def test_copies_per_item_are_balanced_and_distinct(tmp_path, copies):
    items, pairs = _items(103), _pairs(37)
    sft, dpo, written = _render(tmp_path, "c", items, pairs, copies=copies)
    texts = [i for i in items if "text" in i]
    assert sorted(r["id"] for r in sft if r["format"] == PLAIN_TEXT) == sorted(i["id"] for i in texts)
    sft = [r for r in sft if r["format"] != PLAIN_TEXT]
    for rows, n in ((sft, len(items) - len(texts)), (dpo, len(pairs))):
        # One entry per (item, format): the first row of each item in each format.
        dealt = {(r["id"], r["format"]) for r in rows}
        per_item = Counter(i for i, _ in dealt)
        assert len(per_item) == n and set(per_item.values()) == {copies}  # k distinct formats each
        per_format = Counter(f for _, f in dealt)
        assert set(per_format) == {f.name for f in FORMATS}
        share = n * copies / len(FORMATS)
        assert all(abs(c - share) < 1 for c in per_format.values()), per_format
    # Multi-turn items give one row per assistant turn in each of their formats.
    multi = items[0]["id"]
    assert sum(r["id"] == multi for r in sft) == 2 * copies
    assert written["pairs"]["dpo"] == len(pairs) * copies


def test_default_renders_every_item_in_every_format(tmp_path):
    items, pairs = _items(20), _pairs(5)
    sft, dpo, written = _render(tmp_path, "all", items, pairs)
    turns = sum(sum(t["from"] == "gpt" for t in i["conversations"]) for i in items if "text" not in i)
    texts = sum("text" in i for i in items)
    assert texts == 2
    # Conversations once per format and answer; plain texts once.
    assert len(sft) == turns * 4 + texts and len(dpo) == 5 * 4
    assert written["books"]["sft"] == texts == sum(r["format"] == PLAIN_TEXT for r in sft)
    assert written["chat"]["sft"] + written["books"]["sft"] == len(sft)
    with pytest.raises(ValueError, match="copies-per-item"):
        _render(tmp_path, "bad", items, pairs, copies=5)


@pytest.mark.parametrize("assignment", ["spread", "chunks"])
def test_render_is_the_same_for_any_process_count(tmp_path, start_method, assignment):
    items, pairs = _items(150), _pairs(60)
    one = _render(tmp_path, "p1", items, pairs, copies=3, num_proc=1, assignment=assignment)
    two = _render(tmp_path, "p2", items, pairs, copies=3, num_proc=2, assignment=assignment)
    assert one[0] == two[0] and one[1] == two[1] and one[2] == two[2]
    assert len(one[0]) > 300


def test_render_does_not_depend_on_input_order(tmp_path):
    items, pairs = _items(90), _pairs(30)
    forward = _render(tmp_path, "fwd", items, pairs, copies=2)
    backward = _render(tmp_path, "bwd", items[::-1], pairs[::-1], copies=2)
    key = lambda r: tuple(r.values())
    assert sorted(forward[0], key=key) == sorted(backward[0], key=key)
    assert sorted(forward[1], key=key) == sorted(backward[1], key=key)
    # The seed changes which formats an item goes to.
    reseeded = _render(tmp_path, "seed", items, pairs, copies=2, seed=6)
    assert {(r["id"], r["format"]) for r in reseeded[0]} != {(r["id"], r["format"]) for r in forward[0]}


def test_random_assignment_gives_k_distinct_formats_drawn_per_item(tmp_path):
    """``format_assignment = "random"`` with one copy: the reference's v0.2 random.choice."""
    items, pairs = _items(2000), _pairs(400)
    sft, dpo, written = _render(tmp_path, "rnd", items, pairs, copies=1, assignment="random")
    for rows, n in (([r for r in sft if r["format"] != PLAIN_TEXT], 1800), (dpo, 400)):
        dealt = {(r["id"], r["format"]) for r in rows}
        per_item = Counter(i for i, _ in dealt)
        assert len(per_item) == n and set(per_item.values()) == {1}
        per_format = Counter(f for _, f in dealt)
        # Binomial(n, 1/4): each share within 4.5 standard deviations of n/4.
        sd = (n * 0.25 * 0.75) ** 0.5
        assert all(abs(c - n / 4) < 4.5 * sd for c in per_format.values()), per_format
    # Unlike "spread", the shares are not forced equal; the draw is per (seed, item id) only.
    again = _render(tmp_path, "rnd2", items[::-1], pairs[::-1], copies=1, assignment="random")
    assert {(r["id"], r["format"]) for r in again[0]} == {(r["id"], r["format"]) for r in sft}
    assert random_formats(5, "x", 4, 4) == range(4)
    picks = {tuple(random_formats(5, f"id{i}", 2, 4)) for i in range(200)}
    assert all(len(set(p)) == 2 for p in picks) and len(picks) == 6  # every pair of 4 occurs


def _reference_chunks(items: list) -> list[list]:
    """The four lists 3c7d241's ``data.py`` formats (alpaca, vicuna, chatml, llama-2), written
    from the issue's description of its slices: with a = len*3//4 and q = len - a, format 0
    takes [0, a), format 1 [q, len), format 2 [0, q) + [2q, len), format 3 [0, 2q) + [3q, len)."""
    a = len(items) * 3 // 4
    q = len(items) - a
    return [items[:a], items[q:], items[:q] + items[2 * q :], items[: 2 * q] + items[3 * q :]]


@pytest.mark.parametrize("total", [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 13, 37, 100, 101, 102, 103])
def test_chunk_formats_cut_as_the_reference(total):
    """Issue 28, row 9: ``chunks`` gives each place the formats of the reference's slices,
    uneven totals included (there a few items get two formats, or the last quarter is short)."""
    expected = {
        p: [f for f, chunk in enumerate(_reference_chunks(list(range(total)))) if p in chunk] for p in range(total)
    }
    assert {p: chunk_formats(p, total, 4) for p in range(total)} == expected


def test_chunks_deal_dpo_pairs_in_loaded_order_and_sft_items_shuffled(tmp_path):
    """``format_assignment = "chunks"`` (the v0.5 recipe): DPO pairs are cut in the order they
    were loaded, not shuffled, so the first quarter of pairs misses format 1, the second format
    2, and so on; SFT items are cut in a seeded shuffle, so the same cut applies to a seeded
    order rather than the input order (the reference shuffled them with seed 42)."""
    items, pairs = _items(60), _pairs(41)
    sft, dpo, written = _render(tmp_path, "chunks", items, pairs, copies=3, assignment="chunks")
    got = {}
    for r in dpo:
        got.setdefault(r["id"], set()).add(r["format"])
    names = [f.name for f in FORMATS]
    chunks = _reference_chunks([p["id"] for p in pairs])
    expected = {p["id"]: {names[f] for f, chunk in enumerate(chunks) if p["id"] in chunk} for p in pairs}
    assert got == expected
    assert written["pairs"]["dpo"] == sum(map(len, chunks)) == len(dpo)
    # SFT: three of four for every conversation (60 - 6 plain texts = 54 items, cut unevenly:
    # q = 14, so places 40 and 41 are in the slices format 0 and format 3 leave out), not in
    # input order.
    dealt = [i["id"] for i in items if "text" not in i]
    sft_formats = {}
    for r in sft:
        if r["format"] != PLAIN_TEXT:
            sft_formats.setdefault(r["id"], set()).add(r["format"])
    assert sorted(map(len, sft_formats.values())) == [2, 2] + [3] * 52
    in_input_order = _reference_chunks(dealt)
    assert sft_formats != {i: {names[f] for f, c in enumerate(in_input_order) if i in c} for i in dealt}
    # The shuffle is seeded by id, so the SFT deal does not depend on the input order; the DPO
    # deal follows it by design.
    again = _render(tmp_path, "chunks-rev", items[::-1], pairs, copies=3, assignment="chunks")
    assert {(r["id"], r["format"]) for r in again[0]} == {(r["id"], r["format"]) for r in sft}


def test_chunks_need_one_copy_less_than_the_formats(tmp_path):
    """The reference's cut leaves each format out of one slice: any other copy count is a
    one-line configuration error before anything is loaded."""
    from click.testing import CliRunner

    from bagel_core.cli import cli

    args = ["run", "--sample", "--sources", "sql", "--formats", "alpaca,vicuna,chatml", "--out", str(tmp_path / "o")]
    result = CliRunner().invoke(cli, [*args, "--copies-per-item", "1", "--format-assignment", "chunks", "--plan"])
    assert result.exit_code != 0
    assert "--format-assignment chunks needs --copies-per-item 2" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "o").exists()


def test_dpo_chosen_newlines_cleans_chosen_only(tmp_path):
    """The reference later applied its newline rule to DPO chosen responses too, rejected left
    raw (issue 28, row 8): ``[run] dpo_chosen_newlines = true``."""
    pairs = [
        {
            "id": uid("p"),
            "source": "pairs",
            "origin": "pairs",
            "prompt": "Prompt",
            "chosen": "a\n \n\n\nb",
            "rejected": "c\n\n\n\nd",
            "system": None,
        }
    ]
    src = _write_inputs(tmp_path / "in", [], pairs)
    for on, chosen in ((False, "a\n \n\n\nb"), (True, "a\n\nb")):
        out = tmp_path / f"out-{on}"
        out.mkdir()
        run_render(FORMATS, 1, None, src, out, newlines="blank-line-runs", dpo_chosen_newlines=on)
        rows = pq.read_table(out / "dpo.parquet").to_pylist()
        assert {(r["chosen"], r["rejected"]) for r in rows} == {(chosen, "c\n\n\n\nd")}
        assert len(rows) == len(FORMATS)
