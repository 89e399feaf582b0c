#!/usr/bin/env bash
# The main job on built-in defaults: set up, build, generate a small labelled
# dataset and write its preview sheet. Output in ./out (or $1).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/env.sh
OUT="${1:-out}"
cargo build --release
BIN="${CARGO_TARGET_DIR:-target}/release/synthfeat"
"$BIN" generate --out "$OUT/data" --count 32 --size 128 --views 4 --shard-size 16
"$BIN" preview --data "$OUT/data" --out "$OUT/preview.png" --count 8
echo "dataset: $OUT/data   preview: $OUT/preview.png"
