#!/usr/bin/env bash
# Ours (`synthfeat bench render`, RGB + all labels) against pyrender
# (benches/peer_pyrender.py, RGB + depth + segmentation) on the identical
# scenes: the same seeds, views, geometry, base colours, lights and cameras.
# Alternates the two, ROUNDS times, at each SIZES, with shadows on and off;
# prints medians and the ratio ours / pyrender. Both render on the CPU here
# (lavapipe for ours, OSMesa llvmpipe for pyrender).
#
# Usage: benches/render_vs_pyrender.sh   (env: SIZES="128 256" ROUNDS=5
#   FRAMES=100 WARMUP=10 VIEWS=4 PEER_VENV=... SYNTHFEAT=path/to/synthfeat)
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES="${SIZES:-128 256}"
ROUNDS="${ROUNDS:-5}"
FRAMES="${FRAMES:-100}"
WARMUP="${WARMUP:-10}"
VIEWS="${VIEWS:-4}"
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
printf '%-6s %-8s %12s %12s %8s\n' size shadows "ours fps" "pyrender" ratio
for size in $SIZES; do
  for shadows in on off; do
    : > "$TMP/ours"; : > "$TMP/peer"
    flag=""; [ "$shadows" = on ] && flag="--shadows"
    for ((r = 0; r < ROUNDS; r++)); do
      "$BIN" bench render --size "$size" --frames "$FRAMES" --warmup "$WARMUP" --views "$VIEWS" \
        --mode labels --config "$TMP/$shadows.toml" 2>/dev/null | awk '/rgb \+ labels:/ {print $4}' >> "$TMP/ours"
      "$VENV/bin/python" benches/peer_pyrender.py --specs "$TMP/specs-$shadows.jsonl" --size "$size" \
        --frames "$FRAMES" --warmup "$WARMUP" $flag \
        | python3 -c 'import json,sys; print(json.load(sys.stdin)["fps"])' >> "$TMP/peer"
    done
    ours=$(median < "$TMP/ours"); peer=$(median < "$TMP/peer")
    printf '%-6s %-8s %12.2f %12.2f %8.3f\n' "$size" "$shadows" "$ours" "$peer" "$(python3 -c "print($ours / $peer)")"
  done
done
