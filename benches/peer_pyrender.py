#!/usr/bin/env python3
"""pyrender peer of `synthfeat bench render`: renders the identical scenes.

Reads scene descriptions printed by `synthfeat scene` (one JSON object per
line), builds exactly their geometry (the engine's unit meshes: box, UV
sphere 48x24, cylinder and cone with 40 sections, capsule, torus 40x20, each
scaled as the engine scales it), base colours, lights and cameras in
pyrender, and renders every view offscreen: RGB + depth, then a
segmentation pass (one flat colour per object). Prints frames/s of the timed
frames (scene construction included, as in ours) as one JSON line.

Differences that remain (also in the README's benchmark section): base
colour only (no procedural textures); shadow maps of --shadow-map-size
(default 512, as ours; pyrender's own 2048); light intensities converted (lumens /
4 pi -> candela, lux as is, both times Bevy's default exposure) but no ACES
tone mapping, so brightness differs; pyrender has
no point-light shadows, so with --shadows each point light becomes a spot
light looking straight down (outer cone 80 deg); no surface normals or
instance-contour labels (ours renders both).

Set up with benches/setup_peer.sh; run by benches/render_vs_pyrender.sh.
"""
import argparse
import ctypes
import json
import math
import os
import sys
import time

os.environ.setdefault("PYOPENGL_PLATFORM", "osmesa")

import numpy as np  # noqa: E402

if not hasattr(np, "infty"):  # pyrender 0.1.45 still spells np.infty
    np.infty = np.inf

from OpenGL import contextdata, platform  # noqa: E402
from OpenGL.GL import shaders  # noqa: E402


def _context_key(context=None):
    # With OSMesa every GetCurrentContext() returns a new ctypes object, so
    # PyOpenGL's per-context caches never hit (and leak); key them by the
    # pointer's value instead.
    if context is None:
        context = platform.GetCurrentContext()
        if not context:
            raise RuntimeError("no current OpenGL context")
    try:
        return ctypes.cast(context, ctypes.c_void_p).value
    except (TypeError, ctypes.ArgumentError):
        return context


contextdata.getContext = _context_key
_compile = shaders.compileProgram


def _compile_unvalidated(*stages, **kw):
    # Mesa rejects pyrender's shadow shaders at glValidateProgram, before any
    # texture is bound; the programs are valid when drawn.
    kw["validate"] = False
    return _compile(*stages, **kw)


shaders.compileProgram = _compile_unvalidated

import pyrender  # noqa: E402
import trimesh  # noqa: E402

# Bevy's default camera exposure (EV100 9.7): its photometric units times this
# give the values a renderer without exposure control shows alike.
EXPOSURE = 1.0 / (1.2 * 2.0**9.7)

Y_FROM_Z = trimesh.transformations.rotation_matrix(-math.pi / 2, [1, 0, 0])


# Parts whose largest half extent is under this many metres are tessellated
# with half the segments, as the engine does (engine::render::scene::Detail).
SMALL_PART_M = 0.2


