#!/usr/bin/env python3
"""Checks a `synthfeat export` file from Python alone: safetensors + numpy load
it, every layer has PyTorch-style conv and batch-norm tensors with consistent
shapes, and the values are finite.

    python3 scripts/read_encoder.py encoder.safetensors
"""

import json
import sys

import numpy as np
from safetensors import safe_open
from safetensors.numpy import load_file


def main(path):
    tensors = load_file(path)
    with safe_open(path, framework="np") as f:
        meta = f.metadata()
    layers = meta["layers"].split(",")
    cin = 3
    for layer in layers:
        n = "".join(c for c in layer if c.isdigit())
        w = tensors[f"{layer}.weight"]
        assert w.dtype == np.float32 and w.ndim == 4, (layer, w.dtype, w.shape)
        assert w.shape[1] == cin, f"{layer}.weight takes {w.shape[1]} channels, the previous layer gives {cin}"
        cout = w.shape[0]
        # No conv bias: batch norm follows every convolution.
        assert f"{layer}.bias" not in tensors, f"{layer}.bias: the convolutions have no bias"
        for k in ("weight", "bias", "running_mean", "running_var"):
            assert tensors[f"bn{n}.{k}"].shape == (cout,), f"bn{n}.{k}"
        assert (tensors[f"bn{n}.running_var"] > 0).all()
        cin = cout
    assert all(np.isfinite(t).all() for t in tensors.values())
    config = json.loads(meta["config"])
    print(
        f"{path}: {meta['backbone']} backbone at step {meta['step']}, layers {','.join(layers)},"
        f" {len(tensors)} tensors, {sum(t.size for t in tensors.values())} values; tasks {config['tasks']}"
    )


if __name__ == "__main__":
    main(sys.argv[1])
