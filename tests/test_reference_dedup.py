"""The reference's dedup rules on their own: which loaders a DPO-only builder's pairs replace,
what of them the dedup key holds, and the recipe's names checked against the loaders."""

from types import SimpleNamespace

import pytest

from bagel_core.config import ConfigError
from bagel_core.stages.reference_dedup import ReferenceRules, check_rules


def _loader(kind, name, *dataset_ids):
    return SimpleNamespace(kind=kind, name=name, dataset_ids=dataset_ids)


LOADERS = [
    _loader("source", "lmsys_chat_1m", "lmsys/lmsys-chat-1m"),
    _loader("source", "slimorca", "Open-Orca/SlimOrca"),
    _loader("dpo_builder", "lmsys-chat-1m-dpo", "lmsys/lmsys-chat-1m"),
    _loader("dpo_builder", "orca-dpo-pairs", "Intel/orca_dpo_pairs"),
]


def test_a_dpo_only_builder_replaces_the_sources_reading_its_upstream_data_only():
    rules = ReferenceRules.of(LOADERS, ["lmsys-chat-1m-dpo"], {})
    assert rules.dpo_only == [2]
    assert rules.twins == {"lmsys-chat-1m-dpo": ["lmsys_chat_1m"]}
    assert ReferenceRules.of(LOADERS, [], {}) == ReferenceRules()


def test_shared_ids_join_the_key_only_when_set_and_shared():
    # As before the rules had a module of their own: earlier dedup caches stay valid.
    rules = ReferenceRules.of(LOADERS, [], {"slimorca": "check"})
    assert rules.key("separate") == [[], {}]
    assert rules.key("shared") == [[], {}, {"slimorca": "check"}]
    assert ReferenceRules().key("shared") == [[], {}]


def test_names_the_recipe_gets_wrong():
    installed = [c.name for c in LOADERS]
    check_rules(["lmsys-chat-1m-dpo"], {"slimorca": "add", "slimorca_extra": "none"}, installed[2:], installed)
    with pytest.raises(ConfigError, match=r"dpo_only names \['nope'\], not among the selected DPO builders"):
        check_rules(["nope"], {}, installed[2:], installed)
    with pytest.raises(ConfigError, match=r"shared_ids names \['orca'\], neither an installed source"):
        check_rules([], {"orca": "check"}, installed[2:], installed)
