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

/// Crops are cut in steps of `1 / CROP_STEPS` of the image side, so a
/// renderer caches few distinct crops of one image.
pub const CROP_STEPS: u32 = 8;

/// A photo used as albedo: which image, which part of it, how it tiles.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PhotoTexture {
    /// Path of the image (a [`TextureEntry::path`]).
    pub path: String,
    /// Its SHA-256, so a sample names exactly the bytes it was drawn with.
    pub sha256: String,
    /// Crop in steps of `1 / CROP_STEPS` of the image: `[x0, y0, x1, y1]`,
    /// `x0 < x1 <= CROP_STEPS`. The crop is what tiles the surface.
    pub crop: [u32; 4],
    /// Repeats of the crop per texture-coordinate unit.
    pub scale: f32,
    /// Rotation of the texture coordinates, degrees.
    pub rotation_deg: f32,
    /// Shift of the tiling, in crop widths.
    pub offset: [f32; 2],
}

impl PhotoTexture {
    /// The map from a mesh's texture coordinates to the crop's, as a 2×3
    /// row-major affine matrix `[a, b, c, d, e, f]`: `u' = a u + b v + c`,
    /// `v' = d u + e v + f` (the sampler repeats the crop beyond `[0, 1]`).
    pub fn uv_affine(&self) -> [f32; 6] {
        let (s, c) = self.rotation_deg.to_radians().sin_cos();
        let k = self.scale;
        [k * c, -k * s, self.offset[0], k * s, k * c, self.offset[1]]
    }

    /// The crop as pixel bounds `(x, y, width, height)` of a `width × height`
    /// image (at least one pixel each way).
    pub fn crop_pixels(&self, width: u32, height: u32) -> (u32, u32, u32, u32) {
        let at = |step: u32, side: u32| {
            (u64::from(step.min(CROP_STEPS)) * u64::from(side) / u64::from(CROP_STEPS)) as u32
        };
        let (x0, y0) = (at(self.crop[0], width), at(self.crop[1], height));
        let (x1, y1) = (at(self.crop[2], width), at(self.crop[3], height));
        let x0 = x0.min(width.saturating_sub(1));
        let y0 = y0.min(height.saturating_sub(1));
        (
            x0,
            y0,
            x1.saturating_sub(x0).max(1),
            y1.saturating_sub(y0).max(1),
        )
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
    fn crops_map_to_pixels_and_never_to_nothing() {
        assert_eq!(
            photo([0, 0, 8, 8], 1.0, 0.0).crop_pixels(640, 480),
            (0, 0, 640, 480)
        );
        assert_eq!(
            photo([2, 4, 6, 8], 1.0, 0.0).crop_pixels(640, 480),
            (160, 240, 320, 240)
        );
        // A one-pixel image still gives a one-pixel crop.
        assert_eq!(
            photo([7, 7, 8, 8], 1.0, 0.0).crop_pixels(1, 1),
            (0, 0, 1, 1)
        );
    }

    #[test]
    fn uv_map_scales_rotates_and_shifts() {
        let m = photo([0, 0, 8, 8], 2.0, 90.0).uv_affine();
        // (1, 0) turns to (0, 2), shifted by the offset.
        let (u, v) = (m[0] + m[2], m[3] + m[5]);
        assert!((u - 0.25).abs() < 1e-5 && (v - 2.5).abs() < 1e-5, "{m:?}");
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
