"""Reads a synthfeat dataset with webdataset + PIL + numpy alone and checks the
format contract (README "Dataset format"). Usage: python read_dataset.py DIR"""
import glob, hashlib, io, json, os, sys

import numpy as np
import webdataset as wds
from PIL import Image

folder = sys.argv[1]
manifest = json.load(open(os.path.join(folder, "manifest.json")))
shards = [os.path.join(folder, s["name"]) for s in manifest["shards"]]
for s in manifest["shards"]:
    digest = hashlib.sha256(open(os.path.join(folder, s["name"]), "rb").read()).hexdigest()
    assert digest == s["sha256"], f"{s['name']}: sha256 mismatch"

n = 0
for s in wds.WebDataset(shards, shardshuffle=False):
    rgb = np.array(Image.open(io.BytesIO(s["rgb.png"])))
    depth_mm = np.array(Image.open(io.BytesIO(s["depth.png"])))
    normal = np.array(Image.open(io.BytesIO(s["normal.png"]))).astype(np.float64) / 127.5 - 1.0
    instance = np.array(Image.open(io.BytesIO(s["instance.png"])))
    contour = np.array(Image.open(io.BytesIO(s["contour.png"])))
    meta = json.loads(s["json"])
    h, w = meta["height"], meta["width"]
    assert rgb.shape == (h, w, 3) and rgb.dtype == np.uint8
    assert depth_mm.shape == (h, w) and depth_mm.dtype in (np.uint16, np.int32), depth_mm.dtype
    assert instance.shape == (h, w) and contour.shape == (h, w)
    assert set(np.unique(contour)) <= {0, 255}
    surface = instance > 0
    assert np.all(depth_mm[surface] > 0) and np.all(depth_mm[~surface] == 0)
    lengths = np.linalg.norm(normal[surface], axis=1)
    assert np.all(np.abs(lengths - 1.0) < 0.02), lengths.min()
    K = meta["intrinsics"]
    T = np.array(meta["world_from_camera"])
    assert T.shape == (4, 4) and np.allclose(T[:3, :3] @ T[:3, :3].T, np.eye(3), atol=1e-5)
    assert K["fx"] > 0 and meta["depth_unit"] == "mm" and meta["normal_frame"] == "camera_opencv"
    ids = {i["id"] for i in meta["instances"]}
    assert set(np.unique(instance[surface])) <= ids
    assert s["__key__"] == meta["key"]
    n += 1
expected = sum(s["samples"] for s in manifest["shards"])
assert n == expected, (n, expected)
print(f"python reader: {n} samples from {len(shards)} shards match the format")
