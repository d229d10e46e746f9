#!/usr/bin/env bash
# Set up bagel on a fresh machine: a virtual environment in .venv with bagel-core, its extras,
# and the three built-in plugin distributions, all editable. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
# bagel reads TOML with the standard library's tomllib: Python 3.11 or newer (pyproject.toml).
"$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
    echo "bagel needs Python 3.11+; $PY is $("$PY" --version 2>&1). Set PYTHON=python3.11." >&2; exit 1; }
[ -x .venv/bin/python ] || "$PY" -m venv .venv
PIP=".venv/bin/python -m pip --disable-pip-version-check -q"
# torch first, pinned: a bare "torch" requirement would pull a multi-GB CUDA build.
.venv/bin/python -c "import torch" 2>/dev/null || $PIP install torch==2.13.0
# deepspeed's build imports torch: build it against the torch above, not in an isolated env.
.venv/bin/python -c "import deepspeed" 2>/dev/null || DS_BUILD_OPS=0 $PIP install --no-build-isolation deepspeed
$PIP install -e ".[dedup,decontaminate,report,test,train]" \
    -e plugins/bagel-sources-builtin -e plugins/bagel-formats-builtin -e plugins/bagel-dpo-builtin
# The code of the trainers `bagel export` writes for, which tests run the exports through
# (tests/test_export.py): their modules only, in folders of their own, since their pinned
# dependencies would replace torch and transformers.
for tool in axolotl==0.19.0 llamafactory==0.9.5; do
    [ -d ".venv/tools/${tool%%=*}/${tool%%=*}" ] || $PIP install --no-deps --target ".venv/tools/${tool%%=*}" "$tool"
done
