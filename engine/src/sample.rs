//! One labelled view: pixels, labels, camera and metadata.

use serde::{Deserialize, Serialize};

/// Pinhole intrinsics in pixels; pixel centres at integer coordinates (OpenCV).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Intrinsics {
    /// Focal length along x, pixels.
    pub fx: f64,
    /// Focal length along y, pixels.
    pub fy: f64,
    /// Principal point x, pixels.
    pub cx: f64,
    /// Principal point y, pixels.
    pub cy: f64,
}

impl Intrinsics {
    /// Intrinsics of a centred pinhole with square pixels and vertical field of view `vfov_deg`.
    pub fn from_vfov(width: u32, height: u32, vfov_deg: f64) -> Self {
        let fy = f64::from(height) / 2.0 / (vfov_deg.to_radians() / 2.0).tan();
        Intrinsics {
            fx: fy,
            fy,
            cx: (f64::from(width) - 1.0) / 2.0,
            cy: (f64::from(height) - 1.0) / 2.0,
        }
    }
}

/// One entry of a sample's instance table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceInfo {
    /// Id as written in the instance map.
    pub id: u16,
    /// Semantic category (`floor`, `wall`, `table`, `clutter`, …).
    pub category: String,
    /// Geometry (`box`, `sphere`, `table`, …).
    pub shape: String,
    /// Where its parts' textures come from, each once: `photo:PATH#SHA256`,
    /// `pattern:KIND/FREQUENCY/CONTRAST`, `plain`, or `asset` for an asset's
    /// own textures (empty in data sets written before it was recorded).
    #[serde(default)]
    pub textures: Vec<String>,
    /// The library mesh it shows, if it is an asset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset: Option<AssetRef>,
}

/// A file of a mesh asset library, exactly: its path and content hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssetRef {
    /// Path of the file, as the library was scanned.
    pub path: String,
    /// SHA-256 over the file and every external file it reads.
    pub sha256: String,
}

/// Everything about a sample that is not a pixel; written as `KEY.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SampleMeta {
    /// Unique key, `{scene_seed:016x}-{view:02}`.
    pub key: String,
    /// Seed of the scene this view shows.
    pub scene_seed: u64,
    /// Index of the view within its scene.
    pub view: u32,
    /// Image width, pixels.
    pub width: u32,
    /// Image height, pixels.
    pub height: u32,
    /// Pinhole intrinsics.
    pub intrinsics: Intrinsics,
    /// Camera pose: OpenCV camera frame (x right, y down, z forward) to world, 4×4 row-major.
    pub world_from_camera: [[f64; 4]; 4],
    /// Near and far clipping distances of the render, metres.
    pub near: f32,
    /// See `near`.
    pub far: f32,
    /// Unit of `depth.png` (`mm`): planar depth, i.e. the camera-frame z.
    pub depth_unit: String,
    /// Frame of `normal.png` (`camera_opencv`).
    pub normal_frame: String,
    /// Ids in the instance map and what they are.
    pub instances: Vec<InstanceInfo>,
    /// Scene generator that built the scene.
    pub generator: String,
    /// Hash of the generation config (`Config::hash_hex`).
    pub config_hash: String,
    /// Shading profile of `rgb.png` (`full` or `fast`, see `render.profile`);
    /// `full` in data sets written before the setting existed.
    #[serde(default = "full_profile")]
    pub shading_profile: String,
    /// synthfeat version that wrote it.
    pub synthfeat_version: String,
}

fn full_profile() -> String {
    "full".to_string()
}

/// A labelled view. Images are row-major, top row first.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    /// Metadata (key, camera, instance table, provenance).
    pub meta: SampleMeta,
    /// 8-bit sRGB, 3 bytes per pixel.
    pub rgb: Vec<u8>,
    /// Planar depth (camera z) in metres; 0 where no surface.
    pub depth_m: Vec<f32>,
    /// Unit surface normal in the OpenCV camera frame, 3 floats per pixel; 0 where no surface.
    pub normal_camera: Vec<f32>,
    /// Instance id per pixel; 0 where no surface.
    pub instance: Vec<u16>,
    /// 255 on instance-contour pixels, else 0.
    pub contour: Vec<u8>,
}

