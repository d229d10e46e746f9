"""whiterabbitneo: chapters 1 and 2, instruction -> response, refusals removed."""

from sources_testkit import load, turns

from bagel_sources_builtin.whiterabbitneo import WhiteRabbitNeo


def test_both_chapters_refusal_and_null_counted():
    records, counts = load(WhiteRabbitNeo)
    firsts = [turns(r)[0][1] for r in records]
    assert firsts == [
        "Explain how a SYN flood exhausts a server's connection table and one mitigation.",
        "How does certificate pinning stop a man-in-the-middle with a rogue CA certificate?",
    ]
    assert {r["source"] for r in records} == {"whiterabbitneo"}
    assert counts.filtered == {"refusal": 1}  # "unethical and illegal" (HEAD patterns)
    assert counts.rejected == {"missing field 'response'": 1}


def test_v02_patterns_miss_heads_refusal():
    # v0.2's list has no "unethical|illegal|dangerous": the keylogger refusal gets through.
    records, counts = load(WhiteRabbitNeo, refusal_patterns="v0.2")
    assert len(records) == 3 and counts.filtered == {}


def test_chapters_option():
    records, _ = load(WhiteRabbitNeo, chapters=("WhiteRabbitNeo/WRN-Chapter-2",))
    assert len(records) == 1
