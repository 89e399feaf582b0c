#!/usr/bin/env bash
# The main job on built-in defaults: set up, build, generate a small labelled
# dataset, write its preview sheet, train the multitask encoder on it while
# adapting its features toward real images (Fashion-MNIST; CPU, about a
# minute) and export the encoder. Output in ./out (or $1).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/env.sh
OUT="${1:-out}"
cargo build --release
BIN="${CARGO_TARGET_DIR:-target}/release/synthfeat"
"$BIN" generate --out "$OUT/data" --count 64 --size 128 --views 4 --shard-size 32
"$BIN" preview --data "$OUT/data" --out "$OUT/preview.png" --count 8
"$BIN" train --data "$OUT/data" --out "$OUT/run" --steps 200 --val-percent 25 --val-every 50 \
  --real /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz --da adversarial
"$BIN" export --run "$OUT/run" --out "$OUT/encoder.safetensors"
echo "dataset: $OUT/data   preview: $OUT/preview.png"
echo "run: $OUT/run (curves.png, predictions.png, metrics.jsonl)   encoder: $OUT/encoder.safetensors"
