"""Worker processes that never outlive bagel, and signals that stop a run cleanly.

A load or render worker left running after its parent died (``kill -9``, an OOM kill, a closed
terminal) keeps burning CPU and memory and can still write into the work folder. So every
worker asks the kernel to kill it when its parent dies (Linux ``PR_SET_PDEATHSIG``; elsewhere
a thread watching the parent's pid), and ignores Ctrl-C, which the parent handles for the whole
run. SIGTERM and Ctrl-C raise :class:`Interrupted` in the main process: the stages already
finished stay cached, every file being written is a temporary that the next run removes, and
the same command resumes.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

T = TypeVar("T")

_PR_SET_PDEATHSIG = 1


class Interrupted(BaseException):
    """The run was stopped by a signal. A ``BaseException``, like ``KeyboardInterrupt``, so a
    plugin's ``except Exception`` does not swallow it."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(f"stopped by {signal.Signals(signum).name}")

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


def _raise(signum: int, frame) -> None:
    raise Interrupted(signum)


@contextmanager
def stop_on_signals() -> Iterator[None]:
    """SIGTERM and SIGINT raise :class:`Interrupted` in the main thread while the block runs."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {s: signal.signal(s, _raise) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def _die_with_parent(parent: int) -> None:
    """Have this process killed when ``parent`` ends, however it ends."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0:
                if os.getppid() != parent:  # the parent died before the request took effect
                    os._exit(1)
                return
        except (OSError, AttributeError):
            pass

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="bagel-parent-watch").start()


def cores() -> int:
    """The cores this process may run on (its CPU affinity, not the machine's count)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


#: Names the start method of every bagel worker process (``fork``, ``spawn``, ``forkserver``);
#: unset, the platform's default (spawn on macOS and Windows, forkserver on Linux from Python
#: 3.14). The test suite runs its multi-process tests under ``spawn`` too.
START_METHOD_VARIABLE = "BAGEL_MP_START"


def start_context(method: str | None = None) -> multiprocessing.context.BaseContext:
    """The context worker processes start from: ``method``, else ``$BAGEL_MP_START``, else the
    platform's default. Workers get their state from the pool's initializer (pickled), never
    from a module global that only ``fork`` would carry over."""
    method = method or os.environ.get(START_METHOD_VARIABLE) or None
    try:
        return multiprocessing.get_context(method)
    except ValueError:
        raise ValueError(
            f"{START_METHOD_VARIABLE}={method!r}: expected one of {', '.join(multiprocessing.get_all_start_methods())}"
        ) from None


def worker_init(parent: int, then: Callable[..., None] | None = None, args: tuple = ()) -> None:
    """Initializer of every bagel worker process; ``then(*args)`` runs after it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops the run for all
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _die_with_parent(parent)
    if then is not None:
        then(*args)


def limit_threads(threads: int) -> None:
    """Have the numeric libraries a worker loads from now on (torch, faiss: OpenMP) use at most
    ``threads`` threads, unless the user set their own limits: ``num_proc`` workers each with
    every core would fight over them. (numpy's BLAS is loaded before this runs; the workers use
    it for little.)"""
    for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(variable, str(threads))


@contextmanager
def worker_pool(
    max_workers: int,
    mp_context: multiprocessing.context.BaseContext | None = None,
    initializer: Callable[..., None] | None = None,
    initargs: tuple = (),
) -> Iterator[ProcessPoolExecutor]:
    """A ``ProcessPoolExecutor`` whose workers die with this process (``initializer(*initargs)``
    then prepares each worker); they start from ``mp_context``, else :func:`start_context`.
    When the block fails or is interrupted, the workers are stopped at once instead of
    finishing their queued work."""
    pool = ProcessPoolExecutor(
        max_workers=max_workers,
        mp_context=mp_context or start_context(),
        initializer=worker_init,
        initargs=(os.getpid(), initializer, initargs),
    )
    try:
        yield pool
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        _stop(multiprocessing.active_children())
        raise
    pool.shutdown(wait=True)


#: Seconds a worker has to end after SIGTERM before it is killed.
GRACE = 3.0


def _stop(children: list) -> None:
    """SIGTERM ``children``, then SIGKILL those still alive after :data:`GRACE` seconds: a
    worker stuck in C code, or whose plugin ignores SIGTERM, would otherwise keep bagel waiting
    for it at exit."""
    for child in children:
        child.terminate()
    deadline = time.monotonic() + GRACE
    for child in children:
        child.join(max(0.0, deadline - time.monotonic()))
    for child in children:
        if child.is_alive():
            child.kill()
            child.join(1.0)


def in_order(submit: Callable[[T], Future], items: Iterable[T], window: int) -> Iterator[tuple[T, Any]]:
    """``(item, result)`` for each of ``items``, in their order, ``submit(item)`` giving the
    future of its result; at most ``window`` items are in flight, so memory stays flat however
    many there are."""
    pending: deque[tuple[T, Future]] = deque()
    for item in items:
        pending.append((item, submit(item)))
        if len(pending) >= window:
            first, future = pending.popleft()
            yield first, future.result()
    while pending:
        first, future = pending.popleft()
        yield first, future.result()
