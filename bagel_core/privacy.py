"""What published files and printed messages may say about the machine and the user.

The manifest, the dataset card and report.html are uploaded by ``bagel push-to-hub``, and
error messages are pasted into bug reports: none of them should carry an API key or the
user's home folder. Secrets are redacted by the options layer's rule (:func:`options.redact`,
:func:`options.is_secret`); this module applies it to a command line, and writes paths under
the output folder relative to it and paths under the home folder as ``~``.
"""

from __future__ import annotations

import os
import re
import shlex
import typing
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from .options import REDACTED, is_secret

#: A path prefix ends where the path does: at a separator, a quote, a space or the end.
_END = r"(?=[/\s'\",;:)\]}]|$)"


def _prefixes(folder: Path) -> list[str]:
    """The spellings of ``folder`` as an absolute path (as given, and with links resolved)."""
    names = {os.path.abspath(folder), os.path.realpath(folder)}
    return sorted((n for n in names if n != os.sep), key=len, reverse=True)


def tilde(text: str) -> str:
    """``text`` with the user's home folder written ``~``."""
    try:
        homes = _prefixes(Path.home())
    except RuntimeError:  # no HOME and no password entry: no home folder to hide
        return text
    for home in homes:
        text = re.sub(re.escape(home) + _END, "~", text)
    return text


def public(value: Any, out: Path | None = None) -> Any:
    """``value`` (a string, or lists and dicts of them) with paths under ``out`` written
    relative to it (``out`` itself is ``.``) and paths under the home folder as ``~``."""
    if isinstance(value, dict):
        return {k: public(v, out) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [public(v, out) for v in value]
    if not isinstance(value, str):
        return value
    if out is not None:
        for prefix in _prefixes(out):
            value = re.sub(re.escape(prefix) + r"/(?=[^\s'\"])", "", value)  # OUT/x -> x
            value = re.sub(re.escape(prefix) + _END, ".", value)
    return tilde(value)


def command_line(command: str, secret: Callable[[str], bool]) -> str:
    """``command`` (a shell-quoted command line) with the value of every ``-o KEY=VALUE`` whose
    ``KEY`` is a secret option (``secret(KEY)``) redacted, and the home folder as ``~``."""
    try:
        words = shlex.split(command)
    except ValueError:  # unbalanced quotes: nothing we can tell apart, so nothing shown
        return REDACTED
    redacted, option_next = [], False
    for word in words:
        flag = ""
        value: str | None = word
        if option_next:
            option_next = False
        elif word in ("-o", "--option"):
            option_next = True
        elif word.startswith("--option="):
            flag, value = "--option=", word[len("--option=") :]
        elif word.startswith("-o") and "=" in word:
            flag, value = "-o", word[2:]
        else:
            value = None
        if value is not None and "=" in value:
            key = value.partition("=")[0].strip()
            if secret(key):
                word = f"{flag}{key}={REDACTED}"
        redacted.append(word)
    return tilde(shlex.join(redacted))


def secret_key(key: str, options_classes: Mapping[str, type]) -> bool:
    """Whether ``-o KEY`` (``KIND.NAME.OPTION``) sets a secret: named like one, or marked
    ``Secret()`` in ``options_classes[KIND.NAME]`` (the component's ``Options``)."""
    head, _, name = key.rpartition(".")
    name = name.replace("-", "_")
    options_cls = options_classes.get(head)
    hint = typing.get_type_hints(options_cls, include_extras=True).get(name) if options_cls is not None else None
    return is_secret(name, hint)
