"""drop: passage/question in seeded order, spans joined by ', ', a brevity system prompt."""

import json

from sources_testkit import REAL, load, turns, write_parquet

from bagel_core import uid
from bagel_sources_builtin.drop import SYSTEM, Drop

P2 = (
    "In 1697 the treaty was signed in Rijswijk on 20 September. The war had begun in 1688 and cost France 160,000 soldiers, "
    "while the Grand Alliance lost about 110,000 men. Louis XIV returned Lorraine, Freiburg and Breisach."
)


def test_exact_conversation_passage_first():
    records, _ = load(Drop, question_first_probability=0.0)
    instruction = f"{P2}\nWhich places did Louis XIV return?"
    record = next(r for r in records if r["conversations"][1]["value"] == instruction)
    assert turns(record) == [("system", SYSTEM), ("human", instruction), ("gpt", "Lorraine, Freiburg, Breisach")]
    assert SYSTEM == "You are a helpful assistant who answers as briefly as possible."
    assert record["id"] == uid(instruction)  # the system prompt is not part of the id


def test_question_first_variant_and_seeded_mix():
    records, _ = load(Drop, question_first_probability=1.0)
    instruction = f"When was the treaty signed?\n{P2}"
    assert turns(next(r for r in records if r["conversations"][1]["value"] == instruction))[2] == (
        "gpt",
        "20 September 1697",
    )
    mixed, _ = load(Drop)
    first = [r["conversations"][1]["value"].startswith(("How", "Who", "Which", "When")) for r in mixed]
    assert any(first) and not all(first)
    assert mixed == load(Drop)[0]


def test_malformed_rows_are_counted_and_cap():
    records, counts = load(Drop)
    assert len(records) == 8 and counts.rejected == {
        "bad value": 1,
        "missing field 'passage'": 1,
    }  # no spans; null passage
    capped, counts = load(Drop, max_items=3)
    assert len(capped) == 3 and counts.filtered == {"cap": 5}
    assert Drop.max_items == 5_000


def answers_spans(answer: dict) -> dict:
    """The HF loader's answers_spans for one raw DROP answer: the number, else the spans, else the date."""
    if answer["number"]:
        return {"spans": [answer["number"]], "types": ["number"]}
    if answer["spans"]:
        return {
            "spans": answer["spans"],
            "types": ["span" if len(answer["spans"]) == 1 else "spans"] * len(answer["spans"]),
        }
    date = " ".join(p for p in (answer["date"]["day"], answer["date"]["month"], answer["date"]["year"]) if p)
    return {"spans": [date], "types": ["date"]}


def test_real_upstream_rows(tmp_path):
    raw = json.loads((REAL / "drop" / "hf_datasets_dummy" / "drop_dataset_train.head.json").read_text(encoding="utf-8"))
    rows = [
        {
            "section_id": section,
            "query_id": qa["query_id"],
            "passage": item["passage"],
            "question": qa["question"],
            "answers_spans": answers_spans(qa["answer"]),
        }
        for section, item in raw.items()
        for qa in item["qa_pairs"]
    ]
    write_parquet(tmp_path / "ucinlp/drop/data/train-00000-of-00001.parquet", rows)
    records, counts = load(Drop, root=tmp_path, question_first_probability=0.0)
    assert len(records) == len(rows) and counts.rejected == {}
    assert [r["conversations"][2]["value"] for r in records][:3] == ["3", "2", "28-yard"]
    assert (
        records[3]["conversations"][1]["value"]
        == f"{rows[3]['passage']}\nWho caught the touchdown for the fewest yard?"
    )
