#!/usr/bin/env bash
# Set up, then run every test (rendering tests run in release, on lavapipe
# where there is no GPU).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/env.sh
cargo test --release --workspace

# The format contract from Python: webdataset + PIL + numpy read what we write.
TARGET="${CARGO_TARGET_DIR:-target}"
PY="$TARGET/pyenv"
[ -x "$PY/bin/python" ] || python3 -m venv "$PY"
"$PY/bin/pip" install -q webdataset==1.0.2 pillow numpy safetensors==0.8.0
DATA="$(mktemp -d)"
trap 'rm -rf "$DATA"' EXIT
"$TARGET/release/synthfeat" generate --out "$DATA/d" --count 8 --size 64 --views 2 --shard-size 4 >/dev/null
"$PY/bin/python" scripts/read_dataset.py "$DATA/d"

# The encoder export from Python: safetensors + numpy load PyTorch-style tensors.
"$TARGET/release/synthfeat" train --data "$DATA/d" --out "$DATA/run" --size 32 --batch 2 --steps 2 --width 4 >/dev/null
"$TARGET/release/synthfeat" export --run "$DATA/run" --out "$DATA/encoder.safetensors" >/dev/null
"$PY/bin/python" scripts/read_encoder.py "$DATA/encoder.safetensors"
