#!/usr/bin/env bash
# The Python side of the test suite: real Keras 3 (TensorFlow 2.21), h5py, Pillow, NumPy and
# pyarrow in a virtual environment at .tools/python, the independent oracle that the
# equivalence tests compare against. Created when Python 3.10+ is on the machine and PyPI
# answers; otherwise the tests that need it skip with a message. Sourced by scripts/test.sh.
# Usage: bash scripts/python-env.sh   (idempotent: a complete venv is left as it is)
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.tools/python"
# Pinned: the figures in the tests were measured against exactly these (Pillow decides the
# pixels of load_img, Keras the file layouts written and read).
PY_PACKAGES=(tensorflow-cpu==2.21.0 keras==3.15.1 h5py==3.14.0 pillow==12.3.0 numpy==2.4.6 pyarrow==25.0.1)
STAMP="$VENV/.xception-packages"

python_env_ready() { [ -x "$VENV/bin/python" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "${PY_PACKAGES[*]}" ]; }

if ! python_env_ready; then
  py=$(command -v python3 || true)
  if [ -z "$py" ] || ! "$py" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' 2>/dev/null; then
    echo "xception: no Python 3.10+; tests that compare with real Keras will skip" >&2
  else
    echo "xception: creating .tools/python (${PY_PACKAGES[*]}; about a minute)" >&2
    rm -rf "$VENV"
    if "$py" -m venv "$VENV" >&2 && "$VENV/bin/pip" install -q --disable-pip-version-check "${PY_PACKAGES[@]}" >&2; then
      echo "${PY_PACKAGES[*]}" > "$STAMP"
    else
      echo "xception: could not create .tools/python; tests that compare with real Keras will skip" >&2
      rm -rf "$VENV"
    fi
  fi
fi
