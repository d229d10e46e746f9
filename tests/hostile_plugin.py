"""A plugin that misbehaves on demand, for tests/test_faults_input.py.

``BAGEL_TEST_EXIT=HOOK`` makes the hook HOOK call ``sys.exit(0)`` (``setup``, ``rows``,
``convert``, ``render``, ``chat_template``) or, with ``HOOK:interrupt``, raise
``KeyboardInterrupt``; ``BAGEL_TEST_PRINT=1`` makes it print on stdout when it is imported,
registered and asked for its chat template; ``BAGEL_TEST_HANG=ROW`` makes ``convert`` of row
ROW ignore SIGTERM and sleep for ever (``busy``: loop in Python for ever instead, ignoring
SIGTERM too).
"""

import os
import signal
import sys
import time

from bagel_core import PromptFormat, Source, as_conversation, hookimpl
from bagel_core.readers import text


def _misbehave(hook: str) -> None:
    wanted = os.environ.get("BAGEL_TEST_EXIT", "")
    if wanted.split(":")[0] == hook:
        if wanted.endswith(":interrupt"):
            raise KeyboardInterrupt
        sys.exit(0)


if os.environ.get("BAGEL_TEST_PRINT"):
    print("hostile: imported")
    os.write(1, b"hostile: imported (C level)\n")


class Hostile(Source):
    name = "hostile"
    description = "rows of ROOT/hostile/rows/rows.jsonl, misbehaving on demand"
    dataset_ids = ("hostile/rows",)

    def setup(self, ctx):
        _misbehave("setup")

    def rows(self, ctx):
        import json

        _misbehave("rows")
        with open(ctx.dataset_file(self.dataset_ids[0], "rows.jsonl")) as fh:
            for line in fh:
                yield json.loads(line)

    def convert(self, row, ctx):
        _misbehave("convert")
        hang = os.environ.get("BAGEL_TEST_HANG")
        if hang and str(row.get("n")) == hang.split(":")[0]:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            if hang.endswith(":busy"):
                while True:
                    pass
            while True:
                time.sleep(1)
        return as_conversation("hostile", text(row, "q"), text(row, "a"))


class HostileFormat(PromptFormat):
    name = "hostile-format"
    description = "vicuna-like, misbehaving on demand"

    def render(self, messages):
        _misbehave("render")
        return "".join(f"{m['role'].upper()}: {m['content']}\n" for m in messages if m) + "ASSISTANT: "

    def chat_template(self):
        if os.environ.get("BAGEL_TEST_PRINT"):
            print("hostile: making a chat template")
        _misbehave("chat_template")
        return "{% for m in messages %}{{ m['role'].upper() }}: {{ m['content'] }}\n{% endfor %}ASSISTANT: "


@hookimpl
def register_sources(register):
    if os.environ.get("BAGEL_TEST_PRINT"):
        print("hostile: registering")
    register(Hostile)


@hookimpl
def register_formats(register):
    register(HostileFormat)
