#!/usr/bin/env bash
# Installs everything, then classifies a folder of photos with Xception's ImageNet weights.
# Usage: bash scripts/classify.sh <folder> [more xception classify options]
set -euo pipefail
if [ $# -lt 1 ]; then
  echo "usage: bash scripts/classify.sh <folder of photos> [--out results.jsonl (default xception-tags.jsonl)] [other 'xception classify' options]" >&2
  exit 2
fi
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
case " $* " in
  *" --out "*|*" -o "*|*" --out="*) ;;
  *) set -- "$@" --out xception-tags.jsonl; echo "xception: writing results to xception-tags.jsonl (choose with --out)" >&2 ;;
esac
exec node apps/worker/dist/cli.js classify --recursive "$@"
