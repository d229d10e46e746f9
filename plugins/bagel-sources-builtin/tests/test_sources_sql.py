"""sql: schema + question -> query, capped at 10,000 by the core."""

from sources_testkit import load, turns

from bagel_core import uid
from bagel_sources_builtin.sql import Sql


def test_exact_conversation():
    records, counts = load(Sql)
    instruction = (
        "Using the context provided, please generate a SQL query to answer the question.\n"
        "Context: CREATE TABLE head (age INTEGER)\n"
        "Question: How many heads of the departments are older than 56 ?"
    )
    assert turns(records[0]) == [("human", instruction), ("gpt", "SELECT COUNT(*) FROM head WHERE age > 56")]
    assert records[0]["id"] == uid(instruction) and records[0]["source"] == "sql"
    assert len(records) == 3 and counts.rejected == {"missing field 'answer'": 1}  # null answer
    assert Sql.max_items == 10_000


def test_engine_cap_draws_a_seeded_sample():
    records, counts = load(Sql, max_items=2)
    assert len(records) == 2 and counts.filtered["cap"] == 3 - 2
    again, _ = load(Sql, max_items=2, seed=0)
    assert [r["id"] for r in again] == [r["id"] for r in records]
    assert {r["id"] for r in records} <= {r["id"] for r in load(Sql)[0]}


def test_reads_only_its_pinned_file(tmp_path):
    """An upstream conversion that adds a file (an open pull request renames the JSON to .csv)
    does not change what is read: the loader names sql_create_context_v4.json (issue 28)."""
    import shutil

    from bagel_sources_builtin import SAMPLES

    folder = tmp_path / "b-mc2" / "sql-create-context"
    shutil.copytree(SAMPLES / "b-mc2" / "sql-create-context", folder)
    (folder / "sql_create_context_v4.csv").write_text("answer,question,context\nX,Y,Z\n")
    records, _ = load(Sql, tmp_path)
    assert [r["id"] for r in records] == [r["id"] for r in load(Sql)[0]]
