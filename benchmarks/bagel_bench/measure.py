"""Run a command and measure it: wall time, peak resident memory of its whole process tree."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psutil

SAMPLE_EVERY_S = 0.1


@dataclass
class Measurement:
    wall_s: float
    #: Highest sum of RSS over the process and all its descendants, sampled every 0.1 s.
    peak_tree_rss_bytes: int
    #: Highest RSS of any single process of the tree (from the kernel, exact).
    max_process_rss_bytes: int
    returncode: int
    stdout: str
    stderr: str
    #: (seconds since start, tree RSS) of every sample.
    samples: list[tuple[float, int]] = field(default_factory=list)

    def peak_between(self, start_s: float, end_s: float) -> int:
        """The highest sampled tree RSS from ``start_s`` to ``end_s`` after the start."""
        return max((rss for t, rss in self.samples if start_s <= t <= end_s), default=0)


def _tree_rss(proc: psutil.Process) -> int:
    total = 0
    try:
        members = [proc, *proc.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    for p in members:
        try:
            total += p.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total


def measured(command: Sequence[str], env: Mapping[str, str] | None = None, cwd: Path | None = None) -> Measurement:
    """Run ``command`` to completion, sampling its process tree's memory meanwhile."""
    started = time.perf_counter()
    child = subprocess.Popen(
        list(command),
        env={**os.environ, **(env or {})},
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    proc = psutil.Process(child.pid)
    samples: list[tuple[float, int]] = []
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            samples.append((time.perf_counter() - started, _tree_rss(proc)))
            done.wait(SAMPLE_EVERY_S)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    # Drain both pipes, then reap the child with wait4 for its rusage, whose ru_maxrss (KiB
    # on Linux) is the largest RSS of the child and of its reaped descendants.
    out_chunks, err_chunks = _drain(child)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    done.set()
    sampler.join()
    child.returncode = os.waitstatus_to_exitcode(status)
    peak = max((rss for _, rss in samples), default=0)
    return Measurement(wall, peak, usage.ru_maxrss * 1024, child.returncode, out_chunks, err_chunks, samples)


def _drain(child: subprocess.Popen) -> tuple[str, str]:
    """Read stdout and stderr to their ends without reaping the child."""
    result: dict[str, str] = {}

    def read(name: str, stream) -> None:
        result[name] = stream.read()
        stream.close()

    readers = [
        threading.Thread(target=read, args=(name, stream))
        for name, stream in (("out", child.stdout), ("err", child.stderr))
    ]
    for r in readers:
        r.start()
    for r in readers:
        r.join()
    return result["out"], result["err"]
