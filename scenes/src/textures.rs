//! Photo texture libraries as data: which images exist, their sizes and
//! content hashes. Building one means reading files (the `engine` crate does
//! it); the generators only pick entries from it, so a scene stays a pure
//! function of the config, the seed and the library.

use serde::{Deserialize, Serialize};

/// One usable image of a library.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextureEntry {
    /// Path of the image file, as found under its folder.
    pub path: String,
    /// Hex SHA-256 of the file's bytes.
    pub sha256: String,
    /// Width, pixels.
    pub width: u32,
    /// Height, pixels.
    pub height: u32,
}

/// The images of a run's photo texture folders, in a fixed (sorted) order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextureLibrary {
    /// Usable images, sorted by path.
    pub entries: Vec<TextureEntry>,
}

impl TextureLibrary {
    /// Whether the library holds no image.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Text that identifies the library's content (every path and hash), for config hashes.
    pub fn fingerprint(&self) -> String {
        self.entries
            .iter()
            .map(|e| format!("{}={}", e.path, e.sha256))
            .collect::<Vec<_>>()
            .join(";")
    }
}

/// Crops are given in steps of `1 / CROP_STEPS` of the image side.
pub const CROP_STEPS: u32 = 8;

/// A photo used as albedo: which image, which part of it, how it tiles.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PhotoTexture {
    /// Path of the image (a [`TextureEntry::path`]).
    pub path: String,
    /// Its SHA-256, so a sample names exactly the bytes it was drawn with.
    pub sha256: String,
    /// The window of the image one texture-coordinate unit shows, in steps
    /// of `1 / CROP_STEPS` of the image: `[x0, y0, x1, y1]`, `x0 < x1 <=
    /// CROP_STEPS`. Beyond it the image continues and then repeats.
    pub crop: [u32; 4],
    /// Repeats of the window per texture-coordinate unit.
    pub scale: f32,
    /// Rotation of the texture coordinates, degrees.
    pub rotation_deg: f32,
    /// Shift of the tiling, in window widths.
    pub offset: [f32; 2],
}

impl PhotoTexture {
    /// The map from a mesh's texture coordinates to the image's, as a 2×3
    /// row-major affine matrix `[a, b, c, d, e, f]`: `u' = a u + b v + c`,
    /// `v' = d u + e v + f`: rotated and scaled, shifted, then into the
    /// window (the sampler repeats the image beyond `[0, 1]`).
    pub fn uv_affine(&self) -> [f32; 6] {
        let steps = CROP_STEPS as f32;
        let [x0, y0, x1, y1] = self.crop.map(|c| c.min(CROP_STEPS) as f32 / steps);
        let (w, h) = (x1 - x0, y1 - y0);
        let (s, c) = self.rotation_deg.to_radians().sin_cos();
        let k = self.scale;
        [
            w * k * c,
            -w * k * s,
            x0 + w * self.offset[0],
            h * k * s,
            h * k * c,
            y0 + h * self.offset[1],
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn photo(crop: [u32; 4], scale: f32, rotation_deg: f32) -> PhotoTexture {
        PhotoTexture {
            path: "a.png".into(),
            sha256: "0".into(),
            crop,
            scale,
            rotation_deg,
            offset: [0.25, 0.5],
        }
    }

    #[test]
    fn uv_map_scales_rotates_and_shifts() {
        let m = photo([0, 0, 8, 8], 2.0, 90.0).uv_affine();
        // (1, 0) turns to (0, 2), shifted by the offset.
        let (u, v) = (m[0] + m[2], m[3] + m[5]);
        assert!((u - 0.25).abs() < 1e-5 && (v - 2.5).abs() < 1e-5, "{m:?}");
        // The right half of the image, unscaled: the unit square maps onto it.
        let mut right = photo([4, 0, 8, 8], 1.0, 0.0);
        right.offset = [0.0, 0.0];
        let m = right.uv_affine();
        let at = |u: f32, v: f32| (m[0] * u + m[1] * v + m[2], m[3] * u + m[4] * v + m[5]);
        assert_eq!(at(0.0, 0.0), (0.5, 0.0));
        assert_eq!(at(1.0, 0.0), (1.0, 0.0));
        assert_eq!(at(0.0, 1.0), (0.5, 1.0));
    }

    #[test]
    fn fingerprint_names_every_path_and_hash() {
        let lib = TextureLibrary {
            entries: vec![TextureEntry {
                path: "t/a.png".into(),
                sha256: "ab".into(),
                width: 2,
                height: 2,
            }],
        };
        assert_eq!(lib.fingerprint(), "t/a.png=ab");
        assert!(TextureLibrary::default().is_empty());
    }
}