/// Largest depth `depth.png` can hold, metres (65535 mm).
pub const MAX_DEPTH_M: f32 = 65.535;

/// Depth in millimetres as stored in `depth.png`: rounded, at least 1 for any surface, clamped.
pub fn depth_to_mm(depth_m: f32) -> u16 {
    if depth_m > 0.0 && depth_m.is_finite() {
        (depth_m * 1000.0).round().clamp(1.0, 65535.0) as u16
    } else {
        0
    }
}

/// Metres from stored millimetres.
pub fn depth_from_mm(mm: u16) -> f32 {
    f32::from(mm) / 1000.0
}

/// 8-bit code of a normal component: `round((n + 1) * 127.5)`.
pub fn normal_to_u8(n: f32) -> u8 {
    ((n.clamp(-1.0, 1.0) + 1.0) * 127.5).round() as u8
}

/// Normal component from its 8-bit code.
pub fn normal_from_u8(v: u8) -> f32 {
    f32::from(v) / 127.5 - 1.0
}

impl Sample {
    /// Number of pixels.
    pub fn pixels(&self) -> usize {
        self.meta.width as usize * self.meta.height as usize
    }

    /// The sample as it reads back from a dataset: depth rounded to millimetres,
    /// normals to 8 bits. Idempotent.
    pub fn quantized(&self) -> Sample {
        let mut s = self.clone();
        for d in &mut s.depth_m {
            *d = depth_from_mm(depth_to_mm(*d));
        }
        for n in &mut s.normal_camera {
            *n = normal_from_u8(normal_to_u8(*n));
        }
        s
    }

    /// Checks that every buffer has the length the width and height call for.
    pub fn check_shape(&self) -> Result<(), String> {
        let n = self.pixels();
        let checks = [
            ("rgb", self.rgb.len(), 3 * n),
            ("depth", self.depth_m.len(), n),
            ("normal", self.normal_camera.len(), 3 * n),
            ("instance", self.instance.len(), n),
            ("contour", self.contour.len(), n),
        ];
        for (name, got, want) in checks {
            if got != want {
                return Err(format!(
                    "{name} has {got} values, {}x{} needs {want}",
                    self.meta.width, self.meta.height
                ));
            }
        }
        Ok(())
    }
}

/// The key of a view: `{scene_seed:016x}-{view:02}`.
pub fn sample_key(scene_seed: u64, view: u32) -> String {
    format!("{scene_seed:016x}-{view:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_and_normal_codes_round_trip() {
        assert_eq!(depth_to_mm(0.0), 0);
        assert_eq!(depth_to_mm(0.0001), 1, "a surface never reads as 'none'");
        assert_eq!(depth_to_mm(100.0), 65535);
        assert_eq!(depth_to_mm(2.3456), 2346);
        for mm in [1u16, 999, 1000, 2346, 65535] {
            assert_eq!(depth_to_mm(depth_from_mm(mm)), mm);
        }
        assert_eq!(normal_to_u8(-1.0), 0);
        assert_eq!(normal_to_u8(1.0), 255);
        assert_eq!(normal_to_u8(0.0), 128);
        for v in 0..=255u8 {
            assert_eq!(normal_to_u8(normal_from_u8(v)), v);
        }
    }

    #[test]
    fn intrinsics_follow_the_field_of_view() {
        let k = Intrinsics::from_vfov(256, 128, 90.0);
        assert!((k.fy - 64.0).abs() < 1e-9);
        assert_eq!(k.fx, k.fy);
        assert_eq!((k.cx, k.cy), (127.5, 63.5));
    }
}
