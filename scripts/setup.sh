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

# Optional native pieces (tfjs-node, electron's binary, onnxruntime's CUDA download) never run
# at install: see allowBuilds in pnpm-workspace.yaml. No retries: pnpm's one flaky step, its
# lookup of its own release for every platform, is switched off there (pmOnFail), so a failure
# here is a real one.
pnpm install --frozen-lockfile --reporter=append-only
# XCEPTION_TYPECHECK=1 (scripts/test.sh) type-checks the whole workspace beside the build: one
# tsc program over every package's sources, tests and benches (tsconfig.check.json), reading the
# workspace's imports as sources (the `source` condition), so it needs no build output and fills
# the core that turbo leaves idle while a package waits on its dependencies' builds.
typecheck_job=
if [ -n "${XCEPTION_TYPECHECK:-}" ]; then
  node_modules/.bin/tsc -p tsconfig.check.json &
  typecheck_job=$!
fi
node_modules/.bin/turbo run build --continue
[ -z "$typecheck_job" ] || wait "$typecheck_job"
