"""Fault injection for tests/test_faults.py, loaded by Python at start-up when this folder is on
PYTHONPATH: SIGKILL this process just before its N-th file-system change (a rename or a
delete) under BAGEL_FAULT_ROOT (not counting paths that contain BAGEL_FAULT_SKIP), where N is
BAGEL_FAULT_KILL_AT. With N = 0 nothing is killed
and the number of changes is written to BAGEL_FAULT_COUNT at exit, so a test can kill a run at
every step it takes, bagel's code unchanged.
"""

import atexit
import os
import signal

_ROOT = os.environ.get("BAGEL_FAULT_ROOT")
if _ROOT:
    _ROOT = os.path.realpath(_ROOT)
    _KILL_AT = int(os.environ.get("BAGEL_FAULT_KILL_AT", "0"))
    _SKIP = os.environ.get("BAGEL_FAULT_SKIP") or None
    _seen = [0]
    _replace, _rename, _unlink, _rmdir = os.replace, os.rename, os.unlink, os.rmdir

    def _step(path, *args, **kwargs):
        full = os.path.realpath(os.fspath(path)) if kwargs.get("dir_fd") is None else _ROOT
        if full.startswith(_ROOT + os.sep) and os.getpid() == _PID and not (_SKIP and _SKIP in full):
            _seen[0] += 1
            if _seen[0] == _KILL_AT:
                os.kill(os.getpid(), signal.SIGKILL)

    def replace(src, dst, *args, **kwargs):
        _step(dst, **kwargs)
        return _replace(src, dst, *args, **kwargs)

    def rename(src, dst, *args, **kwargs):
        _step(dst, **kwargs)
        return _rename(src, dst, *args, **kwargs)

    def unlink(path, *args, **kwargs):
        _step(path, **kwargs)
        return _unlink(path, *args, **kwargs)

    def rmdir(path, *args, **kwargs):
        _step(path, **kwargs)
        return _rmdir(path, *args, **kwargs)

    _PID = os.getpid()
    os.replace, os.rename, os.unlink, os.remove, os.rmdir = replace, rename, unlink, unlink, rmdir

    @atexit.register
    def _count():
        if os.environ.get("BAGEL_FAULT_COUNT") and os.getpid() == _PID:
            with open(os.environ["BAGEL_FAULT_COUNT"], "w") as fh:
                fh.write(str(_seen[0]))


# BAGEL_FAULT_NO_MODULE=a,b: those modules can not be imported, as if not installed.
for _name in filter(None, os.environ.get("BAGEL_FAULT_NO_MODULE", "").split(",")):
    import sys

    sys.modules[_name] = None  # type: ignore[assignment]
