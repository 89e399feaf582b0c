//! Read-back pixels → [`Sample`]: frame conversion, label decoding, contours.

use crate::contour::contours;
use crate::plan::FrameId;
use crate::sample::{InstanceInfo, Intrinsics, Sample, SampleMeta};
use scenes::{SceneSpec, ShadingProfile};
use std::sync::Arc;

/// Fraction of label pixels that may show no surface in a complete frame.
///
/// Scenes are closed rooms, so every pixel of a fully drawn frame hits a surface;
/// a frame whose pipelines were not ready yet shows large empty areas.
pub const MAX_EMPTY_FRACTION: f64 = 0.001;

/// Whether a frame's packed pixels show a fully drawn scene.
pub fn complete(packed: &[f32]) -> bool {
    let pixels = packed.len() / 4;
    let empty = packed
        .chunks_exact(4)
        .filter(|p| instance_and_low_bits(p[2]).0 == 0)
        .count();
    (empty as f64) <= MAX_EMPTY_FRACTION * pixels as f64
}

/// The sRGB colour of a packed pixel.
fn packed_rgb(p: &[f32]) -> [u8; 3] {
    let rgb = packed_int(p[3]);
    [(rgb >> 16) as u8, (rgb >> 8) as u8, rgb as u8]
}

/// The image alone of packed pixels, RGB8 sRGB.
pub fn decode_rgb(packed: &[f32]) -> Vec<u8> {
    packed.chunks_exact(4).flat_map(packed_rgb).collect()
}

/// Image and labels decoded from packed pixels.
pub struct Decoded {
    /// RGB8 sRGB, 3 per pixel.
    pub rgb: Vec<u8>,
    /// Planar depth, metres; 0 = none.
    pub depth_m: Vec<f32>,
    /// Unit normal, OpenCV camera frame, 3 per pixel; 0 = none.
    pub normal_camera: Vec<f32>,
    /// Instance id; 0 = none.
    pub instance: Vec<u16>,
}

/// A packed channel's integer (every packed value is an exact integer < 2^24).
fn packed_int(v: f32) -> u32 {
    v.round().clamp(0.0, 16_777_215.0) as u32
}

/// Instance id and the normal's low bits of the `b` channel.
fn instance_and_low_bits(b: f32) -> (u16, u32) {
    let b = packed_int(b);
    ((b >> 8) as u16, b & 0xFF)
}

/// The unit vector of octahedral coordinates `(x, y)` in `[-1, 1]²`.
fn from_octahedral(x: f32, y: f32) -> [f32; 3] {
    let z = 1.0 - x.abs() - y.abs();
    let sign = |v: f32| if v >= 0.0 { 1.0 } else { -1.0 };
    let (x, y) = if z < 0.0 {
        ((1.0 - y.abs()) * sign(x), (1.0 - x.abs()) * sign(y))
    } else {
        (x, y)
    };
    let len = (x * x + y * y + z * z).sqrt().max(f32::MIN_POSITIVE);
    [x / len, y / len, z / len]
}

/// Decodes `label.wgsl`'s packed pixels; normals go from Bevy's view frame
/// into the OpenCV camera frame.
pub fn decode_labelled(packed: &[f32]) -> Decoded {
    let n = packed.len() / 4;
    let mut out = Decoded {
        rgb: vec![0; 3 * n],
        depth_m: vec![0.0; n],
        normal_camera: vec![0.0; 3 * n],
        instance: vec![0; n],
    };
    for (i, p) in packed.chunks_exact(4).enumerate() {
        out.rgb[3 * i..3 * i + 3].copy_from_slice(&packed_rgb(p));
        let (id, low) = instance_and_low_bits(p[2]);
        if id == 0 {
            continue;
        }
        let high = packed_int(p[1]);
        let u = ((high >> 12) << 4) | (low >> 4);
        let v = ((high & 0xFFF) << 4) | (low & 0xF);
        let to_unit = |q: u32| q as f32 / 65535.0 * 2.0 - 1.0;
        let [nx, ny, nz] = from_octahedral(to_unit(u), to_unit(v));
        out.depth_m[i] = p[0];
        // Bevy view (x right, y up, z back) → OpenCV (x right, y down, z forward).
        out.normal_camera[3 * i..3 * i + 3].copy_from_slice(&[nx, -ny, -nz]);
        out.instance[i] = id;
    }
    out
}

