#!/usr/bin/env bash
# What scenes teach: pretrains the same encoder on each given data set (same
# steps, tasks and seeds), probes each run linearly on Fashion-MNIST next to
# random init, and prints mean ± standard deviation per layer over the seeds.
# Usage: benches/scene_transfer.sh DATA [DATA ...]
# Env: SEEDS="0 1 2" STEPS=1000 TASKS=depth,normal,contour LIMIT=200 OUT=/var/tmp/scene-transfer
#   DEPTH=folder of real RGB-D (also scores the depth head there; DEPTH_ARGS
#   passes e.g. "--focal-px 994.978 --baseline-mm 193.001 --doffs 31.086")
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { echo "usage: $0 DATA [DATA ...]" >&2; exit 2; }
BIN="${BIN:-${CARGO_TARGET_DIR:-target}/release/synthfeat}"
SEEDS="${SEEDS:-0 1 2}"
STEPS="${STEPS:-1000}"
TASKS="${TASKS:-depth,normal,contour}"
LIMIT="${LIMIT:-200}"
OUT="${OUT:-/var/tmp/scene-transfer}"
FMNIST="${FMNIST:-/usr/share/datasets/fashion-mnist}"
mkdir -p "$OUT"
rows=()
for data in "$@"; do
  name=$(basename "$data")
  for seed in $SEEDS; do
    run="$OUT/$name-s$seed"
    [ -f "$run/probe.json" ] && continue
    rm -rf "$run"
    "$BIN" train --data "$data" --out "$run" --steps "$STEPS" --seed "$seed" --tasks "$TASKS" \
      --da none --val-every "$STEPS" --checkpoint-every "$STEPS" >/dev/null
    "$BIN" eval probe --run "$run" --data "$FMNIST" --limit-per-class "$LIMIT" --seed "$seed" \
      --json "$run/probe.json" >/dev/null
  done
  if [ -n "${DEPTH:-}" ]; then
    for seed in $SEEDS; do
      run="$OUT/$name-s$seed"
      [ -f "$run/depth.json" ] || "$BIN" eval depth --run "$run" --data "$DEPTH" ${DEPTH_ARGS:-} \
        --seed "$seed" --json "$run/depth.json" >/dev/null
    done
  fi
  rows+=("$name")
done
for seed in $SEEDS; do
  r="$OUT/random-s$seed"
  if [ ! -f "$r.json" ]; then
    first=$(basename "$1")
    "$BIN" eval probe --run random --like "$OUT/$first-s$seed" --data "$FMNIST" \
      --limit-per-class "$LIMIT" --seed "$seed" --json "$r.json" >/dev/null
  fi
done
python3 - "$OUT" "$SEEDS" random "${rows[@]}" <<'PY'
import json, statistics, sys
out, seeds, names = sys.argv[1], sys.argv[2].split(), sys.argv[3:]
def load(name, seed):
    path = f"{out}/random-s{seed}.json" if name == "random" else f"{out}/{name}-s{seed}/probe.json"
    with open(path) as f:
        return json.load(f)
def top1(doc):
    return {l["layer"]: 100.0 * l["top1"]["test"] for l in doc["result"]["layers"]}
import os
def depth(name, seed):
    path = f"{out}/{name}-s{seed}/depth.json"
    if name == "random" or not os.path.exists(path):
        return {}
    with open(path) as f:
        rows = json.load(f)["rows"]
    return {"depth abs-rel": rows[0]["metrics"]["abs_rel"], "depth δ<1.25": 100.0 * rows[0]["metrics"]["delta1"],
            "constant abs-rel": rows[-1]["metrics"]["abs_rel"], "constant δ<1.25": 100.0 * rows[-1]["metrics"]["delta1"]}
table = {n: [{**top1(load(n, s)), **depth(n, s)} for s in seeds] for n in names}
layers = sorted({k for runs in table.values() for k in runs[0]}, key=lambda k: (k.startswith(("depth", "constant")), k))
print("| data | " + " | ".join(layers) + " |")
print("|---" * (len(layers) + 1) + "|")
for n, runs in table.items():
    cells = []
    for l in layers:
        v = [r[l] for r in runs if l in r]
        if not v:
            cells.append("–")
            continue
        sd = statistics.stdev(v) if len(v) > 1 else 0.0
        d = 3 if "abs-rel" in l else 1
        cells.append(f"{statistics.mean(v):.{d}f} ± {sd:.{d}f}")
    print(f"| {n} | " + " | ".join(cells) + " |")
print(f"\n(linear probe top-1 on Fashion-MNIST, {len(seeds)} seeds: mean ± sd)")
PY
