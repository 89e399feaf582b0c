#!/usr/bin/env bash
# Set up, then run every test (rendering tests run in release, on lavapipe
# where there is no GPU).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/env.sh
cargo test --release --workspace
