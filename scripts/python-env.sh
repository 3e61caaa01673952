#!/usr/bin/env bash
# The Python side of the test suite: real Keras 3 (TensorFlow 2.21), h5py, Pillow, NumPy and
# pyarrow (and onnx + onnxruntime: the int8 tests' checker and the benchmark's quantize_static peer) in a virtual environment, the independent oracle that the equivalence tests compare
# against. Created when Python 3.10+ is on the machine and PyPI answers; otherwise the tests
# that need it skip with a message. Called by scripts/test.sh.
#
# The environment lives in the user's cache, one folder per exact package list
# (~/.cache/xception/python-<hash>), and .tools/python links to it: installing TensorFlow takes
# minutes, so every clone and CI run on a machine shares one copy, as every clone shares pnpm's
# store. XCEPTION_PYTHON_ENV names another folder. A changed list makes a new folder.
# Usage: bash scripts/python-env.sh   (idempotent: a complete environment is left as it is)
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Pinned: the figures in the tests were measured against exactly these (Pillow decides the
# pixels of load_img, Keras the file layouts written and read).
PY_PACKAGES=(tensorflow-cpu==2.21.0 keras==3.15.1 h5py==3.14.0 pillow==12.3.0 numpy==2.4.6 pyarrow==25.0.1 onnx==1.23.1 onnxruntime==1.30.0)
key=$(printf '%s\n' "${PY_PACKAGES[@]}" | cksum | cut -d' ' -f1)
VENV="${XCEPTION_PYTHON_ENV:-${XDG_CACHE_HOME:-$HOME/.cache}/xception/python-$key}"
STAMP="$VENV/.xception-packages"
LINK="$ROOT/.tools/python"

python_env_ready() { [ -x "$VENV/bin/python" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "${PY_PACKAGES[*]}" ]; }

if ! python_env_ready; then
  py=$(command -v python3 || true)
  if [ -z "$py" ] || ! "$py" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' 2>/dev/null; then
    echo "xception: no Python 3.10+; tests that compare with real Keras will skip" >&2
  else
    echo "xception: creating $VENV (${PY_PACKAGES[*]}; under a minute with a package mirror, once per machine)" >&2
    rm -rf "$VENV"
    mkdir -p "$(dirname "$VENV")"
    # --retries 0: where only a mirror or find-links answers (as on these machines), pip's
    # default index fails at once instead of backing off five times per package (minutes).
    log=$(mktemp)
    if "$py" -m venv "$VENV" >"$log" 2>&1 && "$VENV/bin/pip" install -q --disable-pip-version-check --retries 0 "${PY_PACKAGES[@]}" >"$log" 2>&1; then
      echo "${PY_PACKAGES[*]}" > "$STAMP"
    else
      tail -n 20 "$log" >&2
      echo "xception: could not create the Python environment; tests that compare with real Keras will skip" >&2
      rm -rf "$VENV"
    fi
    rm -f "$log"
  fi
fi
if python_env_ready; then
  mkdir -p "$ROOT/.tools"
  [ -L "$LINK" ] || rm -rf "$LINK"   # an environment of an older layout, made inside the clone
  ln -sfn "$VENV" "$LINK"
fi
