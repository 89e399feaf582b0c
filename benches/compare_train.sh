#!/usr/bin/env bash
# Runs `synthfeat bench train` and benches/reference_torch.py alternately, with
# the same network, batch and step, and prints burn's samples/s over PyTorch's.
#
#   benches/compare_train.sh [rounds] [-- extra args for both, e.g. --size 128 --batch 16]
#
# Needs a release build of synthfeat and a Python with torch (PYTHON, default python3).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
shift || true
[[ "${1:-}" == "--" ]] && shift
args=("$@")
bin=${SYNTHFEAT:-${CARGO_TARGET_DIR:-target}/release/synthfeat}
py=${PYTHON:-python3}
[[ -x "$bin" ]] || { echo "no synthfeat binary at $bin (cargo build --release)" >&2; exit 1; }
"$py" -c "import torch" 2>/dev/null || { echo "$py has no torch (pip install torch)" >&2; exit 1; }
burn=() torch=()
for ((r = 1; r <= rounds; r++)); do
  b=$("$bin" bench train --json "${args[@]}" | tail -1)
  t=$("$py" benches/reference_torch.py --json "${args[@]}" | tail -1)
  burn+=("$(echo "$b" | "$py" -c 'import json,sys; print(json.load(sys.stdin)["samples_per_s"])')")
  torch+=("$(echo "$t" | "$py" -c 'import json,sys; print(json.load(sys.stdin)["samples_per_s"])')")
  echo "round $r: burn ${burn[-1]} samples/s, pytorch ${torch[-1]} samples/s"
done
"$py" - "${burn[*]}" "${torch[*]}" <<'PY'
import statistics, sys
b = [float(x) for x in sys.argv[1].split()]
t = [float(x) for x in sys.argv[2].split()]
mb, mt = statistics.median(b), statistics.median(t)
print(f"median of {len(b)} rounds: burn {mb:.2f}, pytorch {mt:.2f} samples/s; burn/pytorch = {mb / mt:.3f}")
PY
