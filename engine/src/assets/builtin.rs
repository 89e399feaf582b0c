//! A small asset library synthfeat makes itself: `.glb` files of everyday
//! objects (mugs, cups, bottles, cans, bowls, vases, books, boxes, plants,
//! lamps, stools, side tables), each in its category's folder, with a few
//! random variants of shape, colour and texture from a fixed seed. Boxes and
//! books are written without normals, as many real files are, so readers
//! compute flat ones.

use std::f32::consts::{PI, TAU};
use std::path::{Path, PathBuf};

use super::glb::{self, Material};

/// Every category the built-in library holds, in the order it writes them.
pub const CATEGORIES: [&str; 12] = [
    "mug",
    "cup",
    "bottle",
    "can",
    "bowl",
    "vase",
    "book",
    "box",
    "plant",
    "lamp",
    "stool",
    "side_table",
];

/// A file of the built-in library that could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write asset {path}: {source}")]
pub struct WriteError {
    /// The file or folder.
    pub path: PathBuf,
    /// The I/O error.
    pub source: std::io::Error,
}

/// Writes `variants` files of every category under `dir`
/// (`dir/CATEGORY/CATEGORY_NN.glb`); returns their paths. The same call
/// writes the same bytes. Each file appears complete or not at all.
pub fn write_library(dir: &Path, variants: u32) -> Result<Vec<PathBuf>, WriteError> {
    let mut written = Vec::new();
    for (c, category) in CATEGORIES.iter().enumerate() {
        let folder = dir.join(category);
        std::fs::create_dir_all(&folder).map_err(|source| WriteError {
            path: folder.clone(),
            source,
        })?;
        for v in 0..variants {
            let mut rng = Rng(0x5EED_0000 + (c as u64) * 1000 + u64::from(v));
            let (shapes, materials) = object(category, &mut rng);
            let prims: Vec<glb::Primitive> = shapes
                .iter()
                .map(|(s, m)| glb::Primitive {
                    positions: &s.positions,
                    normals: s.smooth.then_some(s.normals.as_slice()),
                    uvs: &s.uvs,
                    indices: &s.indices,
                    material: *m,
                })
                .collect();
            let bytes = glb::write(&prims, &materials);
            let path = folder.join(format!("{category}_{v:02}.glb"));
            let tmp = path.with_extension("glb.tmp");
            std::fs::write(&tmp, &bytes)
                .and_then(|()| std::fs::rename(&tmp, &path))
                .map_err(|source| WriteError {
                    path: path.clone(),
                    source,
                })?;
            written.push(path);
        }
    }
    Ok(written)
}

/// SplitMix64, enough for shape variety.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f32 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 40) as f32 / (1u64 << 24) as f32
    }

    fn between(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * self.next()
    }

    /// A colour of hue `h` turns around the wheel, saturation and value in ranges.
    fn color(&mut self, s: (f32, f32), v: (f32, f32)) -> [f32; 4] {
        let (h, s, v) = (self.next(), self.between(s.0, s.1), self.between(v.0, v.1));
        let i = (h * 6.0).floor();
        let f = h * 6.0 - i;
        let (p, q, t) = (v * (1.0 - s), v * (1.0 - s * f), v * (1.0 - s * (1.0 - f)));
        let [r, g, b] = match i as u32 % 6 {
            0 => [v, t, p],
            1 => [q, v, p],
            2 => [p, v, t],
            3 => [p, q, v],
            4 => [t, p, v],
            _ => [v, p, q],
        };
        // sRGB-ish choice to linear.
        [r.powf(2.2), g.powf(2.2), b.powf(2.2), 1.0]
    }
}

/// One triangle list under construction.
#[derive(Default)]
struct Shape {
    positions: Vec<[f32; 3]>,
    normals: Vec<[f32; 3]>,
    uvs: Vec<[f32; 2]>,
    indices: Vec<u32>,
    /// Whether its normals are written (else readers compute flat ones).
    smooth: bool,
}

