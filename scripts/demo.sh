#!/usr/bin/env bash
# The main job on built-in defaults, end to end: set up and build, render a
# small labelled dataset and its preview sheet, pretrain the multitask encoder
# (depth, normals, contours and SimCLR) on frames rendered live while adapting
# its features toward real images (Fashion-MNIST), once per seed for three
# seeds; measure transfer on real labelled images (linear and k-NN probes
# against random-init encoders of the same shape, mean ± sd over the seeds);
# export the first encoder and collect everything in a report folder. About
# 15 minutes on 2 CPU cores after the build. Usage: scripts/demo.sh [OUT] [--big] (--big: 4x the training and
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

echo "== 2/5 pretrain on the live render stream (3 seeds, adapting toward Fashion-MNIST) and probe each against random init"
# One `synthfeat compare`: each seed trains on frames rendered live, then each
# run and a random-init encoder per seed are probed on Fashion-MNIST (linear
# and k-NN, the whole test split).
cat > "$OUT/compare.toml" <<TOML
steps = $((400 * SCALE))
seed = 0
seeds = 3
live = true
real = ["$FMNIST/train-images-idx3-ubyte.gz"]
train_args = ["--val-every", "$((200 * SCALE))", "--checkpoint-every", "$((200 * SCALE))", "--val-frames", "32"]

[[probe]]
name = "fashion-mnist"
path = "$FMNIST"
limit_per_class = $((200 * SCALE))
test_limit_per_class = 1000

[[entry]]
name = "depth+normal+contour+simclr, adversarial"
tasks = ["depth", "normal", "contour", "simclr"]
da = "adversarial"
TOML
"$BIN" compare --config "$OUT/compare.toml" --out "$OUT/compare" | tee "$REPORT/compare.txt"
RUN="$OUT/compare/runs/depth+normal+contour+simclr__adversarial/seed-0"
cp "$RUN/curves.png" "$RUN/predictions.png" "$OUT/compare/comparison.png" "$REPORT/"

echo "== 3/5 export the encoder of seed 0"
"$BIN" export --run "$RUN" --out "$OUT/encoder.safetensors"

echo "== 4/5 the table: pretrained against random init, mean ± sd over the seeds"
cp "$OUT/compare/table.md" "$REPORT/table.md"

echo "== 5/5 report"
{
  echo
  echo "Files: dataset-preview.png, comparison.png, curves.png and predictions.png (seed 0),"
  echo "compare.txt; runs in $OUT/compare/runs; encoder $OUT/encoder.safetensors."
  echo "Wall time after the build: $(( $(date +%s) - start )) s."
} >> "$REPORT/table.md"
echo "report: $REPORT (table.md, comparison.png, curves.png, predictions.png, dataset-preview.png)"
