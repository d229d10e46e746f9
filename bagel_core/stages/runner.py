"""The one stage runner: caching, resume, parallel runs, progress and timing for every stage.

A :class:`Stage` declares what its output depends on (the stages it reads, and a JSON-able
``key()`` of everything else: component identities, options, seed) and turns the folders of its
inputs into a folder of its own, returning its counts. The runner names that folder by the
fingerprint of those declarations, ``WORK/<stage>/<fingerprint>/``, and writes
``counts.json`` into it last: a folder with ``counts.json`` is finished and is reused, one
without it (a killed run) is cleared and redone. Fingerprints chain through inputs, so the
final fingerprint of a run is known before anything runs, and changing one source's option
redoes that source's load and what follows it, nothing else.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from ..console import progress
from ..containment import contained
from ..processes import worker_pool
from ..storage import fingerprint, read_json, write_json

DONE = "counts.json"


class Stage:
    """One step of the pipeline. Subclasses set ``name``, keep their inputs in ``inputs`` and
    override :meth:`key` and :meth:`run`."""

    #: The stage's folder under the work directory, and its label in logs and timings.
    name: ClassVar[str]
    #: Stages whose folders this one reads, in the order :meth:`run` receives them.
    inputs: Sequence[Stage] = ()
    #: Files of the folder that a later step may take away (the write stage moves the
    #: rendered files into the output): the folder counts as finished only while they exist.
    outputs: ClassVar[tuple[str, ...]] = ()

    def key(self) -> Any:
        """Everything besides its inputs that the output depends on (JSON-able)."""
        return None

    def label(self) -> str:
        """How logs name this stage (``load slimorca``)."""
        return self.name

    def folder_name(self, fingerprint: str) -> str:
        """The name of the stage's folder under ``WORK/<name>/``; the fingerprint by default."""
        return fingerprint

    def run(self, folder: Path, inputs: list[Path]) -> dict[str, Any]:
        """Write the output into ``folder`` (which exists and is empty) from the folders of
        :attr:`inputs`; return the counts (JSON-able), which the runner stores."""
        raise NotImplementedError


@dataclass
class StageResult:
    folder: Path
    counts: dict[str, Any]
    reused: bool


def _execute(stage: Stage, folder: Path, inputs: list[Path]) -> dict[str, Any]:
    # Stages name the plugin that called sys.exit() where they call it; this is the backstop.
    with contained(f"a plugin in stage {stage.label()!r}"):
        return stage.run(folder, inputs)


class Runner:
    """Runs stages into ``work``; ``core`` (the engine's version and cache layout) is part of
    every fingerprint."""

    def __init__(
        self, work: Path, core: Any, log: Callable[[str], None] = lambda message: None, quiet: bool = True
    ) -> None:
        self.work = Path(work)
        self.core = core
        self.log = log
        #: No progress display (the stages' own displays take ``quiet`` from their tasks).
        self.quiet = quiet
        #: Seconds spent per stage name (loads summed), reused stages counting ~0.
        self.timings: dict[str, float] = {}
        # id -> (stage, fingerprint): the stage is held so its id is not reused while cached.
        self._fingerprints: dict[int, tuple[Stage, str]] = {}

    def fingerprint(self, stage: Stage) -> str:
        key = id(stage)
        if key not in self._fingerprints:
            value = fingerprint(self.core, stage.name, stage.key(), [self.fingerprint(s) for s in stage.inputs])
            self._fingerprints[key] = (stage, value)
        return self._fingerprints[key][1]

    def folder(self, stage: Stage) -> Path:
        return self.work / stage.name / stage.folder_name(self.fingerprint(stage))

    def done(self, stage: Stage) -> bool:
        folder = self.folder(stage)
        return (folder / DONE).is_file() and all((folder / name).is_file() for name in stage.outputs)

    def _fresh(self, stage: Stage) -> Path:
        folder = self.folder(stage)
        if folder.exists():  # what a killed run left: redo it from scratch
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        return folder

    def _finish(
        self, stage: Stage, counts: dict[str, Any], seconds: float, timed: bool = True, say: bool = True
    ) -> StageResult:
        write_json(self.folder(stage) / DONE, counts)  # last: marks the folder finished
        if timed:
            self.timings[stage.name] = self.timings.get(stage.name, 0.0) + seconds
        if say:
            self.log(f"{stage.label()}: done after {seconds:.1f}s")
        return StageResult(self.folder(stage), counts, reused=False)

    def _reused(self, stage: Stage, say: bool = True) -> StageResult:
        self.timings.setdefault(stage.name, 0.0)
        if say:
            self.log(f"{stage.label()}: reused")
        return StageResult(self.folder(stage), read_json(self.folder(stage) / DONE), reused=True)

    def run(self, stage: Stage, say: bool = True) -> StageResult:
        """``stage``'s result, run now unless a finished folder exists (its inputs must be
        finished already)."""
        if self.done(stage):
            return self._reused(stage, say)
        folder = self._fresh(stage)
        started = time.perf_counter()
        counts = _execute(stage, folder, [self.folder(s) for s in stage.inputs])
        return self._finish(stage, counts, time.perf_counter() - started, say=say)

    def run_all(self, stages: Sequence[Stage], num_proc: int = 1) -> list[StageResult]:
        """Independent stages, in worker processes when ``num_proc`` > 1; results in order.
        The workers' counts are used as they come back, not recomputed. One progress display
        and one line for them all (a run has dozens of loaders)."""
        results: dict[int, StageResult] = {i: self._reused(s, say=False) for i, s in enumerate(stages) if self.done(s)}
        pending = [i for i in range(len(stages)) if i not in results]
        if not stages:
            return []
        name = stages[0].name
        started = time.perf_counter()
        with progress(name, total=len(pending), unit="components", disable=self.quiet or not pending) as shown:
            if num_proc > 1 and len(pending) > 1:
                jobs = [
                    (stages[i], self._fresh(stages[i]), [self.folder(s) for s in stages[i].inputs]) for i in pending
                ]
                with worker_pool(min(num_proc, len(jobs))) as pool:
                    futures = [pool.submit(_execute, *job) for job in jobs]
                    for i, future in zip(pending, futures):
                        shown.note(stages[i].label())
                        counts = future.result()
                        results[i] = self._finish(
                            stages[i], counts, time.perf_counter() - started, timed=False, say=False
                        )
                        shown.update()
                # Stages that ran side by side: their wall time, once.
                self.timings[name] = self.timings.get(name, 0.0) + time.perf_counter() - started
            else:
                for i in pending:
                    shown.note(stages[i].label())
                    results[i] = self.run(stages[i], say=False)
                    shown.update()
        self.timings.setdefault(name, 0.0)
        reused = f", {len(stages) - len(pending)} reused" if len(pending) < len(stages) else ""
        self.log(
            f"{name}: {len(stages)} component{'' if len(stages) == 1 else 's'}{reused}, done after {time.perf_counter() - started:.1f}s"
        )
        return [results[i] for i in range(len(stages))]