fn normalize(v: [f32; 3]) -> [f32; 3] {
    let l = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt().max(1e-12);
    v.map(|c| c / l)
}

impl Shape {
    /// A surface of revolution about `+y` of the polyline `profile` of
    /// `(radius, height)` points, its normals pointing to the left of the
    /// profile's direction (outward for a profile that climbs the outside).
    fn lathe(profile: &[[f32; 2]], segments: u32) -> Shape {
        let mut s = Shape {
            smooth: true,
            ..Shape::default()
        };
        let seg_normal = |a: [f32; 2], b: [f32; 2]| {
            let (dr, dy) = (b[0] - a[0], b[1] - a[1]);
            let l = (dr * dr + dy * dy).sqrt().max(1e-12);
            [dy / l, -dr / l]
        };
        let total: f32 = profile
            .windows(2)
            .map(|w| ((w[1][0] - w[0][0]).powi(2) + (w[1][1] - w[0][1]).powi(2)).sqrt())
            .sum::<f32>()
            .max(1e-6);
        let mut walked = 0.0;
        for i in 0..profile.len().saturating_sub(1) {
            let (a, b) = (profile[i], profile[i + 1]);
            let n = seg_normal(a, b);
            // Smooth across a joint that bends less than 40 degrees.
            let blend = |other: Option<[f32; 2]>| match other {
                Some(o) if o[0] * n[0] + o[1] * n[1] > 0.77 => {
                    let m = [o[0] + n[0], o[1] + n[1]];
                    let l = (m[0] * m[0] + m[1] * m[1]).sqrt();
                    [m[0] / l, m[1] / l]
                }
                _ => n,
            };
            let na = blend((i > 0).then(|| seg_normal(profile[i - 1], a)));
            let nb = blend(profile.get(i + 2).map(|&c| seg_normal(b, c)));
            let len = ((b[0] - a[0]).powi(2) + (b[1] - a[1]).powi(2)).sqrt();
            let (va, vb) = (walked / total, (walked + len) / total);
            walked += len;
            let base = s.positions.len() as u32;
            for k in 0..=segments {
                let t = k as f32 / segments as f32;
                let (sin, cos) = (t * TAU).sin_cos();
                for (p, nn, v) in [(a, na, va), (b, nb, vb)] {
                    s.positions.push([p[0] * cos, p[1], p[0] * sin]);
                    s.normals.push(normalize([nn[0] * cos, nn[1], nn[0] * sin]));
                    s.uvs.push([t, 1.0 - v]);
                }
            }
            for k in 0..segments {
                let (a0, b0, a1, b1) = (
                    base + 2 * k,
                    base + 2 * k + 1,
                    base + 2 * k + 2,
                    base + 2 * k + 3,
                );
                s.indices.extend([a0, b0, a1, a1, b0, b1]);
            }
        }
        s.orient();
        s
    }

    /// A box of full side lengths `size` centred on `at`, without normals.
    fn cuboid(size: [f32; 3], at: [f32; 3]) -> Shape {
        let mut s = Shape::default();
        let h = size.map(|v| v / 2.0);
        // Each face: its normal axis and sign, and two in-plane axes.
        for (axis, sign) in [
            (0, 1.0),
            (0, -1.0),
            (1, 1.0),
            (1, -1.0),
            (2, 1.0),
            (2, -1.0),
        ] {
            let (u, v) = ((axis + 1) % 3, (axis + 2) % 3);
            let base = s.positions.len() as u32;
            for (du, dv) in [(-1.0, -1.0), (1.0, -1.0), (1.0, 1.0), (-1.0, 1.0)] {
                let mut p = at;
                p[axis] += sign * h[axis];
                p[u] += du * h[u];
                p[v] += dv * h[v];
                s.positions.push(p);
                let mut n = [0.0; 3];
                n[axis] = sign;
                s.normals.push(n);
                s.uvs.push([(du + 1.0) / 2.0, (1.0 - dv) / 2.0]);
            }
            s.indices
                .extend([base, base + 1, base + 2, base, base + 2, base + 3]);
        }
        s.orient();
        s
    }

