"""Plugin code may not end bagel, write on its stdout, or hang one item forever.

- ``sys.exit()`` (``SystemExit``) or ``KeyboardInterrupt`` raised by a plugin's code would end
  bagel as if the run had finished (``sys.exit(0)``: exit status 0, nothing written). Every call
  into plugin code is made inside :func:`contained`, which turns them into :class:`PluginExit`,
  an ordinary error naming the plugin. A real Ctrl-C is not one of them: bagel's command line
  turns SIGINT into :class:`~bagel_core.processes.Interrupted` and workers ignore it, so a
  ``KeyboardInterrupt`` is the plugin's own unless Python's default SIGINT handler is installed
  (bagel used as a library), where it is passed on.
- :func:`stdout_to_stderr` sends whatever plugin code prints (Python or C) to stderr while it
  runs, so ``bagel list-plugins --json`` and ``bagel chat-template`` print only their output.
- :func:`item_time_limit` bounds one item's handling by a plugin with ``SIGALRM``: past the
  limit :class:`ItemTimeout` is raised in the plugin's code. Python code is stopped wherever
  it is; a call that never returns to Python (a C extension stuck without releasing the GIL)
  is not, and only SIGTERM or Ctrl-C, which kill workers after a short grace, end it.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import traceback
from collections.abc import Iterator
from contextlib import contextmanager


class PluginExit(Exception):
    """Plugin code raised ``SystemExit`` or ``KeyboardInterrupt``: an error naming the plugin."""


def _plugin_raised(exc: BaseException) -> bool:
    if isinstance(exc, SystemExit):
        return True
    # With Python's default handler a KeyboardInterrupt may be the user's Ctrl-C.
    return isinstance(exc, KeyboardInterrupt) and signal.getsignal(signal.SIGINT) is not signal.default_int_handler


def exit_message(who: str, exc: BaseException) -> str:
    """``WHO called sys.exit(0) (file:line): ...``, the line being where the plugin raised it."""
    what = f"called sys.exit({exc.code!r})" if isinstance(exc, SystemExit) else "raised KeyboardInterrupt"
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" ({frames[-1].filename}:{frames[-1].lineno})" if frames else ""
    return f"{who} {what}{where}: plugin code may not end bagel (raise an exception instead)"


@contextmanager
def contained(who: str) -> Iterator[None]:
    """Run plugin code; its ``SystemExit`` / ``KeyboardInterrupt`` becomes :class:`PluginExit`
    naming ``who`` (``format 'vicuna' (bagel_formats_builtin.vicuna)``)."""
    try:
        yield
    except (SystemExit, KeyboardInterrupt) as exc:
        raise plugin_exit(who, exc) from None


def plugin_exit(who: str, exc: SystemExit | KeyboardInterrupt) -> BaseException:
    """What :func:`contained` raises in place of ``exc``: :class:`PluginExit`, or ``exc`` itself
    when it is not the plugin's. For hot loops that cannot afford a ``with`` per call: ``except
    (SystemExit, KeyboardInterrupt) as exc: raise plugin_exit(who, exc) from None``."""
    return PluginExit(exit_message(who, exc)) if _plugin_raised(exc) else exc


def who(cls: type) -> str:
    """How containment messages name a component class: kind, name and module."""
    kind = getattr(cls, "kind", "component").replace("_", " ")
    return f"{kind} {getattr(cls, 'name', cls.__name__)!r} ({cls.__module__})"


@contextmanager
def stdout_to_stderr() -> Iterator[None]:
    """While the block runs, what is written to stdout (``print``, or a C library writing to
    file descriptor 1) goes to stderr."""
    sys.stdout.flush()
    saved_stdout = sys.stdout
    try:
        saved_fd: int | None = os.dup(1)
        os.dup2(2, 1)
    except OSError:  # no file descriptor 1 (a closed stdout): Python's own prints only
        saved_fd = None
    sys.stdout = sys.stderr
    try:
        yield
    finally:
        sys.stdout.flush()
        sys.stdout = saved_stdout
        if saved_fd is not None:
            os.dup2(saved_fd, 1)
            os.close(saved_fd)


class ItemTimeout(BaseException):
    """One item took longer than the run's ``item_time_limit``. A ``BaseException`` so that a
    plugin's ``except Exception`` does not swallow it."""


def _expired(signum, frame) -> None:
    raise ItemTimeout()


class ItemTimer:
    """Arms ``SIGALRM`` for ``seconds`` per item (:meth:`start` / :meth:`stop`); a no-op with
    ``seconds`` None or outside the main thread (signals are delivered there only)."""

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds if seconds and threading.current_thread() is threading.main_thread() else None

    def start(self) -> None:
        if self.seconds:
            signal.setitimer(signal.ITIMER_REAL, self.seconds)

    def stop(self) -> None:
        if self.seconds:
            signal.setitimer(signal.ITIMER_REAL, 0)


@contextmanager
def item_time_limit(seconds: float | None) -> Iterator[ItemTimer]:
    """An :class:`ItemTimer` whose expiry raises :class:`ItemTimeout` while the block runs."""
    timer = ItemTimer(seconds)
    if not timer.seconds:
        yield timer
        return
    previous = signal.signal(signal.SIGALRM, _expired)
    try:
        yield timer
    finally:
        timer.stop()
        signal.signal(signal.SIGALRM, previous)
