"""squad_v2: passage + question with a random 'don't know' phrase; unanswerable -> the phrase."""

import json

import pyarrow as pa
from sources_testkit import REAL, load, turns, write_parquet

from bagel_core import uid
from bagel_sources_builtin.squad_v2 import DONT_KNOW, SquadV2

C1 = (
    "The Normans were the people who in the 10th and 11th centuries gave their name to Normandy, a region in France. "
    "They were descended from Norse raiders and pirates from Denmark, Iceland and Norway."
)


def phrase_of(instruction: str) -> str:
    head = instruction.split("\n", 1)[0]
    prefix = "Read the passage of text provided below, then concisely answer the question.  If you don't know, respond with \""
    assert head.startswith(prefix) and head.endswith('"')
    return head[len(prefix) : -1]


def test_exact_conversation_answerable_and_unanswerable():
    records, _ = load(SquadV2)
    by_question = {r["conversations"][0]["value"].rsplit("\n", 1)[1]: r for r in records}
    answerable = by_question["In what country is Normandy located?"]
    phrase = phrase_of(answerable["conversations"][0]["value"])
    instruction = (
        "Read the passage of text provided below, then concisely answer the question.  "
        f'If you don\'t know, respond with "{phrase}"\n\n{C1}\n\nIn what country is Normandy located?'
    )
    assert turns(answerable) == [("human", instruction), ("gpt", "France")]
    assert answerable["id"] == uid(instruction)
    unanswerable = by_question["What is France a region of?"]
    assert turns(unanswerable)[1] == ("gpt", phrase_of(unanswerable["conversations"][0]["value"]))


def test_phrases_are_the_five_and_seeded():
    records, counts = load(SquadV2)
    assert len(records) == 8 and counts.rejected == {"missing field 'context'": 1}  # null context
    phrases = [phrase_of(r["conversations"][0]["value"]) for r in records]
    assert set(phrases) <= set(DONT_KNOW) and len(set(phrases)) > 1
    assert phrases == [phrase_of(r["conversations"][0]["value"]) for r in load(SquadV2)[0]]
    unanswerable = [r for r in records if r["conversations"][1]["value"] in DONT_KNOW]
    assert len(unanswerable) == 3


def test_cap():
    records, counts = load(SquadV2, max_items=5)
    assert len(records) == 5 and counts.filtered == {"cap": 3}
    assert SquadV2.max_items == 25_000


def test_real_upstream_rows(tmp_path):
    # the raw SQuAD JSON flattened into the Hub's parquet schema, as the HF loader does
    raw = json.loads((REAL / "squad_v2" / "hf_datasets_dummy" / "train-v2.0.head.json").read_text(encoding="utf-8"))
    rows = [
        {
            "id": qa["id"],
            "title": article["title"],
            "context": paragraph["context"],
            "question": qa["question"],
            "answers": {
                "text": [a["text"] for a in qa["answers"]],
                "answer_start": [a["answer_start"] for a in qa["answers"]],
            },
        }
        for article in raw["data"]
        for paragraph in article["paragraphs"]
        for qa in paragraph["qas"]
    ]
    answers = pa.struct([("text", pa.list_(pa.string())), ("answer_start", pa.list_(pa.int32()))])
    schema = pa.schema(
        [
            ("id", pa.string()),
            ("title", pa.string()),
            ("context", pa.string()),
            ("question", pa.string()),
            ("answers", answers),
        ]
    )
    write_parquet(tmp_path / "rajpurkar/squad_v2/squad_v2/train-00000-of-00001.parquet", rows, schema)
    records, counts = load(SquadV2, root=tmp_path)
    assert len(records) == len(rows) and counts.rejected == {}
    assert [r["conversations"][1]["value"] for r in records] == ["France", "10th and 11th centuries"]
    assert records[0]["conversations"][0]["value"].endswith("\n\nIn what country is Normandy located?")


def test_with_the_engines_cap():
    records, counts = load(SquadV2, max_items=6)  # as the load stage runs it: validated, then capped
    assert (counts.loaded, dict(counts.rejected), dict(counts.filtered)) == (
        6,
        {"missing field 'context'": 1},
        {"cap": 2},
    )
    assert len(records) == 6 and {r["source"] for r in records} == {"squad_v2"}