    /// A tube of `radius` along the polyline `path`.
    fn tube(path: &[[f32; 3]], radius: f32, sides: u32) -> Shape {
        let mut s = Shape {
            smooth: true,
            ..Shape::default()
        };
        for (i, &c) in path.iter().enumerate() {
            let next = path[(i + 1).min(path.len() - 1)];
            let prev = path[i.saturating_sub(1)];
            let d = normalize([next[0] - prev[0], next[1] - prev[1], next[2] - prev[2]]);
            // A frame around the direction (paths here lie in planes with z constant).
            let side = normalize([d[1], -d[0], 0.0]);
            let up = [0.0, 0.0, 1.0];
            for k in 0..=sides {
                let (sin, cos) = (k as f32 / sides as f32 * TAU).sin_cos();
                let n = normalize([0, 1, 2].map(|j| side[j] * cos + up[j] * sin));
                s.positions.push([0, 1, 2].map(|j| c[j] + radius * n[j]));
                s.normals.push(n);
                s.uvs
                    .push([k as f32 / sides as f32, i as f32 / (path.len() - 1) as f32]);
            }
        }
        let ring = sides + 1;
        for i in 0..path.len() as u32 - 1 {
            for k in 0..sides {
                let (a, b) = (i * ring + k, (i + 1) * ring + k);
                s.indices.extend([a, b, a + 1, a + 1, b, b + 1]);
            }
        }
        s.orient();
        s
    }

    /// An ellipsoid of `radii` turned by `yaw` about `+y` after tilting it by
    /// `tilt` about `+z`, centred on `at`.
    fn ellipsoid(radii: [f32; 3], tilt: f32, yaw: f32, at: [f32; 3]) -> Shape {
        let mut s = Shape {
            smooth: true,
            ..Shape::default()
        };
        let (rows, cols) = (8u32, 12u32);
        let turn = |p: [f32; 3]| {
            let (st, ct) = tilt.sin_cos();
            let q = [p[0] * ct - p[1] * st, p[0] * st + p[1] * ct, p[2]];
            let (sy, cy) = yaw.sin_cos();
            [q[0] * cy + q[2] * sy, q[1], -q[0] * sy + q[2] * cy]
        };
        for i in 0..=rows {
            let phi = i as f32 / rows as f32 * PI;
            for k in 0..=cols {
                let th = k as f32 / cols as f32 * TAU;
                let unit = [phi.sin() * th.cos(), phi.cos(), phi.sin() * th.sin()];
                let p = turn([0, 1, 2].map(|j| unit[j] * radii[j]));
                s.positions.push([p[0] + at[0], p[1] + at[1], p[2] + at[2]]);
                s.normals
                    .push(normalize(turn([0, 1, 2].map(|j| unit[j] / radii[j]))));
                s.uvs.push([k as f32 / cols as f32, i as f32 / rows as f32]);
            }
        }
        for i in 0..rows {
            for k in 0..cols {
                let (a, b) = (i * (cols + 1) + k, (i + 1) * (cols + 1) + k);
                s.indices.extend([a, b, a + 1, a + 1, b, b + 1]);
            }
        }
        s.orient();
        s
    }

    /// Moves every vertex by `d`.
    fn shifted(mut self, d: [f32; 3]) -> Shape {
        for p in &mut self.positions {
            *p = [p[0] + d[0], p[1] + d[1], p[2] + d[2]];
        }
        self
    }

