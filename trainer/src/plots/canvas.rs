//! A tiny raster canvas: rectangles, lines and 8×8 bitmap text (no system fonts).

use image::{Rgb, RgbImage};

/// An RGB image to draw on.
pub struct Canvas {
    /// The pixels.
    pub img: RgbImage,
}

impl Canvas {
    /// A white canvas.
    pub fn new(width: u32, height: u32) -> Self {
        Canvas {
            img: RgbImage::from_pixel(width, height, Rgb([255, 255, 255])),
        }
    }

    /// Sets a pixel, ignoring positions outside.
    pub fn put(&mut self, x: i64, y: i64, c: [u8; 3]) {
        if x >= 0 && y >= 0 && (x as u32) < self.img.width() && (y as u32) < self.img.height() {
            self.img.put_pixel(x as u32, y as u32, Rgb(c));
        }
    }

    /// Fills a rectangle.
    pub fn rect(&mut self, x: i64, y: i64, w: i64, h: i64, c: [u8; 3]) {
        for yy in y..y + h {
            for xx in x..x + w {
                self.put(xx, yy, c);
            }
        }
    }

    /// A one-pixel rectangle outline.
    pub fn frame(&mut self, x: i64, y: i64, w: i64, h: i64, c: [u8; 3]) {
        self.rect(x, y, w, 1, c);
        self.rect(x, y + h - 1, w, 1, c);
        self.rect(x, y, 1, h, c);
        self.rect(x + w - 1, y, 1, h, c);
    }

    /// A two-pixel-wide line.
    pub fn line(&mut self, (x0, y0): (f64, f64), (x1, y1): (f64, f64), c: [u8; 3]) {
        let n = ((x1 - x0).abs().max((y1 - y0).abs()).ceil() as i64).max(1);
        for i in 0..=n {
            let t = i as f64 / n as f64;
            let (x, y) = (x0 + (x1 - x0) * t, y0 + (y1 - y0) * t);
            self.rect(x.round() as i64, y.round() as i64, 2, 2, c);
        }
    }

    /// ASCII text with its top-left corner at `(x, y)`, 8 px per character.
    pub fn text(&mut self, x: i64, y: i64, s: &str, c: [u8; 3]) {
        for (i, ch) in s.chars().enumerate() {
            let code = if ch.is_ascii() {
                ch as usize
            } else {
                b'?' as usize
            };
            let glyph = font8x8::legacy::BASIC_LEGACY[code];
            for (row, bits) in glyph.iter().enumerate() {
                for col in 0..8 {
                    if bits & (1 << col) != 0 {
                        self.put(x + 8 * i as i64 + col, y + row as i64, c);
                    }
                }
            }
        }
    }

    /// Copies `tile` with its top-left corner at `(x, y)`.
    pub fn blit(&mut self, x: i64, y: i64, tile: &RgbImage) {
        for (tx, ty, p) in tile.enumerate_pixels() {
            self.put(x + tx as i64, y + ty as i64, p.0);
        }
    }

    /// Writes the PNG under a temporary name, then renames it into place.
    pub fn save_atomic(&self, path: &std::path::Path) -> Result<(), String> {
        let tmp = path.with_extension("png.tmp");
        self.img
            .save_with_format(&tmp, image::ImageFormat::Png)
            .map_err(|e| format!("{}: {e}", tmp.display()))?;
        std::fs::rename(&tmp, path).map_err(|e| format!("{}: {e}", path.display()))
    }
}

/// A short label for a number.
pub fn fmt_num(v: f64) -> String {
    let a = v.abs();
    if a == 0.0 {
        "0".into()
    } else if !(1e-3..1e4).contains(&a) {
        format!("{v:.1e}")
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_draws_glyph_pixels_left_to_right() {
        let mut c = Canvas::new(16, 8);
        c.text(0, 0, "|", [0, 0, 0]);
        let dark: Vec<u32> = (0..8)
            .filter(|&x| (0..8).any(|y| c.img.get_pixel(x, y).0 == [0, 0, 0]))
            .collect();
        assert!(!dark.is_empty() && dark.iter().all(|&x| x < 8));
        assert!((8..16).all(|x| (0..8).all(|y| c.img.get_pixel(x, y).0 == [255, 255, 255])));
    }
}