def unit_mesh(key):
    """The engine's unit mesh for a primitive (Y is the axis), as trimesh."""
    kind, q, around = key
    if kind == "box":
        return trimesh.creation.box(extents=[1, 1, 1])
    if kind == "sphere":
        return trimesh.creation.uv_sphere(radius=1.0, count=[around * 6 // 5, around * 3 // 5])
    if kind == "cylinder":
        m = trimesh.creation.cylinder(radius=1.0, height=1.0, sections=around)
    elif kind == "cone":
        m = trimesh.creation.cone(radius=1.0, height=1.0, sections=around)
        m.apply_translation([0, 0, -0.5])
    elif kind == "capsule":
        m = trimesh.creation.capsule(height=q / 2.0, radius=1.0, count=[around, around // 2])
    elif kind == "torus":
        m = trimesh.creation.torus(
            major_radius=1.0, minor_radius=q / 40.0, major_sections=around, minor_sections=around // 2
        )
    else:
        raise ValueError(f"unknown primitive type {kind!r}")
    m.apply_transform(Y_FROM_Z)
    return m


def half_extent(p):
    """The largest half extent of a primitive, metres (scenes' Primitive::half_extents)."""
    t = p["type"]
    if t == "box":
        return max(p["size"]) / 2
    if t == "sphere":
        return p["radius"]
    if t in ("cylinder", "cone"):
        return max(p["radius"], p["height"] / 2)
    if t == "capsule":
        return p["length"] / 2 + p["radius"]
    if t == "torus":
        return p["major_radius"] + p["minor_radius"]
    raise ValueError(f"unknown primitive type {t!r}")


def key_and_scale(p):
    """The engine's mesh key and the scale that sizes its unit mesh."""
    t = p["type"]
    around = 20 if half_extent(p) < SMALL_PART_M else 40
    if t == "box":
        return ("box", 0, 0), p["size"]
    if t == "sphere":
        return ("sphere", 0, around), [p["radius"]] * 3
    if t in ("cylinder", "cone"):
        return (t, 0, around), [p["radius"], p["height"], p["radius"]]
    if t == "capsule":
        q = min(max(round(p["length"] / 2 / max(p["radius"], 1e-6) * 4), 0), 400)
        return ("capsule", q, around), [p["radius"]] * 3
    if t == "torus":
        q = min(max(round(p["minor_radius"] / max(p["major_radius"], 1e-6) * 40), 1), 39)
        return ("torus", q, around), [p["major_radius"]] * 3
    raise ValueError(f"unknown primitive type {t!r}")


def matrix(tr):
    """4x4 of a Transform: translation, quaternion [x, y, z, w], scale."""
    x, y, z, w = tr["rotation"]
    r = trimesh.transformations.quaternion_matrix([w, x, y, z])
    r[:3, :3] = r[:3, :3] * np.asarray(tr["scale"])[None, :]
    r[:3, 3] = tr["translation"]
    return r


def look_at(eye, target, up=(0.0, 1.0, 0.0)):
    """world_from_camera for a camera at `eye` looking at `target` (-Z forward, +Y up)."""
    eye, target, up = (np.asarray(v, dtype=float) for v in (eye, target, up))
    z = eye - target
    z /= np.linalg.norm(z)
    x = np.cross(up, z)
    if np.linalg.norm(x) < 1e-6:
        x = np.cross([0.0, 0.0, 1.0], z)
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    m = np.eye(4)
    m[:3, 0], m[:3, 1], m[:3, 2], m[:3, 3] = x, y, z, eye
    return m


class Peer:
    """Builds pyrender scenes from SceneSpec JSON, reusing unit geometry."""

    def __init__(self, shadows):
        self.shadows = shadows
        self.units = {}

    def unit(self, key):
        if key not in self.units:
            self.units[key] = unit_mesh(key)
        return self.units[key]

    def scene(self, spec):
        a = spec.get("ambient_brightness", 0.0) * EXPOSURE
        tint = spec.get("ambient_color", [1.0, 1.0, 1.0])
        ambient = [min(a * c, 1.0) for c in tint]
        scene = pyrender.Scene(bg_color=[0, 0, 0, 0], ambient_light=ambient)
        seg = {}
        for obj in spec["objects"]:
            world_from_object = matrix(obj["world_from_object"])
            colour = [((obj["instance_id"] * k) % 251) / 250.0 for k in (37, 91, 173)]
            for part in obj["parts"]:
                key, scale = key_and_scale(part["primitive"])
                m = part["material"]
                material = pyrender.MetallicRoughnessMaterial(
                    baseColorFactor=list(m["base_color"]) + [1.0],
                    metallicFactor=m["metallic"],
                    roughnessFactor=m["roughness"],
                )
                mesh = pyrender.Mesh.from_trimesh(self.unit(key), material=material, smooth=key[0] != "box")
                pose = world_from_object @ matrix(part["object_from_part"]) @ np.diag(list(scale) + [1.0])
                node = scene.add(mesh, pose=pose)
                seg[node] = colour
        for light in spec["lights"]:
            kind, colour = light["kind"], light["color"]
            if kind["type"] == "directional":
                node = pyrender.DirectionalLight(color=colour, intensity=light["intensity"] * EXPOSURE)
                d = np.asarray(kind["direction"], dtype=float)
                scene.add(node, pose=look_at(-d, [0.0, 0.0, 0.0], up=(0.0, 0.0, 1.0) if abs(d[1]) > 0.999 else (0.0, 1.0, 0.0)))
                continue
            candela = light["intensity"] / (4 * math.pi) * EXPOSURE
            pos = kind["position"]
            if kind["type"] == "spot" or (self.shadows and light["shadows"]):
                if kind["type"] == "spot":
                    target, outer = kind["target"], math.radians(kind["outer_angle_deg"])
                else:
                    target, outer = [pos[0], pos[1] - 1.0, pos[2]], math.radians(80.0)
                node = pyrender.SpotLight(
                    color=colour, intensity=candela, range=kind["range"],
                    innerConeAngle=outer * 0.8, outerConeAngle=outer,
                )
                up = (0.0, 0.0, 1.0) if abs(pos[0] - target[0]) + abs(pos[2] - target[2]) < 1e-6 else (0.0, 1.0, 0.0)
                scene.add(node, pose=look_at(pos, target, up=up))
            else:
                node = pyrender.PointLight(color=colour, intensity=candela, range=kind["range"])
                pose = np.eye(4)
                pose[:3, 3] = pos
                scene.add(node, pose=pose)
        return scene, seg


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--specs", required=True, help="file of `synthfeat scene` JSON, one per line")
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--frames", type=int, default=100, help="timed frames (views)")
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--shadows", action="store_true", help="render shadows (directional and spot)")
    ap.add_argument(
        "--shadow-map-size", type=int, default=512,
        help="side of each shadow map, texels (ours: render.shadow_map_size, 512; pyrender's own: 2048)",
    )
    ap.add_argument("--save", help="also write the first frame's RGB here (PNG), to compare by eye")
    a = ap.parse_args()
    # pyrender reads this module constant when it creates and draws shadow maps.
    pyrender.light.SHADOW_TEX_SZ = a.shadow_map_size
    pyrender.renderer.SHADOW_TEX_SZ = a.shadow_map_size
    specs = [json.loads(line) for line in open(a.specs) if line.strip()]
    views = [(s, v) for s in specs for v in s["views"]]
    total = a.warmup + a.frames
    if len(views) < total:
        sys.exit(f"{a.specs}: {len(views)} views, need {total} (--warmup + --frames)")
    renderer = pyrender.OffscreenRenderer(a.size, a.size)
    peer = Peer(a.shadows)
    flags = pyrender.RenderFlags.NONE
    if a.shadows:
        flags |= pyrender.RenderFlags.SHADOWS_DIRECTIONAL | pyrender.RenderFlags.SHADOWS_SPOT
    current, scene, seg, cam = None, None, None, None
    start = time.perf_counter()
    for i, (spec, view) in enumerate(views[:total]):
        if i == a.warmup:
            start = time.perf_counter()
        if spec is not current:
            current = spec
            scene, seg = peer.scene(spec)
            cam = scene.add(
                pyrender.PerspectiveCamera(
                    yfov=math.radians(view["vfov_deg"]), znear=view["near"], zfar=view["far"], aspectRatio=1.0
                )
            )
        scene.set_pose(cam, look_at(view["eye"], view["target"]))
        color, depth = renderer.render(scene, flags=flags)
        ids, _ = renderer.render(scene, flags=pyrender.RenderFlags.SEG, seg_node_map=seg)
        if color.shape[0] != a.size or not np.isfinite(depth).all():
            sys.exit("pyrender returned a bad frame")
        if i == 0 and a.save:
            from PIL import Image

            Image.fromarray(color).save(a.save)
    seconds = time.perf_counter() - start
    renderer.delete()
    print(json.dumps({"fps": a.frames / seconds, "frames": a.frames, "size": a.size, "shadows": a.shadows}))


if __name__ == "__main__":
    main()