    /// Turns every triangle counter-clockwise about its vertices' normals.
    fn orient(&mut self) {
        for t in self.indices.chunks_exact_mut(3) {
            let [a, b, c] = [0, 1, 2].map(|k| self.positions[t[k] as usize]);
            let (u, v) = (
                [b[0] - a[0], b[1] - a[1], b[2] - a[2]],
                [c[0] - a[0], c[1] - a[1], c[2] - a[2]],
            );
            let face = [
                u[1] * v[2] - u[2] * v[1],
                u[2] * v[0] - u[0] * v[2],
                u[0] * v[1] - u[1] * v[0],
            ];
            let n: [f32; 3] =
                [0, 1, 2].map(|j| (0..3).map(|k| self.normals[t[k] as usize][j]).sum());
            if face[0] * n[0] + face[1] * n[1] + face[2] * n[2] < 0.0 {
                t.swap(1, 2);
            }
        }
    }
}

/// A PNG texture `w × h` whose pixel `(x, y)` is `f(x, y)` (sRGB bytes).
fn png(w: u32, h: u32, f: impl Fn(u32, u32) -> [u8; 3]) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb(f(x, y)));
    let mut out = std::io::Cursor::new(Vec::new());
    // Encoding an in-memory RGB image to PNG cannot fail.
    let _ = img.write_to(&mut out, image::ImageFormat::Png);
    out.into_inner()
}

fn srgb(c: [f32; 4]) -> [u8; 3] {
    [0, 1, 2].map(|k| (c[k].max(0.0).powf(1.0 / 2.2) * 255.0).round().min(255.0) as u8)
}

fn plain(color: [f32; 4], roughness: f32) -> Material {
    Material {
        color,
        roughness,
        metallic: 0.0,
        texture_png: None,
    }
}

/// A label texture: horizontal bands of two colours, with stripes in the middle band.
fn label(rng: &mut Rng) -> Vec<u8> {
    let (a, b) = (
        srgb(rng.color((0.5, 0.9), (0.5, 0.95))),
        srgb(rng.color((0.0, 0.4), (0.8, 1.0))),
    );
    let stripes = 3 + (rng.next() * 6.0) as u32;
    png(64, 64, move |x, y| {
        if (20..44).contains(&y) {
            if (x * stripes / 64).is_multiple_of(2) {
                b
            } else {
                a
            }
        } else {
            a
        }
    })
}

type Parts = (Vec<(Shape, usize)>, Vec<Material>);

