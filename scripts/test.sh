#!/usr/bin/env bash
# Installs everything and runs the whole test suite (what CI runs). Usage: bash scripts/test.sh
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# Real tools some tests use (Debian Chromium for the renderer, exiftool for XMP sidecars), and
# real Keras 3 and friends as the tests' oracle (.tools/python): fetched in the background while
# pnpm installs and turbo builds, since they wait on the network and the build on the CPU. The
# tests that need them skip with a message when they are absent.
side_logs=$(mktemp -d)
install_system_tools() {
  command -v apt-get >/dev/null && [ "$(id -u)" = 0 ] || return 0
  local missing=()
  command -v chromium >/dev/null || missing+=(chromium)
  command -v exiftool >/dev/null || missing+=(libimage-exiftool-perl)
  [ ${#missing[@]} -gt 0 ] || return 0
  echo "xception: apt-get install ${missing[*]}"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}") >/dev/null \
    || echo "xception: could not install ${missing[*]}; the tests that need them will skip"
}
started=$SECONDS
install_system_tools >"$side_logs/tools" 2>&1 &
tools_job=$!
bash "$ROOT/scripts/python-env.sh" >"$side_logs/python" 2>&1 &
python_job=$!
# The S3 tests' server (Ceph's radosgw, scripts/services/s3.sh): installed once the tools' apt is
# done (dpkg serves one at a time), then started, beside the build (~43 s to install, ~13 s to
# start). Without root or apt, s3.sh says so at once and the S3 tests skip.
start_s3_server() {
  while kill -0 "$tools_job" 2>/dev/null; do sleep 1; done
  bash "$ROOT/scripts/services/s3.sh" start >/dev/null
}
start_s3_server >"$side_logs/s3" 2>&1 &
s3_job=$!

XCEPTION_TURBO_TASKS=typecheck
source "$ROOT/scripts/setup.sh"
echo "xception: set-up (install, build, typecheck) done after $((SECONDS - started)) s" >&2

wait "$tools_job" || true
wait "$python_job" || true
# A server that could not start is not tried again by every test file: they skip with this reason.
if ! wait "$s3_job"; then
  export XCEPTION_NO_S3="$(tail -n 1 "$side_logs/s3")"
fi
cat "$side_logs/tools" "$side_logs/python" "$side_logs/s3" >&2
rm -rf "$side_logs"
echo "xception: tools, the Python oracle and the S3 server ready after $((SECONDS - started)) s" >&2

# The packages were type-checked with the build (XCEPTION_TURBO_TASKS above); the root's own
# TypeScript (test/ and vitest.config.ts) belongs to no package.
node_modules/.bin/tsc -p tsconfig.check.json
# XCEPTION_TEST_REPORT keeps vitest's JSON report (per-file and per-test times: scripts/test-durations.mjs).
results=${XCEPTION_TEST_REPORT:-$(mktemp)}
status=0
node_modules/.bin/vitest run --reporter=default --reporter=json --outputFile.json="$results" || status=$?
# One plain closing line that any CI reader understands.
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const skipped = r.numPendingTests + r.numTodoTests;
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`);
' "$results" || true
[ -n "${XCEPTION_TEST_REPORT:-}" ] || rm -f "$results"
exit $status
