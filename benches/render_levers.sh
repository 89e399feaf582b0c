#!/usr/bin/env bash
# Each renderer throughput lever on its own, measured side by side: the
# configurations below alternate round by round (`synthfeat bench render`,
# RGB + all labels) and the script prints each one's median frames/s and its
# ratio to the first. Optional: BEFORE=path/to/an/older/synthfeat adds that
# binary as a row (e.g. one built before a change).
#
# Usage: benches/render_levers.sh  (env: SIZES="128 256" ROUNDS=3 FRAMES=100
#   WARMUP=10 VIEWS=4 SYNTHFEAT=... BEFORE=...)
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES="${SIZES:-128 256}"
ROUNDS="${ROUNDS:-3}"
FRAMES="${FRAMES:-100}"
WARMUP="${WARMUP:-10}"
VIEWS="${VIEWS:-4}"
BIN="${SYNTHFEAT:-${CARGO_TARGET_DIR:-target}/release/synthfeat}"
[ -x "$BIN" ] || { source scripts/env.sh; cargo build --release; }
source scripts/env.sh
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
# name | environment | binary | extra flags
configs=(
  "1 view per pass, full||$BIN|--views-per-pass 1 --profile full"
  "4 views per pass, full||$BIN|--views-per-pass 4 --profile full"
  "1 view per pass, fast||$BIN|--views-per-pass 1 --profile fast"
  "4 views per pass, fast||$BIN|--views-per-pass 4 --profile fast"
  "4 per pass, full, LP_NUM_THREADS=1|LP_NUM_THREADS=1|$BIN|--views-per-pass 4 --profile full"
  "4 per pass, full, LP_NUM_THREADS=4|LP_NUM_THREADS=4|$BIN|--views-per-pass 4 --profile full"
)
[ -n "${BEFORE:-}" ] && configs=("before (1 per pass, full)||$BEFORE|" "${configs[@]}")
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
echo "lavapipe threads by default: $(nproc) (LP_NUM_THREADS unset)"
for size in $SIZES; do
  for ((r = 0; r < ROUNDS; r++)); do
    for i in "${!configs[@]}"; do
      IFS='|' read -r name envs bin flags <<< "${configs[$i]}"
      # shellcheck disable=SC2086
      env $envs "$bin" bench render --size "$size" --frames "$FRAMES" --warmup "$WARMUP" \
        --views "$VIEWS" --mode labels $flags 2>/dev/null \
        | awk '/rgb \+ labels:/ {print $4}' >> "$TMP/$size-$i"
    done
  done
  printf '\nsize %s, %s rounds, medians of RGB + all labels\n' "$size" "$ROUNDS"
  printf '%-40s %10s %8s\n' configuration frames/s ratio
  first=""
  for i in "${!configs[@]}"; do
    IFS='|' read -r name _ _ _ <<< "${configs[$i]}"
    m=$(median < "$TMP/$size-$i")
    [ -z "$first" ] && first=$m
    printf '%-40s %10.2f %8.3f\n' "$name" "$m" "$(python3 -c "print($m / $first)")"
  done
done
