#!/usr/bin/env bash
# The main job on built-in defaults, end to end: set up and build, render a
# small labelled dataset and its preview sheet, pretrain the multitask encoder
# on frames rendered live while adapting its features toward real images
# (Fashion-MNIST), export the encoder, then measure transfer on real labelled
# images (linear probe against a random-init encoder of the same shape) and
# collect everything in a report folder. About 15 minutes on 2 CPU cores after
# the build. Usage: scripts/demo.sh [OUT] [--big] (--big: 4x the training and
# probe sizes).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=out
SCALE=1
for arg in "$@"; do
  case "$arg" in
    --big) SCALE=4 ;;
    *) OUT="$arg" ;;
  esac
done
bash scripts/setup.sh
source scripts/env.sh
cargo build --release
BIN="${CARGO_TARGET_DIR:-target}/release/synthfeat"
FMNIST=/usr/share/datasets/fashion-mnist
REPORT="$OUT/report"
mkdir -p "$REPORT"
start=$(date +%s)

echo "== 1/5 render a labelled dataset and its preview"
"$BIN" generate --out "$OUT/data" --count $((64 * SCALE)) --size 128 --views 4 --shard-size 32
"$BIN" preview --data "$OUT/data" --out "$REPORT/dataset-preview.png" --count 8

echo "== 2/5 pretrain on the live render stream, adapting toward Fashion-MNIST"
"$BIN" train --live --out "$OUT/run" --steps $((800 * SCALE)) --val-every $((200 * SCALE)) \
  --checkpoint-every $((200 * SCALE)) --val-frames 32 \
  --real "$FMNIST/train-images-idx3-ubyte.gz" --da adversarial | tee "$REPORT/training.txt"
cp "$OUT/run/curves.png" "$OUT/run/predictions.png" "$REPORT/"

echo "== 3/5 export the encoder"
"$BIN" export --run "$OUT/run" --out "$OUT/encoder.safetensors"

echo "== 4/5 linear probe on Fashion-MNIST: pretrained, then random init"
LIMIT=$((200 * SCALE))
{
  echo "# synthfeat demo report"
  echo
  echo "Linear probe on Fashion-MNIST ($LIMIT images per class in each split):"
  echo
  "$BIN" eval probe --run "$OUT/run" --data "$FMNIST" --limit-per-class $LIMIT \
    --json "$REPORT/probe-pretrained.json"
  echo
  "$BIN" eval probe --run random --like "$OUT/run" --data "$FMNIST" --limit-per-class $LIMIT \
    --json "$REPORT/probe-random.json"
} | grep -v '^results:' | tee "$REPORT/table.md"

echo "== 5/5 report"
{
  echo
  echo "Training: \`$(tail -n 3 "$REPORT/training.txt" | tr '\n' ' ')\`"
  echo
  echo "Files: dataset-preview.png, curves.png, predictions.png, probe-*.json; run folder $OUT/run;"
  echo "encoder $OUT/encoder.safetensors. Wall time after the build: $(( $(date +%s) - start )) s."
} >> "$REPORT/table.md"
echo "report: $REPORT (table.md, curves.png, predictions.png, dataset-preview.png)"
