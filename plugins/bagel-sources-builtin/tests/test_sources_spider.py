"""spider: 'Write a SQL query for the following:' + question -> query."""

import json

from sources_testkit import REAL, load, turns, write_parquet

from bagel_core import uid
from bagel_sources_builtin.spider import Spider

COLUMNS = ("db_id", "query", "question", "query_toks", "query_toks_no_value", "question_toks")


def test_exact_conversation():
    records, _ = load(Spider)
    instruction = "Write a SQL query for the following:\nHow many heads of the departments are older than 56 ?"
    assert turns(records[0]) == [("human", instruction), ("gpt", "SELECT count(*) FROM head WHERE age  >  56")]
    assert records[0]["id"] == uid(instruction) and records[0]["source"] == "spider"


def test_malformed_rows_are_counted():
    records, counts = load(Spider)
    assert len(records) == 7 and counts.rejected == {
        "missing field 'query'": 1,
        "missing field 'question'": 1,
    }  # null query; null question


def test_real_upstream_rows(tmp_path):
    # spider's raw JSON in the Hub's parquet schema (the nested "sql" column is not part of it)
    rows = []
    for path in (REAL / "spider" / "hf_datasets_dummy" / "train_spider.head.json", REAL / "spider" / "dev.json"):
        rows += [{k: r[k] for k in COLUMNS} for r in json.loads(path.read_text(encoding="utf-8"))]
    write_parquet(tmp_path / "xlangai/spider/spider/train-00000-of-00001.parquet", rows)
    records, counts = load(Spider, root=tmp_path)
    assert len(records) == len(rows) == 5 + 1034 and counts.rejected == {}
    dev = records[5]
    assert turns(dev) == [
        ("human", "Write a SQL query for the following:\nHow many singers do we have?"),
        ("gpt", "SELECT count(*) FROM singer"),
    ]
