#!/usr/bin/env bash
# Quick start, main job: installs what is missing, builds the `selflearn` program (release preset) and runs
# the self-learning pipeline on the bundled sample log. Outputs go to out/sample (or the folder given).
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-out/sample}"
scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target selflearn_cli
build/release/examples/selflearn pipeline --log examples/data/sessions.jsonl --out "$out"
