//! One real image file to training pixels: PNG or JPEG (grey or colour, any
//! size) decoded to RGB, scaled so its shorter side is the training size,
//! then cropped square.

use image::imageops::FilterType;
use image::{DynamicImage, RgbImage};
use rand::Rng;

/// Decodes PNG or JPEG bytes (told apart by their signature) to RGB.
pub fn decode(bytes: &[u8]) -> Result<RgbImage, String> {
    engine::image_file::decode_rgb(bytes)
}

/// Reads and decodes the image file `path`; the error names the file.
pub fn read_file(path: &std::path::Path) -> Result<RgbImage, String> {
    std::fs::read(path)
        .map_err(|e| e.to_string())
        .and_then(|b| decode(&b))
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// Grey pixels `rows × cols` (IDX) as an RGB image.
pub fn grey(rows: usize, cols: usize, pixels: &[u8]) -> Option<RgbImage> {
    image::GrayImage::from_raw(cols as u32, rows as u32, pixels.to_vec())
        .map(|g| DynamicImage::ImageLuma8(g).to_rgb8())
}

/// [`fit`] with the centred window and no flip (held-out and evaluation images).
pub fn centred(image: &RgbImage, size: usize) -> Vec<f32> {
    fit::<rand_chacha::ChaCha8Rng>(image, size, None)
}

/// `image` scaled so its shorter side is `size` (bilinear; area-averaging
/// when shrinking), cropped to `size × size` and returned as planar RGB in
/// `[0, 1]`, `[3, size, size]`. With `rng` the window is random and the
/// image flipped left-right half the time (training); without, centred.
pub fn fit<R: Rng>(image: &RgbImage, size: usize, rng: Option<&mut R>) -> Vec<f32> {
    let (w, h) = (image.width().max(1) as f64, image.height().max(1) as f64);
    let scale = size as f64 / w.min(h);
    let (sw, sh) = (
        ((w * scale).round() as u32).max(size as u32),
        ((h * scale).round() as u32).max(size as u32),
    );
    let filter = if scale < 1.0 {
        FilterType::Triangle
    } else {
        FilterType::CatmullRom
    };
    let scaled = image::imageops::resize(image, sw, sh, filter);
    let (room_x, room_y) = (sw as usize - size, sh as usize - size);
    let (x0, y0, flip) = match rng {
        None => (room_x / 2, room_y / 2, false),
        Some(rng) => (
            rng.random_range(0..=room_x),
            rng.random_range(0..=room_y),
            rng.random_bool(0.5),
        ),
    };
    let mut out = vec![0.0f32; 3 * size * size];
    for y in 0..size {
        for x in 0..size {
            let sx = if flip { size - 1 - x } else { x };
            let p = scaled.get_pixel((x0 + sx) as u32, (y0 + y) as u32);
            for c in 0..3 {
                out[(c * size + y) * size + x] = f32::from(p[c]) / 255.0;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wide_images_are_scaled_to_the_short_side_and_centre_cropped() {
        // 8×4: left half black, right half white.
        let img = RgbImage::from_fn(8, 4, |x, _| image::Rgb([if x < 4 { 0 } else { 255 }; 3]));
        let out = centred(&img, 2);
        // Scaled to 4×2, centre 2×2 crop: one dark column, one bright column.
        assert_eq!(out.len(), 12);
        assert!(out[0] < 0.5 && out[1] > 0.5, "{out:?}");
    }

    #[test]
    fn grey_pixels_become_three_equal_channels() {
        let g = grey(2, 2, &[0, 85, 170, 255]).unwrap();
        let out = centred(&g, 2);
        assert_eq!(&out[0..4], &out[4..8]);
        assert_eq!(&out[4..8], &out[8..12]);
        assert!((out[3] - 1.0).abs() < 1e-6);
    }
}
