#!/usr/bin/env python3
"""The multitask training step of `synthfeat bench train` in PyTorch: the same
small backbone, heads, losses and optimizer, timed the same way (median
seconds per step after warm-up, on a fixed random batch). A user's alternative
to compare burn against; `benches/compare_train.sh` runs both alternately.

    python3 benches/reference_torch.py --size 128 --batch 16 --width 32 --label-scale 1

`--load encoder.safetensors` first loads a `synthfeat export` file into the
backbone (strict names and shapes), which checks the export from Python.
"""

import argparse
import json
import math
import statistics
import time

import torch
from torch import nn
import torch.nn.functional as F


class Backbone(nn.Module):
    """conv1..conv5: 3x3 conv (no bias) + batch norm + ReLU; conv1-conv4 stride 2."""

    def __init__(self, width):
        super().__init__()
        ch = [width, 2 * width, 4 * width, 8 * width, 8 * width]
        cin = 3
        for i, c in enumerate(ch, start=1):
            setattr(self, f"conv{i}", nn.Conv2d(cin, c, 3, stride=2 if i < 5 else 1, padding=1, bias=False))
            setattr(self, f"bn{i}", nn.BatchNorm2d(c))
            cin = c
        self.top_channels = cin

    def forward(self, x):
        for i in range(1, 6):
            x = F.relu(getattr(self, f"bn{i}")(getattr(self, f"conv{i}")(x)))
        return x


class Head(nn.Module):
    """1x1 reduction, stride-2 4x4 up-convolutions with ReLU, 3x3 output conv."""

    def __init__(self, cin, hidden, cout, ups):
        super().__init__()
        self.reduce = nn.Conv2d(cin, hidden, 1)
        self.ups = nn.ModuleList(nn.ConvTranspose2d(hidden, hidden, 4, stride=2, padding=1) for _ in range(ups))
        self.out = nn.Conv2d(hidden, cout, 3, padding=1)

    def forward(self, x, size):
        h = F.relu(self.reduce(x))
        for up in self.ups:
            h = F.relu(up(h))
        if h.shape[-2:] != size:
            h = F.interpolate(h, size=size, mode="bilinear", align_corners=True)
        return self.out(h)


def masked_mean(values, count):
    return values.sum(dim=(1, 2, 3)) / count.clamp_min(1.0)


def over_valid_images(per_image, count):
    has = (count > 0).float()
    return (per_image * has).sum() / has.sum().clamp_min(1.0)


def depth_loss(pred_log, target):
    valid = (target > 0).float()
    safe = torch.where(target > 0, target, torch.ones_like(target))
    d = (pred_log - safe.log()) * valid
    count = valid.sum(dim=(1, 2, 3))
    per_image = 0.5 * (masked_mean(d * d, count) + 0.5 * masked_mean(d, count) ** 2)
    return over_valid_images(per_image, count)


def normal_loss(pred, target, valid):
    unit = pred / pred.square().sum(1, keepdim=True).sqrt().clamp_min(1e-6)
    cos = (unit * target).sum(1, keepdim=True)
    count = valid.sum(dim=(1, 2, 3))
    return over_valid_images(masked_mean((1 - cos) * valid, count), count)


def contour_loss(logits, edges):
    pixels = edges.shape[-1] * edges.shape[-2]
    n_edge = edges.sum(dim=(1, 2, 3), keepdim=True)
    pos_weight = (pixels - n_edge) / n_edge.clamp_min(1.0)
    positive = edges * F.softplus(-logits) * pos_weight
    negative = (1 - edges) * F.softplus(logits)
    return (positive + negative).mean()


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=int, default=128)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--width", type=int, default=32)
    p.add_argument("--label-scale", type=int, default=1)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: PyTorch's default)")
    p.add_argument("--load", help="a `synthfeat export` .safetensors to load into the backbone first")
    p.add_argument(
        "--channels-last",
        action="store_true",
        help="run the network and batch channels-last (PyTorch's faster CPU convolution layout)",
    )
    p.add_argument("--json", action="store_true")
    a = p.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    backbone = Backbone(a.width)
    if a.load:
        from safetensors.torch import load_file

        missing, unexpected = backbone.load_state_dict(load_file(a.load), strict=False)
        missing = [k for k in missing if not k.endswith("num_batches_tracked")]
        if missing or unexpected:
            raise SystemExit(f"{a.load}: missing {missing}, unexpected {unexpected}")
        print(f"loaded {a.load} into the reference backbone")
    ups = max(0, round(math.log2(16 / a.label_scale)))
    heads = nn.ModuleDict(
        {
            "depth": Head(backbone.top_channels, 64, 1, ups),
            "normal": Head(backbone.top_channels, 64, 3, ups),
            "contour": Head(backbone.top_channels, 64, 1, ups),
        }
    )
    layout = torch.channels_last if a.channels_last else torch.contiguous_format
    backbone = backbone.to(memory_format=layout)
    heads = heads.to(memory_format=layout)
    params = list(backbone.parameters()) + list(heads.parameters())
    # burn's Adam epsilon is 1e-5; use the same here.
    optim = torch.optim.Adam(params, lr=1e-3, betas=(0.5, 0.999), eps=1e-5)
    n, s, l = a.batch, a.size, a.size // a.label_scale
    rgb = torch.rand(n, 3, s, s).contiguous(memory_format=layout)
    depth = torch.rand(n, 1, l, l) * 7.5 + 0.5
    normal = torch.randn(n, 3, l, l)
    normal = normal / normal.square().sum(1, keepdim=True).sqrt().clamp_min(1e-6)
    valid = torch.ones(n, 1, l, l)
    contour = (torch.rand(n, 1, l, l) < 0.1).float()
    times = []
    for i in range(a.warmup + a.steps):
        t = time.perf_counter()
        feats = backbone((rgb - 0.5) * 4.0)
        size = (l, l)
        loss = (
            5.0 * depth_loss(heads["depth"](feats, size), depth)
            + 10.0 * normal_loss(heads["normal"](feats, size), normal, valid)
            + 1.0 * contour_loss(heads["contour"](feats, size), contour)
        )
        optim.zero_grad(set_to_none=True)
        loss.backward()
        optim.step()
        value = loss.item()
        if not math.isfinite(value):
            raise SystemExit(f"loss became {value} at step {i + 1}")
        if i >= a.warmup:
            times.append(time.perf_counter() - t)
    median = statistics.median(times)
    print(
        f"pytorch {torch.__version__} train step, {s}x{s}, batch {n}, width {a.width}, labels 1/{a.label_scale},"
        f" {'channels-last, ' if a.channels_last else ''}{torch.get_num_threads()} threads: median {median:.3f} s/step, {n / median:.2f} samples/s"
    )
    if a.json:
        print(json.dumps({"impl": "pytorch", "median_s_per_step": median, "samples_per_s": n / median}))


if __name__ == "__main__":
    main()
