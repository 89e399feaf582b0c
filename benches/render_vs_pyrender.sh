#!/usr/bin/env bash
# Ours (`synthfeat bench render`, RGB + all labels) against pyrender
# (benches/peer_pyrender.py, RGB + depth + segmentation) on the identical
# scenes: the same seeds, views, geometry, base colours, lights and cameras.
# Alternates the two, ROUNDS times, at each SIZES, with shadows on and off;
# prints medians and the ratio ours / pyrender. Both render on the CPU here
# (lavapipe for ours, OSMesa llvmpipe for pyrender). Ours runs the full and the
# fast profile, each with shadows on and off, VIEWS_PER_PASS views per render
# pass.
#
# Usage: benches/render_vs_pyrender.sh   (env: SIZES="128 256" ROUNDS=5
#   FRAMES=100 WARMUP=10 VIEWS=4 VIEWS_PER_PASS=4 PEER_VENV=...
#   SYNTHFEAT=path/to/synthfeat)
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES="${SIZES:-128 256}"
ROUNDS="${ROUNDS:-5}"
FRAMES="${FRAMES:-100}"
WARMUP="${WARMUP:-10}"
VIEWS="${VIEWS:-4}"
VIEWS_PER_PASS="${VIEWS_PER_PASS:-4}"
VENV="${PEER_VENV:-/var/tmp/synthfeat-peer-venv}"
BIN="${SYNTHFEAT:-${CARGO_TARGET_DIR:-target}/release/synthfeat}"
[ -x "$VENV/bin/python" ] || bash benches/setup_peer.sh "$VENV"
[ -x "$BIN" ] || { source scripts/env.sh; cargo build --release; }
source scripts/env.sh
export PYOPENGL_PLATFORM=osmesa
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
printf '[lights]\nshadows = false\n' > "$TMP/off.toml"
printf '[lights]\nshadows = true\n' > "$TMP/on.toml"
scenes=$(( (WARMUP + FRAMES + VIEWS - 1) / VIEWS ))
for shadows in on off; do
  for ((i = 0; i < scenes; i++)); do
    "$BIN" scene --run-seed 0 --seed "$i" --views "$VIEWS" --config "$TMP/$shadows.toml"
  done > "$TMP/specs-$shadows.jsonl"
done
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
ours() { # size shadows profile
  "$BIN" bench render --size "$1" --frames "$FRAMES" --warmup "$WARMUP" --views "$VIEWS" \
    --views-per-pass "$VIEWS_PER_PASS" --profile "$3" --mode labels --config "$TMP/$2.toml" \
    2>/dev/null | awk '/rgb \+ labels:/ {print $4}'
}
ratio() { python3 -c "print(f'{$1 / $2:.3f}')"; }
printf '%-6s %-8s %12s %12s %12s %10s %10s\n' size shadows "ours full" "ours fast" pyrender full/py fast/py
for size in $SIZES; do
  for shadows in on off; do
    : > "$TMP/full"; : > "$TMP/fast"; : > "$TMP/peer"
    flag=""; [ "$shadows" = on ] && flag="--shadows"
    for ((r = 0; r < ROUNDS; r++)); do
      ours "$size" "$shadows" full >> "$TMP/full"
      ours "$size" "$shadows" fast >> "$TMP/fast"
      "$VENV/bin/python" benches/peer_pyrender.py --specs "$TMP/specs-$shadows.jsonl" --size "$size" \
        --frames "$FRAMES" --warmup "$WARMUP" $flag \
        | python3 -c 'import json,sys; print(json.load(sys.stdin)["fps"])' >> "$TMP/peer"
    done
    full=$(median < "$TMP/full"); fast=$(median < "$TMP/fast"); peer=$(median < "$TMP/peer")
    printf '%-6s %-8s %12.2f %12.2f %12.2f %10s %10s\n' "$size" "$shadows" "$full" "$fast" "$peer" \
      "$(ratio "$full" "$peer")" "$(ratio "$fast" "$peer")"
  done
done
