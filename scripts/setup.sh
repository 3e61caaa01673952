#!/usr/bin/env bash
# Shared set-up for scripts/test.sh and scripts/classify.sh: from a machine with only Node 20,
# install the pinned pnpm locally (no root needed), the workspace's dependencies, and build.
# Sourced, not run: it exports PATH with the local pnpm.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PNPM_VERSION=12.21.0

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  echo "xception: Node.js 20 or later is required (found $(node --version 2>/dev/null || echo none)); install it from nodejs.org or your package manager." >&2
  exit 1
fi

# pnpm, pinned, installed inside the checkout (.tools/, git-ignored) unless the right one is on PATH.
if [ "$(pnpm --version 2>/dev/null || true)" != "$PNPM_VERSION" ]; then
  if [ ! -x "$ROOT/.tools/node_modules/.bin/pnpm" ] || [ "$("$ROOT/.tools/node_modules/.bin/pnpm" --version)" != "$PNPM_VERSION" ]; then
    echo "xception: installing pnpm $PNPM_VERSION into .tools/" >&2
    npm install --silent --no-audit --no-fund --prefix "$ROOT/.tools" "pnpm@$PNPM_VERSION" >&2
  fi
  export PATH="$ROOT/.tools/node_modules/.bin:$PATH"
fi

cd "$ROOT"

# pnpm 12 resolves its own pinned release (@pnpm/exe.* for every platform, the devEngines pin
# that turbo needs) on every run, and about one run in ten fails that lookup with
# ERR_PNPM_BAD_CONFIG_DEP (measured here: 3/30 and 6/60 runs of `pnpm exec true`, nothing else
# running) because one of those platform packages is not in the registry. Only that failure is
# retried; any other fails at once. Turbo is called directly with --continue, so every task that
# passes is cached and a retry reruns only the ones that failed.
retry_pnpm_pin() {
  local log attempt status
  log=$(mktemp)
  for attempt in 1 2 3 4 5 6 7 8; do
    status=0
    "$@" 2>&1 | tee "$log" >&2 || status=${PIPESTATUS[0]}
    if [ "$status" -eq 0 ] || ! grep -q ERR_PNPM_BAD_CONFIG_DEP "$log"; then break; fi
    echo "xception: pnpm failed to resolve its own pinned version (attempt $attempt of 8); retrying" >&2
    sleep 1
  done
  rm -f "$log"
  return "$status"
}
# Optional native pieces (tfjs-node, electron's binary, onnxruntime's CUDA download) never run
# at install: see allowBuilds in pnpm-workspace.yaml.
# Not --frozen-lockfile: pnpm 12 then insists on recording pnpm itself (the devEngines pin turbo
# needs) in the lockfile, which it cannot. The same guarantee, checked by hand: the install
# must leave pnpm-lock.yaml as committed.
lock_before=$(cksum < pnpm-lock.yaml)
retry_pnpm_pin pnpm install --no-frozen-lockfile --prefer-frozen-lockfile --reporter=append-only
if [ "$(cksum < pnpm-lock.yaml)" != "$lock_before" ]; then
  echo "xception: pnpm-lock.yaml does not match the package.json files; run 'pnpm install' and commit the lockfile." >&2
  [ "${CI:-}" = "true" ] && exit 1
fi
# XCEPTION_TURBO_TASKS adds tasks to the same turbo run (scripts/test.sh adds typecheck): turbo
# then checks one package while it builds the next, where separate runs leave a core idle.
retry_pnpm_pin node_modules/.bin/turbo run build ${XCEPTION_TURBO_TASKS:-} --continue
