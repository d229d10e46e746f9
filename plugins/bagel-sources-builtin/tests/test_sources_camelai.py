"""camelai: message_1 -> message_2 over four expert datasets, refusals removed, capped per domain."""

import json
import zipfile

import pytest
from sources_testkit import load, turns

from bagel_core import uid
from bagel_sources_builtin.camelai import CamelAI


def test_four_domains_converted_refusal_and_null_counted():
    records, counts = load(CamelAI)
    assert len(records) == 7  # 3 + 3 + 2 + 1 rows, less a refusal and a null solution
    first = records[0]
    problem = "What is the rate law of a reaction that is first order in A and second order in B?"
    assert turns(first) == [
        ("human", problem),
        ("gpt", "The rate law is rate = k[A][B]^2; doubling [B] quadruples the rate."),
    ]
    assert first["id"] == uid(problem) and first["source"] == "camelai"
    assert counts.filtered == {"refusal": 1}  # "As an AI language model, I cannot ..."
    assert counts.rejected == {"missing field 'message_2'": 1}  # message_2 null


def test_stratum_is_the_domain_and_the_cap_is_per_domain():
    source = CamelAI()
    rows = list(source.rows(_ctx()))
    assert [source.stratum(r) for r in rows] == ["chemistry"] * 3 + ["physics"] * 3 + ["math"] * 2 + ["biology"]
    assert CamelAI.max_items == 5_000 and CamelAI.cap_per_stratum


def test_engine_cap_keeps_at_most_n_per_domain():
    # At most one per domain (the stratum): chemistry 2 valid rows, physics 2, math 2, biology 1.
    records, counts = load(CamelAI, max_items=1)
    firsts = {turns(r)[0][1].split()[0] for r in records}
    assert len(records) == 4 and counts.filtered["cap"] == 3  # one per domain, 7 valid
    assert len(firsts) == 4
    again, _ = load(CamelAI, max_items=1)
    assert [r["id"] for r in again] == [r["id"] for r in records]  # seeded
    every, _ = load(CamelAI, max_items="none")
    assert len(every) == 7


def test_experts_option_reads_only_those():
    records, _ = load(CamelAI, experts=("math",))
    assert [turns(r)[0][1] for r in records] == ["Solve x^2 - 5x + 6 = 0.", "Differentiate f(x) = x^3 sin x."]


def test_v02_refusal_patterns_option():
    # "As an AI language model" is caught by both pattern sets.
    _, counts = load(CamelAI, refusal_patterns="v0.2")
    assert counts.filtered == {"refusal": 1}


def test_zip_of_per_problem_json_files_loads(tmp_path):
    # The layout camel-ai's repositories hold (`<domain>.zip`, as the dataset cards say; one
    # JSON object per problem, pretty-printed or not, in any folder): every file a row.
    folder = tmp_path / "camel-ai" / "physics"
    folder.mkdir(parents=True)
    with zipfile.ZipFile(folder / "physics.zip", "w") as archive:
        for i in range(3):
            row = {
                "role_1": "Physicist_RoleType.ASSISTANT",
                "topic;": "Optics",
                "sub_topic": "Lenses",
                "message_1": f"What is the focal length of lens {i}?",
                "message_2": f"{10 * (i + 1)} cm.",
            }
            archive.writestr(f"physics/{i + 1}_1.json", json.dumps(row, indent=4 if i else None))
    records, counts = load(CamelAI, root=tmp_path, experts=("physics",))
    assert sorted(turns(r)[1][1] for r in records) == ["10 cm.", "20 cm.", "30 cm."]
    assert counts.rejected == {}


def test_a_corrupt_archive_is_present_but_malformed(tmp_path):
    from bagel_core.readers import MalformedFile

    folder = tmp_path / "camel-ai" / "math"
    folder.mkdir(parents=True)
    (folder / "math.zip").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(MalformedFile, match="math.zip"):
        load(CamelAI, root=tmp_path, experts=("math",))


def _ctx():
    from bagel_core.testing import load_context

    return load_context(CamelAI, sample=True, seed=0)