/// The shapes (with material indices) and materials of one object of `category`.
fn object(category: &str, r: &mut Rng) -> Parts {
    let seg = 32;
    match category {
        "mug" => {
            let (radius, h, t) = (r.between(0.035, 0.05), r.between(0.08, 0.11), 0.005);
            let body = Shape::lathe(
                &[
                    [0.0, 0.0],
                    [radius, 0.0],
                    [radius, h],
                    [radius - t, h],
                    [radius - t, t],
                    [0.0, t],
                ],
                seg,
            );
            let arc: Vec<[f32; 3]> = (0..=12)
                .map(|k| {
                    let a = -PI / 2.0 + k as f32 / 12.0 * PI;
                    [
                        radius + 0.3 * h * a.cos() - 0.002,
                        h * 0.5 + 0.3 * h * a.sin(),
                        0.0,
                    ]
                })
                .collect();
            let handle = Shape::tube(&arc, 0.006, 10);
            let m = plain(r.color((0.0, 0.8), (0.4, 0.95)), 0.3);
            (vec![(body, 0), (handle, 0)], vec![m])
        }
        "cup" => {
            let (r0, r1, h, t) = (
                r.between(0.025, 0.035),
                r.between(0.038, 0.05),
                r.between(0.08, 0.12),
                0.003,
            );
            let body = Shape::lathe(
                &[
                    [0.0, 0.0],
                    [r0, 0.0],
                    [r1, h],
                    [r1 - t, h],
                    [r0 - t, t],
                    [0.0, t],
                ],
                seg,
            );
            (
                vec![(body, 0)],
                vec![plain(r.color((0.0, 0.6), (0.5, 1.0)), 0.2)],
            )
        }
        "bottle" => {
            let (radius, h) = (r.between(0.03, 0.045), r.between(0.2, 0.3));
            let neck = radius * r.between(0.3, 0.4);
            let body = Shape::lathe(
                &[
                    [0.0, 0.0],
                    [radius, 0.0],
                    [radius, 0.6 * h],
                    [neck * 1.1, 0.8 * h],
                    [neck, 0.9 * h],
                    [0.0, 0.9 * h],
                ],
                seg,
            );
            let cap = Shape::lathe(
                &[
                    [0.0, 0.9 * h],
                    [neck * 1.15, 0.9 * h],
                    [neck * 1.15, h],
                    [0.0, h],
                ],
                16,
            );
            let glass = Material {
                color: r.color((0.2, 0.9), (0.2, 0.7)),
                roughness: 0.1,
                metallic: 0.0,
                texture_png: Some(label(r)),
            };
            (
                vec![(body, 0), (cap, 1)],
                vec![glass, plain(r.color((0.3, 1.0), (0.3, 1.0)), 0.4)],
            )
        }
        "can" => {
            let (radius, h) = (r.between(0.03, 0.035), r.between(0.1, 0.13));
            let body = Shape::lathe(&[[0.0, 0.0], [radius, 0.0], [radius, h], [0.0, h]], seg);
            let m = Material {
                color: [1.0; 4],
                roughness: 0.35,
                metallic: 0.5,
                texture_png: Some(label(r)),
            };
            (vec![(body, 0)], vec![m])
        }
        "bowl" => {
            let (radius, h, t) = (r.between(0.07, 0.12), r.between(0.05, 0.08), 0.006);
            let mut profile: Vec<[f32; 2]> = (0..=8)
                .map(|k| {
                    let a = k as f32 / 8.0 * PI / 2.0;
                    [radius * a.sin(), h * (1.0 - a.cos())]
                })
                .collect();
            profile.extend((0..=8).rev().map(|k| {
                let a = k as f32 / 8.0 * PI / 2.0;
                [(radius - t) * a.sin(), t + (h - t) * (1.0 - a.cos())]
            }));
            let body = Shape::lathe(&profile, seg);
            (
                vec![(body, 0)],
                vec![plain(r.color((0.0, 0.7), (0.5, 1.0)), 0.4)],
            )
        }
        "vase" => {
            let (radius, h) = (r.between(0.05, 0.08), r.between(0.2, 0.35));
            let (a, b) = (r.between(1.0, 2.0), r.between(0.0, PI));
            let mut profile = vec![[0.0, 0.0]];
            profile.extend((0..=10).map(|k| {
                let y = k as f32 / 10.0 * h;
                [radius * (0.65 + 0.35 * (a * PI * y / h + b).sin()), y]
            }));
            let top = profile[profile.len() - 1];
            profile.extend([
                [top[0] - 0.005, h],
                [top[0] - 0.005, 0.8 * h],
                [0.0, 0.8 * h],
            ]);
            let body = Shape::lathe(&profile, seg);
            let m = Material {
                texture_png: r.next().lt(&0.5).then(|| label(r)),
                ..plain(r.color((0.2, 0.9), (0.3, 0.9)), 0.25)
            };
            (vec![(body, 0)], vec![m])
        }
        "book" => {
            let (w, h, d) = (
                r.between(0.13, 0.2),
                r.between(0.02, 0.05),
                r.between(0.18, 0.26),
            );
            let cover = Shape::cuboid([w, h, d], [0.0, h / 2.0, 0.0]);
            let pages = Shape::cuboid([w * 0.97, h * 0.85, d * 0.96], [0.01 * w, h / 2.0, 0.0]);
            let (c, band) = (
                srgb(r.color((0.4, 0.9), (0.2, 0.8))),
                srgb(r.color((0.0, 0.3), (0.8, 1.0))),
            );
            let m = Material {
                color: [1.0; 4],
                roughness: 0.7,
                metallic: 0.0,
                texture_png: Some(png(
                    32,
                    32,
                    move |_, y| if (12..18).contains(&y) { band } else { c },
                )),
            };
            (
                vec![(cover, 0), (pages, 1)],
                vec![m, plain([0.85, 0.83, 0.75, 1.0], 0.9)],
            )
        }
        "box" => {
            let size = [
                r.between(0.1, 0.4),
                r.between(0.08, 0.3),
                r.between(0.1, 0.35),
            ];
            let body = Shape::cuboid(size, [0.0, size[1] / 2.0, 0.0]);
            let brown = srgb(r.color((0.4, 0.6), (0.45, 0.7)));
            let tape = [200, 190, 160];
            let m = Material {
                color: [1.0; 4],
                roughness: 0.9,
                metallic: 0.0,
                texture_png: Some(png(32, 32, move |x, _| {
                    if (14..18).contains(&x) { tape } else { brown }
                })),
            };
            (vec![(body, 0)], vec![m])
        }
        "plant" => {
            let (radius, h) = (r.between(0.05, 0.08), r.between(0.08, 0.12));
            let pot = Shape::lathe(
                &[
                    [0.0, 0.0],
                    [radius * 0.7, 0.0],
                    [radius, h],
                    [radius * 1.08, h],
                    [radius * 1.08, h * 1.1],
                    [radius * 0.95, h * 1.1],
                    [radius * 0.95, h * 0.95],
                    [0.0, h * 0.95],
                ],
                seg,
            );
            let mut leaves = Vec::new();
            let n = 5 + (r.next() * 5.0) as u32;
            for k in 0..n {
                let yaw = k as f32 / n as f32 * TAU + r.between(-0.3, 0.3);
                let len = r.between(1.0, 2.0) * radius;
                let tilt = r.between(0.3, 1.1);
                let at = [
                    len * 0.6 * yaw.cos() * tilt.cos(),
                    h + len * 0.5 * tilt.sin() + 0.01,
                    -len * 0.6 * yaw.sin() * tilt.cos(),
                ];
                leaves.push((Shape::ellipsoid([len, 0.006, len * 0.35], tilt, yaw, at), 1));
            }
            let mut parts = vec![(pot, 0)];
            parts.extend(leaves);
            (
                parts,
                vec![
                    plain([0.55, 0.22, 0.1, 1.0], 0.8),
                    plain(r.color((0.5, 0.9), (0.2, 0.5)), 0.6),
                ],
            )
        }
        "lamp" => {
            let (h, shade) = (r.between(0.3, 0.5), r.between(0.1, 0.16));
            let base = Shape::lathe(&[[0.0, 0.0], [0.07, 0.0], [0.07, 0.02], [0.0, 0.02]], seg);
            let stem = Shape::lathe(
                &[
                    [0.0, 0.02],
                    [0.008, 0.02],
                    [0.008, h * 0.75],
                    [0.0, h * 0.75],
                ],
                12,
            );
            let t = 0.004;
            let s = Shape::lathe(
                &[
                    [shade, h * 0.6],
                    [shade * 0.6, h],
                    [shade * 0.6 - t, h],
                    [shade - t, h * 0.6 + t],
                    [shade, h * 0.6],
                ],
                seg,
            );
            (
                vec![(base, 0), (stem, 0), (s, 1)],
                vec![
                    plain(r.color((0.0, 0.3), (0.1, 0.6)), 0.3),
                    plain(r.color((0.1, 0.4), (0.7, 1.0)), 0.9),
                ],
            )
        }
        "stool" => {
            let (seat, h) = (r.between(0.15, 0.2), r.between(0.45, 0.65));
            let top = Shape::lathe(
                &[[0.0, h - 0.04], [seat, h - 0.04], [seat, h], [0.0, h]],
                seg,
            );
            let mut parts = vec![(top, 0)];
            let legs = 3 + (r.next() * 2.0) as u32;
            for k in 0..legs {
                let a = k as f32 / legs as f32 * TAU;
                let leg = Shape::lathe(
                    &[[0.0, 0.0], [0.015, 0.0], [0.015, h - 0.04], [0.0, h - 0.04]],
                    10,
                );
                parts.push((
                    leg.shifted([0.75 * seat * a.cos(), 0.0, 0.75 * seat * a.sin()]),
                    1,
                ));
            }
            let wood = plain(r.color((0.3, 0.6), (0.3, 0.6)), 0.6);
            (
                parts,
                vec![wood, plain(r.color((0.0, 0.4), (0.1, 0.5)), 0.4)],
            )
        }
        _ => {
            // side_table
            let (top_r, h) = (r.between(0.25, 0.35), r.between(0.45, 0.65));
            let top = Shape::lathe(
                &[[0.0, h - 0.03], [top_r, h - 0.03], [top_r, h], [0.0, h]],
                48,
            );
            let stem = Shape::lathe(
                &[[0.0, 0.02], [0.03, 0.02], [0.03, h - 0.03], [0.0, h - 0.03]],
                16,
            );
            let foot = Shape::lathe(
                &[
                    [0.0, 0.0],
                    [top_r * 0.6, 0.0],
                    [top_r * 0.6, 0.02],
                    [0.0, 0.02],
                ],
                32,
            );
            let m = plain(r.color((0.2, 0.7), (0.3, 0.8)), 0.5);
            (vec![(top, 0), (stem, 0), (foot, 0)], vec![m])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_library_loads_back_with_outward_normals() {
        let tmp = tempfile::tempdir().expect("tmp");
        let files = write_library(tmp.path(), 2).expect("writes");
        assert_eq!(files.len(), 2 * CATEGORIES.len());
        let again = tempfile::tempdir().expect("tmp");
        write_library(again.path(), 2).expect("writes");
        for f in &files {
            let rel = f.strip_prefix(tmp.path()).expect("under");
            assert_eq!(
                std::fs::read(f).ok(),
                std::fs::read(again.path().join(rel)).ok(),
                "same bytes"
            );
            let loaded = super::super::load(f, true).expect("loads");
            let mesh = &loaded.mesh;
            assert!(mesh.triangles() > 10, "{}", f.display());
            let (lo, _) = mesh.bounds().expect("bounds");
            assert!(
                lo[1].abs() < 1e-4,
                "{} stands on y = 0: {lo:?}",
                f.display()
            );
            // Every part encloses a positive volume with its triangles
            // counter-clockwise seen from outside, and its normals agree.
            for p in &mesh.parts {
                let (mut volume, mut agree, mut all) = (0.0f32, 0.0f32, 0.0f32);
                for t in p.indices.chunks_exact(3) {
                    let [a, b, c] = [0, 1, 2].map(|k| p.positions[t[k] as usize]);
                    let cross = [
                        b[1] * c[2] - b[2] * c[1],
                        b[2] * c[0] - b[0] * c[2],
                        b[0] * c[1] - b[1] * c[0],
                    ];
                    volume += (a[0] * cross[0] + a[1] * cross[1] + a[2] * cross[2]) / 6.0;
                    let (u, v) = (
                        [0, 1, 2].map(|k| b[k] - a[k]),
                        [0, 1, 2].map(|k| c[k] - a[k]),
                    );
                    let face = [
                        u[1] * v[2] - u[2] * v[1],
                        u[2] * v[0] - u[0] * v[2],
                        u[0] * v[1] - u[1] * v[0],
                    ];
                    let n = p.normals[t[0] as usize];
                    all += 1.0;
                    agree += f32::from(u8::from(
                        face[0] * n[0] + face[1] * n[1] + face[2] * n[2] >= 0.0,
                    ));
                }
                assert!(volume > 0.0, "{}: volume {volume}", f.display());
                assert!(
                    agree / all > 0.95,
                    "{}: {agree} of {all} agree",
                    f.display()
                );
            }
        }
    }
}
