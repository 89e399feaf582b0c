//! Host-side images for building pretext inputs: `[3, H, W]` planes in `[0, 1]`.

use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};

/// One RGB image, channel-major (`data[c·H·W + y·W + x]`), values in `[0, 1]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Image {
    /// Height, pixels.
    pub h: usize,
    /// Width, pixels.
    pub w: usize,
    /// `3·h·w` values.
    pub data: Vec<f32>,
}

impl Image {
    /// A `h×w` image of one colour.
    pub fn filled(h: usize, w: usize, rgb: [f32; 3]) -> Self {
        let mut data = Vec::with_capacity(3 * h * w);
        for v in rgb {
            data.extend(std::iter::repeat_n(v, h * w));
        }
        Image { h, w, data }
    }

    /// Channel `c` at `(y, x)`.
    pub fn at(&self, c: usize, y: usize, x: usize) -> f32 {
        self.data[(c * self.h + y) * self.w + x]
    }

    /// The colour at `(y, x)`.
    pub fn rgb(&self, y: usize, x: usize) -> [f32; 3] {
        [0, 1, 2].map(|c| self.at(c, y, x))
    }

    /// Sets the colour at `(y, x)`.
    pub fn set_rgb(&mut self, y: usize, x: usize, rgb: [f32; 3]) {
        for (c, v) in rgb.into_iter().enumerate() {
            self.data[(c * self.h + y) * self.w + x] = v;
        }
    }

    /// Every image of a `[N, 3, H, W]` tensor.
    pub fn from_tensor<B: Backend>(t: &Tensor<B, 4>) -> Vec<Image> {
        let [n, _, h, w] = t.dims();
        let values: Vec<f32> = t
            .clone()
            .into_data()
            .convert::<f32>()
            .to_vec()
            .unwrap_or_default();
        values
            .chunks(3 * h * w)
            .take(n)
            .map(|c| Image {
                h,
                w,
                data: c.to_vec(),
            })
            .collect()
    }

    /// Stacks equally sized images into one `[N, 3, H, W]` tensor.
    pub fn to_tensor<B: Backend>(images: &[Image], device: &B::Device) -> Tensor<B, 4> {
        let (h, w) = images.first().map(|i| (i.h, i.w)).unwrap_or((0, 0));
        let data: Vec<f32> = images.iter().flat_map(|i| i.data.iter().copied()).collect();
        Tensor::from_data(TensorData::new(data, [images.len(), 3, h, w]), device)
    }

    /// Rotated by 90° counter-clockwise: the top row becomes the left column.
    pub fn rotate90(&self) -> Image {
        let (h, w) = (self.w, self.h);
        let mut out = Image::filled(h, w, [0.0; 3]);
        for y in 0..h {
            for x in 0..w {
                // Pixel (y, x) of the result comes from (x, W−1−y) of the source.
                out.set_rgb(y, x, self.rgb(x, self.w - 1 - y));
            }
        }
        out
    }

    /// Rotated counter-clockwise by `quarter_turns`·90°.
    pub fn rotate(&self, quarter_turns: usize) -> Image {
        (0..quarter_turns % 4).fold(self.clone(), |img, _| img.rotate90())
    }

    /// The `size×size` window whose top-left corner is `(y, x)` (clamped to the image).
    pub fn crop(&self, y: usize, x: usize, size: usize) -> Image {
        let mut out = Image::filled(size, size, [0.0; 3]);
        for dy in 0..size {
            for dx in 0..size {
                let (sy, sx) = ((y + dy).min(self.h - 1), (x + dx).min(self.w - 1));
                out.set_rgb(dy, dx, self.rgb(sy, sx));
            }
        }
        out
    }