/// A rendered frame as read back, before decoding: built on the render thread,
/// turned into a [`Sample`] by [`RawFrame::assemble`] on the consumer's thread.
pub struct RawFrame {
    /// The frame.
    pub frame: FrameId,
    /// The scene it shows.
    pub spec: Arc<SceneSpec>,
    /// The target's pixels, 4 floats each (`label.wgsl`'s packing).
    pub pixels: Vec<f32>,
}

impl RawFrame {
    /// Decodes the labels, derives contours and fills in the metadata.
    pub fn assemble(&self, opts: &AssembleOptions) -> Sample {
        assemble(&self.frame, &self.spec, &self.pixels, opts)
    }
}

/// Settings shared by every frame of a run.
pub struct AssembleOptions {
    /// Image width, pixels.
    pub width: u32,
    /// Image height, pixels.
    pub height: u32,
    /// Relative depth jump that marks a contour.
    pub contour_threshold: f32,
    /// Hash of the generation config, for the metadata.
    pub config_hash: String,
    /// Shading profile of the RGB images, for the metadata.
    pub shading_profile: ShadingProfile,
    /// Whether to decode the labels (false: RGB only, label buffers empty).
    pub labels: bool,
}

/// Builds the sample of `frame` from its packed pixels.
pub fn assemble(
    frame: &FrameId,
    spec: &SceneSpec,
    packed: &[f32],
    opts: &AssembleOptions,
) -> Sample {
    let (width, height) = (opts.width, opts.height);
    let view = &spec.views[frame.view as usize % spec.views.len().max(1)];
    let (rgb, depth_m, normal_camera, instance, contour) = if opts.labels {
        let d = decode_labelled(packed);
        let c = contours(
            &d.instance,
            &d.depth_m,
            width as usize,
            height as usize,
            opts.contour_threshold,
        );
        (d.rgb, d.depth_m, d.normal_camera, d.instance, c)
    } else {
        let rgb = decode_rgb(packed);
        (rgb, Vec::new(), Vec::new(), Vec::new(), Vec::new())
    };
    Sample {
        meta: SampleMeta {
            key: frame.key(),
            scene_seed: frame.scene_seed,
            view: frame.view,
            width,
            height,
            intrinsics: Intrinsics::from_vfov(width, height, f64::from(view.vfov_deg)),
            world_from_camera: view.world_from_camera(),
            near: view.near,
            far: view.far,
            depth_unit: "mm".to_string(),
            normal_frame: "camera_opencv".to_string(),
            instances: spec
                .objects
                .iter()
                .map(|o| {
                    let mut textures: Vec<String> = Vec::new();
                    let mut asset = None;
                    for p in &o.parts {
                        let t = match &p.primitive {
                            scenes::Primitive::Asset { path, sha256, .. } => {
                                asset.get_or_insert_with(|| crate::sample::AssetRef {
                                    path: path.clone(),
                                    sha256: sha256.clone(),
                                });
                                "asset".to_string()
                            }
                            _ => p.material.texture.source(),
                        };
                        if !textures.contains(&t) {
                            textures.push(t);
                        }
                    }
                    InstanceInfo {
                        id: o.instance_id,
                        category: o.category.clone(),
                        shape: o.shape.clone(),
                        textures,
                        asset,
                    }
                })
                .collect(),
            generator: spec.generator.clone(),
            config_hash: opts.config_hash.clone(),
            shading_profile: opts.shading_profile.name().to_string(),
            synthfeat_version: crate::VERSION.to_string(),
        },
        rgb,
        depth_m,
        normal_camera,
        instance,
        contour,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `label.wgsl`'s packing, written again on the CPU.
    fn pack(depth_m: f32, normal_view: [f32; 3], id: u16, rgb: [u8; 3]) -> [f32; 4] {
        let [x, y, z] = normal_view;
        let l1 = x.abs() + y.abs() + z.abs();
        let (px, py) = (x / l1, y / l1);
        let sign = |v: f32| if v >= 0.0 { 1.0 } else { -1.0 };
        let (ox, oy) = if z >= 0.0 {
            (px, py)
        } else {
            ((1.0 - py.abs()) * sign(px), (1.0 - px.abs()) * sign(py))
        };
        let q = |o: f32| ((o * 0.5 + 0.5) * 65535.0).round() as u32;
        let (u, v) = (q(ox), q(oy));
        let rgb = (u32::from(rgb[0]) << 16) | (u32::from(rgb[1]) << 8) | u32::from(rgb[2]);
        [
            depth_m,
            ((u >> 4) * 4096 + (v >> 4)) as f32,
            (u32::from(id) * 256 + (u & 15) * 16 + (v & 15)) as f32,
            rgb as f32,
        ]
    }

    #[test]
    fn packed_pixels_decode_into_the_opencv_frame() {
        // Facing the camera (Bevy view +z), id 7, 2.5 m away; tilted up (Bevy
        // +y) and away (negative z), id 65535; an empty pixel.
        let s = 0.6f32;
        let mut packed = Vec::new();
        packed.extend(pack(2.5, [0.0, 0.0, 1.0], 7, [255, 128, 1]));
        packed.extend(pack(1.0, [0.0, s, -0.8], u16::MAX, [0, 0, 0]));
        packed.extend([0.0; 4]);
        let d = decode_labelled(&packed);
        assert_eq!(d.instance, vec![7, u16::MAX, 0]);
        assert_eq!(d.depth_m, vec![2.5, 1.0, 0.0]);
        assert_eq!(d.rgb, vec![255, 128, 1, 0, 0, 0, 0, 0, 0]);
        let close = |a: &[f32], b: &[f32]| a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-4);
        assert!(
            close(&d.normal_camera[0..3], &[0.0, 0.0, -1.0]),
            "{:?}",
            d.normal_camera
        );
        assert!(
            close(&d.normal_camera[3..6], &[0.0, -s, 0.8]),
            "{:?}",
            d.normal_camera
        );
        assert_eq!(&d.normal_camera[6..9], &[0.0, 0.0, 0.0]);
        assert_eq!(decode_rgb(&packed), d.rgb);
        assert!(!complete(&packed));
    }

    #[test]
    fn every_direction_survives_the_packing_within_a_hundredth_of_a_degree() {
        let mut worst = 0.0f64;
        for i in 0..64 {
            for j in 0..=32 {
                // Longitude × latitude, poles and the octahedron's folds included.
                let (lon, lat) = (
                    i as f64 / 64.0 * std::f64::consts::TAU,
                    (j as f64 / 32.0 - 0.5) * std::f64::consts::PI,
                );
                let n = [lat.cos() * lon.cos(), lat.cos() * lon.sin(), lat.sin()];
                for axes in [[0, 1, 2], [2, 0, 1], [1, 2, 0]] {
                    let v = axes.map(|a| n[a] as f32);
                    let d = decode_labelled(&pack(1.0, v, 1, [0; 3]));
                    let back = [d.normal_camera[0], -d.normal_camera[1], -d.normal_camera[2]];
                    let (a, b) = (back.map(f64::from), v.map(f64::from));
                    // atan2(|a × b|, a · b): exact for small angles, unlike acos.
                    let cross = [
                        a[1] * b[2] - a[2] * b[1],
                        a[2] * b[0] - a[0] * b[2],
                        a[0] * b[1] - a[1] * b[0],
                    ];
                    let sin = cross.iter().map(|c| c * c).sum::<f64>().sqrt();
                    let cos: f64 = (0..3).map(|k| a[k] * b[k]).sum();
                    worst = worst.max(sin.atan2(cos).to_degrees());
                }
            }
        }
        assert!(worst < 0.01, "worst angle {worst}°");
    }

    #[test]
    fn a_frame_with_empty_pixels_is_incomplete() {
        let full: Vec<f32> = (0..2000)
            .flat_map(|_| pack(1.0, [0.0, 0.0, 1.0], 3, [9; 3]))
            .collect();
        assert!(complete(&full));
        let mut holed = full;
        holed[4..16].fill(0.0); // 3 of 2000 pixels: over 0.1 %
        assert!(!complete(&holed));
    }
}
