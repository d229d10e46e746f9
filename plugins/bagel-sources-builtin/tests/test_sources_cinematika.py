"""cinematika: instruction segments, scene-by-scene text, packed plain scenes (fixed packing)."""

from sources_testkit import load, turns

from bagel_core import uid
from bagel_sources_builtin.cinematika import Cinematika, pack, strip_scene_markers


def words(text: str) -> int:
    return len(text.split())


def test_pack_never_overflows_and_emits_the_last_chunk():
    scenes = ["a b c", "d e", "f g h i", "j", "k l m n o p q"]
    assert list(pack(scenes, 6, words)) == ["a b c\n\nd e", "f g h i\n\nj", "k l m n o p q"]
    # A scene over the budget is a chunk of its own.
    assert list(pack(["a b c d e f g h", "i"], 3, words)) == ["a b c d e f g h", "i"]
    assert list(pack([], 10, words)) == []


def test_strip_scene_markers():
    assert strip_scene_markers("[scene] INT. ROOM\nA\n\n[scene]\nB") == "INT. ROOM\nA\n\nB"


def test_sample_parts_and_counts():
    records, counts = load(Cinematika, tokenizer="approx")
    convs = [r for r in records if r.get("conversations")]
    texts = [r["text"] for r in records if r.get("text")]
    assert len(convs) == 4
    card = convs[0]
    assert turns(card)[0] == ("human", "Create a character card for a retired sea captain who runs a bookshop.")
    assert card["id"] == uid("Create a character card for a retired sea captain who runs a bookshop.")
    assert {r["source"] for r in records} == {"cinematika"}
    assert texts[0] == "INT. OFFICE - DAY\nMara stares at the phone.\n\nEXT. STREET - NIGHT\nShe runs through the rain."
    # The four sample scenes fit one 4096-token chunk, in index order, markers removed.
    assert len(texts) == 2
    assert texts[1].startswith("EXT. HARBOR - DAWN") and texts[1].index("INT. DINER") < texts[1].index("INT. CAR")
    assert counts.rejected == {
        "missing field 'output'": 1,
        "missing field 'scene_by_scene'": 1,
        "plain scene without text or index": 1,
    }


def test_small_budget_packs_several_chunks():
    records, _ = load(Cinematika, tokenizer="approx", instruction_files=(), scene_by_scene=False, max_tokens=200)
    chunks = [r["text"] for r in records]
    assert [c.split("\n")[0] for c in chunks] == [
        "EXT. HARBOR - DAWN",
        "INT. DINER - NIGHT",
        "INT. CAR - NIGHT",
        "EXT. ROOFTOP - NIGHT",
    ]
    records, _ = load(Cinematika, tokenizer="approx", instruction_files=(), scene_by_scene=False, max_tokens=400)
    assert len(records) == 2 and all(len(r["text"]) // 4 + 1 <= 400 for r in records)


HEAD = dict(
    tokenizer="approx",
    instruction_files=("prompt_to_character_card.parquet",),
    packed_scenes=False,
    conversation_files=("memories", "director", "actions"),
    part_labels=True,
    clean_instructions=True,
)


def test_head_parts_and_labels():
    records, counts = load(Cinematika, **HEAD)
    by_label: dict[str, list[dict]] = {}
    for record in records:
        by_label.setdefault(record["source"], []).append(record)
    assert sorted(by_label) == [
        "cinematika_actions",
        "cinematika_director",
        "cinematika_memories",
        "cinematika_prompt_to_character_card",
        "cinematika_scenes",
    ]
    director = by_label["cinematika_director"][0]
    assert [r for r, _ in turns(director)] == ["system", "human", "gpt", "human", "gpt"]
    assert director["id"] == uid("[Mara] I open the door slowly.\n[Mara] I call out: hello?")
    assert all("[scene]" not in v for r in by_label["cinematika_prompt_to_character_card"] for _, v in turns(r))
    # actions: a conversation of two gpt turns is rejected by validation, not kept.
    assert len(by_label["cinematika_actions"]) == 1 and counts.rejected["bad role order"] == 1


def test_v02_defaults_read_no_head_files():
    records, _ = load(Cinematika, tokenizer="approx")
    assert {r["source"] for r in records} == {"cinematika"}


def _sample_scenes() -> list[str]:
    import pyarrow.parquet as pq

    from bagel_sources_builtin import SAMPLES

    rows = pq.read_table(SAMPLES / "jondurbin/cinematika-v0.1/plain_scenes.parquet").to_pylist()
    return [r["plain_scenes"] for r in sorted(rows, key=lambda r: r["index"]) if r["plain_scenes"]]


def test_v01_reference_keeps_scene_markers_in_the_plain_text():
    """b93633b kept the plain text as given, [scene] markers and all; the clean-up came with
    4cfa4f0 (issue 28, row 2): ``clean_plain_text = false``."""
    records, _ = load(
        Cinematika, tokenizer="approx", clean_plain_text=False, scene_separator="reference", instruction_files=[]
    )
    texts = [r["text"] for r in records]
    assert (
        texts[0]
        == "[scene] INT. OFFICE - DAY\nMara stares at the phone.\n\n[scene]\nEXT. STREET - NIGHT\nShe runs through the rain."
    )
    assert texts[1] == "".join("\n" + s for s in _sample_scenes())
    assert texts[1].startswith("\n[scene] EXT. HARBOR - DAWN\n")


def test_reference_scene_separator_joins_with_a_newline_before_each_scene():
    """v0.1/v0.2 appended LF + the scene as given to the buffer, then (v0.2) removed the
    markers from the whole chunk (issue 28, row 3): ``scene_separator = "reference"``."""
    records, _ = load(
        Cinematika, tokenizer="approx", scene_separator="reference", instruction_files=[], scene_by_scene=False
    )
    [chunk] = [r["text"] for r in records]
    scenes = _sample_scenes()
    assert chunk == strip_scene_markers("".join("\n" + s for s in scenes))
    assert chunk == "\nEXT. HARBOR - DAWN\n" + scenes[0].removeprefix(
        "[scene] EXT. HARBOR - DAWN\n"
    ) + "\n" + "\n".join(scenes[1:])
    # bagel's default: scenes stripped, a blank line between, no leading newline.
    records, _ = load(Cinematika, tokenizer="approx", instruction_files=[], scene_by_scene=False)
    assert records[0]["text"] == "\n\n".join(strip_scene_markers(s).strip() for s in scenes)