    /// Downsampled to `h×w` by averaging each output pixel's block of source
    /// pixels (area resampling); upsamples by repetition.
    pub fn resize_area(&self, h: usize, w: usize) -> Image {
        let mut out = Image::filled(h, w, [0.0; 3]);
        for y in 0..h {
            let (y0, y1) = span(y, h, self.h);
            for x in 0..w {
                let (x0, x1) = span(x, w, self.w);
                let mut sum = [0.0f32; 3];
                for sy in y0..y1 {
                    for sx in x0..x1 {
                        let p = self.rgb(sy, sx);
                        for c in 0..3 {
                            sum[c] += p[c];
                        }
                    }
                }
                let n = ((y1 - y0) * (x1 - x0)) as f32;
                out.set_rgb(y, x, sum.map(|s| s / n));
            }
        }
        out
    }

    /// Upsampled to `h×w` by nearest neighbour.
    pub fn resize_nearest(&self, h: usize, w: usize) -> Image {
        let mut out = Image::filled(h, w, [0.0; 3]);
        for y in 0..h {
            for x in 0..w {
                out.set_rgb(y, x, self.rgb(y * self.h / h, x * self.w / w));
            }
        }
        out
    }

    /// Each channel shifted and scaled to mean 0.5 and spread 0.25 (so the
    /// backbone's input normalisation maps it to mean 0, spread 1): jigsaw's
    /// per-tile normalisation, which hides low-level colour statistics.
    pub fn normalise_channels(&self) -> Image {
        let n = (self.h * self.w) as f32;
        let mut out = self.clone();
        for plane in out.data.chunks_mut(self.h * self.w) {
            let mean = plane.iter().sum::<f32>() / n;
            let var = plane.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / n;
            let scale = 0.25 / var.sqrt().max(1e-3);
            for v in plane {
                *v = 0.5 + (*v - mean) * scale;
            }
        }
        out
    }

    /// Luma (Rec. 601) copied into all three channels.
    pub fn grey(&self) -> Image {
        let mut out = self.clone();
        for y in 0..self.h {
            for x in 0..self.w {
                let [r, g, b] = self.rgb(y, x);
                let l = 0.299 * r + 0.587 * g + 0.114 * b;
                out.set_rgb(y, x, [l; 3]);
            }
        }
        out
    }
}

/// Source rows `[a, b)` that output row `i` of `out` averages from `src` rows.
fn span(i: usize, out: usize, src: usize) -> (usize, usize) {
    let a = i * src / out;
    let b = ((i + 1) * src).div_ceil(out).max(a + 1).min(src);
    (a.min(src - 1), b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ramp(h: usize, w: usize) -> Image {
        let data = (0..3 * h * w)
            .map(|i| i as f32 / (3 * h * w) as f32)
            .collect();
        Image { h, w, data }
    }

    #[test]
    fn four_quarter_turns_return_the_image_and_one_moves_the_top_row_left() {
        let img = ramp(5, 5);
        assert_eq!(img.rotate(4), img);
        assert_ne!(img.rotate(1), img);
        let r = img.rotate90();
        // The top row, read left to right, becomes the left column read bottom to top.
        for x in 0..5 {
            assert_eq!(r.rgb(4 - x, 0), img.rgb(0, x));
        }
        assert_eq!(img.rotate(2), img.rotate90().rotate90());
    }

    #[test]
    fn area_resize_averages_blocks() {
        let mut img = Image::filled(4, 4, [0.0; 3]);
        img.set_rgb(0, 0, [1.0; 3]);
        let small = img.resize_area(2, 2);
        assert_eq!(small.rgb(0, 0), [0.25; 3]);
        assert_eq!(small.rgb(1, 1), [0.0; 3]);
        assert_eq!(small.resize_nearest(4, 4).rgb(1, 1), [0.25; 3]);
    }

    #[test]
    fn channel_normalisation_centres_every_channel() {
        let n = ramp(8, 8).normalise_channels();
        for plane in n.data.chunks(64) {
            let mean = plane.iter().sum::<f32>() / 64.0;
            assert!((mean - 0.5).abs() < 1e-5);
        }
    }
}
