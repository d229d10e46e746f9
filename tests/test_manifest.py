"""The typed manifest: what a run publishes reads back the same, earlier manifests still read,
a newer format is one line naming the file."""

import json
import subprocess
import sys

import pytest
from engine_fixtures import REPO

from bagel_core import publish
from bagel_core.config import RunConfig
from bagel_core.manifest import FORMAT_VERSION, MANIFEST, Manifest, ManifestError, NewerManifest, read_manifest
from bagel_core.pipeline import run
from bagel_core.push import files_to_push, hub_card

TOY = dict(sources="toy-high,toy-low", dpo="toy-pairs", formats="vicuna", decontaminate="none")


@pytest.fixture
def toy_out(tmp_path, toy_root, toy_registry):
    out = tmp_path / "out"
    result = run(RunConfig(out=out, data_root=toy_root, **TOY), toy_registry, command="bagel run --sample")
    return out, result


def test_the_published_json_reads_back_to_the_same_manifest(toy_out):
    out, result = toy_out
    text = (out / MANIFEST).read_text()
    manifest = read_manifest(out)
    assert manifest == result.manifest
    # Written back, the JSON is the file's, key for key and in the same order.
    assert json.dumps(manifest.to_json(), indent=2) + "\n" == text
    assert manifest.format_version == FORMAT_VERSION and manifest.command == "bagel run --sample"
    high = manifest.sources["toy-high"]
    assert (high.kind, high.loaded) == ("source", 3) and high.rows_written.sft > 0
    assert manifest.totals.sft_rows == sum(s.rows_written.sft for s in manifest.sources.values())


def _legacy(data: dict) -> dict:
    """A manifest as bagel wrote it before the format marker, the command line, the warnings and
    the dedupers were recorded (and before ``flagged``, ``dedup`` and the examples per source)."""
    old = {k: v for k, v in data.items() if k not in ("format", "format_version", "command", "warnings", "dedupers")}
    old["sources"] = {
        name: {k: v for k, v in s.items() if k not in ("flagged", "dedup", "rejected_examples", "filtered_examples")}
        for name, s in data["sources"].items()
    }
    return old


def test_a_manifest_of_an_earlier_bagel_still_reads_and_its_folder_stays_bagels(toy_out):
    out, _ = toy_out
    data = json.loads((out / MANIFEST).read_text())
    (out / MANIFEST).write_text(json.dumps(_legacy(data)))
    manifest = read_manifest(out)
    assert manifest.format_version == 0 and manifest.command is None and manifest.warnings == []
    assert manifest.dedupers is None and manifest.sources["toy-high"].flagged == 0
    assert manifest.sources["toy-high"].loaded == 3
    card = hub_card(out, "me/data")  # push renders the card again from the old manifest
    assert "me/data" in card and "dedup =" not in card.split("```toml", 1)[1]  # no dedupers recorded
    assert publish.inspect(out).listed == set(data["files"])  # publish still knows the folder is bagel's


def test_a_newer_manifest_is_one_line_naming_the_file(toy_out):
    out, _ = toy_out
    data = json.loads((out / MANIFEST).read_text())
    data["format_version"] = FORMAT_VERSION + 1
    (out / MANIFEST).write_text(json.dumps(data))
    with pytest.raises(NewerManifest, match=rf"manifest.json: manifest format version {FORMAT_VERSION + 1} is newer"):
        read_manifest(out)
    with pytest.raises(NewerManifest):
        hub_card(out, "me/data")  # push renders the card from it
    with pytest.raises(NewerManifest):
        files_to_push(out)  # before anything is uploaded
    # The command line: one line, no traceback.
    done = subprocess.run(
        [sys.executable, "-c", "from bagel_core.cli import main; main()", "export", "axolotl", str(out)],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert not (out / "axolotl").exists()
    assert done.stderr.strip().splitlines() == [
        f"Error: {out / MANIFEST}: manifest format version {FORMAT_VERSION + 1} is newer than this bagel-core reads "
        f"({FORMAT_VERSION}); upgrade bagel-core"
    ]


@pytest.mark.parametrize(
    "data, problem",
    [
        ([], "not a bagel manifest (not a JSON table)"),
        ({"format": "someone-else", "format_version": 1}, "not a bagel manifest (format 'someone-else')"),
        ({"format": "bagel-output", "format_version": "2"}, "'format_version' is not a number"),
        ({"format": "bagel-output", "format_version": 1, "sources": {}}, "'bagel_version' is missing or not text"),
        ({"bagel_version": "0.1.0", "fingerprint": "f"}, "'sources' is missing or not a table"),
    ],
)
def test_a_manifest_that_is_not_bagels_is_an_error_naming_what(data, problem):
    with pytest.raises(ManifestError) as info:
        Manifest.from_json(data, "x/manifest.json")
    assert str(info.value) == f"x/manifest.json: {problem}"


def test_indexing_the_manifest_still_works_with_a_deprecation_warning(toy_out):
    _, result = toy_out
    with pytest.warns(DeprecationWarning, match=r"manifest\.totals"):
        assert result.manifest["totals"]["sft_rows"] == result.manifest.totals.sft_rows > 0
