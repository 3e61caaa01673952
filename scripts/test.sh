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
# The services some tests run against (a one-node Slurm, and Ceph's S3 gateway where the project
# has scripts/services/s3.sh), installed in one apt run after the tools (apt takes one at a time)
# and started side by side, while the build runs: inside a test file an install would hold up one
# of vitest's two workers. The scripts install what is still missing themselves; a failure is
# logged and the tests that need the service skip.
SERVICES=(slurm s3)
install_service_packages() {
  command -v apt-get >/dev/null && [ "$(id -u)" = 0 ] || return 0
  local missing=()
  command -v slurmd >/dev/null || missing+=(munge slurmctld slurmd slurm-client)
  [ ! -f "$ROOT/scripts/services/s3.sh" ] || command -v radosgw >/dev/null || missing+=(ceph-mon ceph-osd ceph-common radosgw)
  [ ${#missing[@]} -gt 0 ] || return 0
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || echo "xception: could not install ${missing[*]}; the tests that need them will skip"
}
start_services() {
  local service
  for service in "${SERVICES[@]}"; do
    [ -f "$ROOT/scripts/services/$service.sh" ] || continue
    ( bash "$ROOT/scripts/services/$service.sh" start >/dev/null 2>"$side_logs/$service.err" \
      || { tail -n 1 "$side_logs/$service.err" >"$side_logs/$service.failed"; echo "xception: $service did not start; the tests that need it will skip"; } ) &
  done
  wait
}
started=$SECONDS
{ install_system_tools; install_service_packages; start_services; echo "xception: tools and services ready after $((SECONDS - started)) s"; } >"$side_logs/tools" 2>&1 &
tools_job=$!
{ bash "$ROOT/scripts/python-env.sh" && echo "xception: the Python oracle ready after $((SECONDS - started)) s"; } >"$side_logs/python" 2>&1 &
python_job=$!

XCEPTION_TYPECHECK=1
source "$ROOT/scripts/setup.sh"
echo "xception: set-up (install, build, typecheck) done after $((SECONDS - started)) s" >&2

wait "$tools_job" || true
wait "$python_job" || true
# A server that could not start is not tried again by every test file: they skip with this reason.
if [ -f "$side_logs/s3.failed" ]; then
  export XCEPTION_NO_S3="$(cat "$side_logs/s3.failed")"
fi
cat "$side_logs/tools" "$side_logs/python" >&2
rm -rf "$side_logs"
echo "xception: tools, the Python oracle and the S3 server ready after $((SECONDS - started)) s" >&2

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
