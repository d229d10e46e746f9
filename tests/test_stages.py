"""The one stage runner: fingerprints chain through inputs, finished folders are reused, a killed
stage is redone from scratch, parallel stages give the serial result and their counts are used
as they come back."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from bagel_core.pipeline import run
from bagel_core.stages.runner import DONE, Runner, Stage

TOY = dict(sources="toy-high,toy-low", dpo="toy-pairs", formats="vicuna,alpaca", decontaminate="none")


@dataclass
class Numbers(Stage):
    """Writes the numbers below ``n`` (times the factor of its input, if any) and logs each run
    in a file outside the work folder, so a test can count real runs."""

    name: ClassVar[str] = "numbers"
    outputs: ClassVar[tuple[str, ...]] = ("values.json",)
    n: int
    calls: Path
    source: Any = None

    @property
    def inputs(self) -> list[Stage]:  # type: ignore[override]
        return [self.source] if self.source is not None else []

    def key(self) -> Any:
        return self.n

    def run(self, folder: Path, inputs: list[Path]) -> dict:
        with open(self.calls, "a") as fh:
            fh.write(f"{self.n} {os.getpid()}\n")
        factor = json.loads((inputs[0] / "values.json").read_text())[-1] if inputs else 1
        values = [i * max(factor, 1) for i in range(self.n)]
        (folder / "values.json").write_text(json.dumps(values))
        return {"count": len(values), "pid": os.getpid()}


def _calls(path: Path) -> list[str]:
    return path.read_text().split("\n")[:-1] if path.exists() else []


def test_fingerprints_chain_through_inputs(tmp_path):
    calls = tmp_path / "calls"
    a, b = Numbers(3, calls), Numbers(4, calls)
    top = Numbers(5, calls, source=a)
    runner = Runner(tmp_path / "work", core=["v1"])
    same = Runner(tmp_path / "work", core=["v1"])
    assert runner.fingerprint(top) == same.fingerprint(Numbers(5, calls, source=Numbers(3, calls)))
    assert runner.fingerprint(top) != same.fingerprint(Numbers(5, calls, source=b))  # an input changed
    assert runner.fingerprint(a) != Runner(tmp_path / "work", core=["v2"]).fingerprint(a)  # engine changed
    assert runner.folder(top) == tmp_path / "work" / "numbers" / runner.fingerprint(top)


def test_finished_stages_are_reused_and_killed_ones_redone(tmp_path):
    calls = tmp_path / "calls"
    a = Numbers(3, calls)
    top = Numbers(5, calls, source=a)
    runner = Runner(tmp_path / "work", core=[1])
    runner.run(a)
    first = runner.run(top)
    assert not first.reused and json.loads((first.folder / "values.json").read_text()) == [0, 2, 4, 6, 8]
    assert json.loads((first.folder / DONE).read_text())["count"] == 5
    assert runner.run(top).reused and len(_calls(calls)) == 2
    # A folder without counts.json is what a killed run left: cleared and redone.
    (first.folder / DONE).unlink()
    (first.folder / "half-written").write_text("x")
    again = runner.run(top)
    assert not again.reused and not (again.folder / "half-written").exists() and len(_calls(calls)) == 3
    # A declared output taken away (the write stage moves rendered files) means not finished.
    (again.folder / "values.json").unlink()
    assert not runner.run(top).reused and len(_calls(calls)) == 4
    assert set(runner.timings) == {"numbers"}


def test_parallel_stages_match_serial_and_are_not_recomputed(tmp_path, start_method):
    stages = [Numbers(n, tmp_path / "calls") for n in (2, 3, 4, 5)]
    parallel = Runner(tmp_path / "p", core=[1]).run_all(stages, num_proc=2)
    serial = Runner(tmp_path / "s", core=[1]).run_all(stages, num_proc=1)
    assert [r.counts["count"] for r in parallel] == [r.counts["count"] for r in serial] == [2, 3, 4, 5]
    assert [(r.folder / "values.json").read_text() for r in parallel] == [
        (r.folder / "values.json").read_text() for r in serial
    ]
    # Four runs each: the parallel ones in workers (not the parent), their counts used as they came.
    runs = _calls(tmp_path / "calls")
    assert len(runs) == 8
    assert {r.counts["pid"] for r in parallel} != {os.getpid()} and all(r.counts["pid"] == os.getpid() for r in serial)
    again = Runner(tmp_path / "p", core=[1]).run_all(stages, num_proc=2)
    assert all(r.reused for r in again) and len(_calls(tmp_path / "calls")) == 8


#: Set in the parent only: a forked worker sees it, a spawned one does not.
_PARENT_ONLY: dict = {}


def _worker_view(_: int) -> tuple[bool, Any]:
    from bagel_core.stages import render

    return "set" in _PARENT_ONLY, render._STATE.get("copies")


def test_workers_start_as_asked_and_get_their_state_from_the_initializer(start_method):
    import multiprocessing

    from bagel_core.processes import start_context, worker_pool
    from bagel_core.stages import render

    method = start_context().get_start_method()
    assert method == ("spawn" if start_method == "spawn" else multiprocessing.get_start_method())
    _PARENT_ONLY["set"] = True
    try:
        with worker_pool(1, initializer=render._set_state, initargs=({"copies": 3},)) as pool:
            forked_global, state = pool.submit(_worker_view, 0).result()
    finally:
        _PARENT_ONLY.clear()
    assert forked_global == (method == "fork") and state == 3


def test_a_run_reuses_every_stage_a_change_does_not_touch(tmp_path, toy_root, toy_registry):
    from bagel_core.config import RunConfig

    logs: list[str] = []
    config = RunConfig(out=tmp_path / "out", data_root=toy_root, **TOY)
    run(config, toy_registry, log=logs.append)
    # One line for all the loads (a run has dozens of loaders), one per later stage.
    assert {"load: 3 components, done", "dedup: done", "render: done"} <= {m.split(" after")[0] for m in logs}
    logs.clear()
    config.copies_per_item = 1  # a render setting: loads and dedup are reused, render is redone
    result = run(config, toy_registry, log=logs.append)
    assert (
        any(m.startswith("load: 3 components, 3 reused, done after") for m in logs)
        and "dedup: reused" in logs
        and any(m.startswith("render: done") for m in logs)
    )
    assert set(result.timings) >= {"load", "dedup", "render", "write"}
    # The rendered files were moved into the output, not copied: the render folder keeps only counts.
    render = next((tmp_path / "out" / ".bagel-work" / "render").glob(f"*/{DONE}")).parent
    assert sorted(p.name for p in render.iterdir()) == [DONE]
