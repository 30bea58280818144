#!/usr/bin/env bash
# The benchmark in one command: see docs/benchmarks.md, or bench/run.sh --help.
set -euo pipefail
cd "$(dirname "$0")/.."
exec python3 bench/run.py "$@"
