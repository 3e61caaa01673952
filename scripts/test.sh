#!/usr/bin/env bash
# Installs everything and runs the whole test suite (what CI runs). Usage: bash scripts/test.sh
set -euo pipefail
XCEPTION_TURBO_TASKS=typecheck
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"

# Real tools some tests use (Debian Chromium for the renderer, exiftool for XMP sidecars, h5py
# to cross-check HDF5): installed when this is a Debian machine we may install on; the tests
# that need them skip with a message otherwise.
if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  missing=()
  command -v chromium >/dev/null || missing+=(chromium)
  command -v exiftool >/dev/null || missing+=(libimage-exiftool-perl)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "xception: apt-get install ${missing[*]}" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}") >&2 \
      || echo "xception: could not install ${missing[*]}; the tests that need them will skip" >&2
  fi
fi

# Real Keras 3 and friends as the tests' oracle (.tools/python); skipped tests say so when absent.
bash "$ROOT/scripts/python-env.sh"

# The packages were type-checked with the build (XCEPTION_TURBO_TASKS above); the root's own
# TypeScript (test/ and vitest.config.ts) belongs to no package.
node_modules/.bin/tsc -p tsconfig.check.json
results=$(mktemp)
status=0
node_modules/.bin/vitest run --reporter=default --reporter=json --outputFile.json="$results" || status=$?
# One plain closing line that any CI reader understands.
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const skipped = r.numPendingTests + r.numTodoTests;
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`);
' "$results" || true
rm -f "$results"
exit $status
