#!/usr/bin/env bash
# Training samples/s of synthfeat on each CPU backend it was built with and of
# the same network in PyTorch (benches/reference_torch.py), run alternately
# round by round on the same batch, network and thread count; prints medians
# and each backend's ratio to PyTorch.
#
#   benches/compare_train.sh [rounds] [-- args for both, e.g. --size 64 --batch 8 --width 16 --label-scale 4]
#
# Environment:
#   SYNTHFEAT  the binary (default: $CARGO_TARGET_DIR/release/synthfeat); build it
#              with `--features cpu-backends,libtorch` to include ndarray, candle, libtorch
#   DEVICES    backends to measure (default: every CPU backend the binary offers)
#   THREADS    threads for every implementation (default: all cores)
#   PYTHON     a Python with torch (default: python3)
#   TORCH_ARGS extra arguments for the PyTorch reference alone, e.g. --channels-last
# OpenMP waits passively (OMP_WAIT_POLICY=PASSIVE): PyTorch's default spinning
# collapses when cores are shared, which would flatter whichever runs second.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
shift || true
[[ "${1:-}" == "--" ]] && shift
args=("$@")
bin=${SYNTHFEAT:-${CARGO_TARGET_DIR:-target}/release/synthfeat}
py=${PYTHON:-python3}
threads=${THREADS:-$(nproc)}
[[ -x "$bin" ]] || { echo "no synthfeat binary at $bin (cargo build --release)" >&2; exit 1; }
"$py" -c "import torch" 2>/dev/null || { echo "$py has no torch (pip install torch)" >&2; exit 1; }
if [[ -z "${DEVICES:-}" ]]; then
  offered=$("$bin" bench train -h | grep -- '--device' | sed -n 's/.*possible values: \(.*\)\]/\1/p')
  DEVICES=$(echo "$offered" | tr ',' ' ' | xargs -n1 | grep -v '^wgpu$' | xargs)
fi
export OMP_WAIT_POLICY=PASSIVE OMP_NUM_THREADS=$threads MKL_NUM_THREADS=$threads RAYON_NUM_THREADS=$threads
read -r -a torch_args <<<"${TORCH_ARGS:-}"
echo "devices: $DEVICES; $threads threads; OMP_WAIT_POLICY=PASSIVE; args: ${args[*]:-(defaults)}; PyTorch also: ${torch_args[*]:-(nothing)}"
results=$(mktemp)
trap 'rm -f "$results"' EXIT
field() { "$py" -c 'import json,sys; print(json.loads(sys.stdin.read().strip().splitlines()[-1])[sys.argv[1]])' "$1"; }
for ((r = 1; r <= rounds; r++)); do
  line="round $r:"
  for d in $DEVICES; do
    s=$("$bin" bench train --json --device "$d" "${args[@]}" | field samples_per_s)
    echo "$d $s" >>"$results"
    line+=" $d $s"
  done
  s=$("$py" benches/reference_torch.py --json --threads "$threads" "${args[@]}" "${torch_args[@]}" | field samples_per_s)
  echo "pytorch $s" >>"$results"
  echo "$line pytorch $s samples/s"
done
"$py" - "$results" <<'PY'
import collections, statistics, sys
runs = collections.defaultdict(list)
for line in open(sys.argv[1]):
    name, value = line.split()
    runs[name].append(float(value))
torch = statistics.median(runs.pop("pytorch"))
print(f"median samples/s over {len(next(iter(runs.values())))} rounds; pytorch {torch:.2f}")
for name, values in runs.items():
    m = statistics.median(values)
    print(f"  {name:10} {m:8.2f} samples/s   {name}/pytorch = {m / torch:.3f}")
PY
