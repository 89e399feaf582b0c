//! SimCLR's augmentations (Chen et al., ICML 2020, appendix A): a random
//! resized crop, a horizontal flip, colour jitter (brightness, contrast,
//! saturation, hue, in random order), grey and Gaussian blur. Two calls on one
//! image give the two "views" a contrastive task pulls together.

use rand::Rng;
use rand::seq::SliceRandom;

use super::{ContrastiveConfig, Image};

/// One random view of `img`, `out × out` pixels, drawn with `rng`.
pub fn view<R: Rng>(img: &Image, out: usize, config: &ContrastiveConfig, rng: &mut R) -> Image {
    let mut v = resized_crop(img, out, config.crop_min_scale, rng);
    if rng.random_bool(0.5) {
        v = hflip(&v);
    }
    if rng.random_bool(config.jitter_probability.clamp(0.0, 1.0)) {
        jitter(&mut v, config.jitter, rng);
    }
    if rng.random_bool(config.grey_probability.clamp(0.0, 1.0)) {
        v = v.grey();
    }
    if rng.random_bool(config.blur_probability.clamp(0.0, 1.0)) {
        // σ in [0.1, 2] px at 224 px (the paper), scaled to this size.
        let sigma = rng.random_range(0.1..2.0) * out as f32 / 224.0;
        v = blur(&v, sigma.max(0.1));
    }
    v
}

/// A crop of random area (a share in `[min_scale, 1]` of the image) and
/// aspect ratio (log-uniform in `[3/4, 4/3]`), resampled bilinearly to
/// `out × out`. Falls back to the whole image when ten draws do not fit.
pub fn resized_crop<R: Rng>(img: &Image, out: usize, min_scale: f64, rng: &mut R) -> Image {
    let (h, w) = (img.h as f64, img.w as f64);
    let (lo, hi) = ((3.0f64 / 4.0).ln(), (4.0f64 / 3.0).ln());
    for _ in 0..10 {
        let area = h * w * rng.random_range(min_scale.clamp(0.01, 1.0)..=1.0);
        let ratio = rng.random_range(lo..=hi).exp();
        let (cw, ch) = ((area * ratio).sqrt(), (area / ratio).sqrt());
        if cw <= w && ch <= h && cw >= 1.0 && ch >= 1.0 {
            let x0 = rng.random_range(0.0..=(w - cw));
            let y0 = rng.random_range(0.0..=(h - ch));
            return resample(img, [y0, x0, ch, cw], out);
        }
    }
    resample(img, [0.0, 0.0, h, w], out)
}

/// The window `[y0, x0, height, width]` (source pixels) sampled bilinearly at
/// `out × out` pixel centres.
fn resample(img: &Image, [y0, x0, ch, cw]: [f64; 4], out: usize) -> Image {
    let mut v = Image::filled(out, out, [0.0; 3]);
    let at = |p: f64, len: usize| {
        let p = (p - 0.5).clamp(0.0, (len - 1) as f64);
        let i = (p.floor() as usize).min(len - 1);
        (i, (i + 1).min(len - 1), (p - i as f64) as f32)
    };
    for oy in 0..out {
        let (ya, yb, fy) = at(y0 + (oy as f64 + 0.5) * ch / out as f64, img.h);
        for ox in 0..out {
            let (xa, xb, fx) = at(x0 + (ox as f64 + 0.5) * cw / out as f64, img.w);
            let mut rgb = [0.0f32; 3];
            for (c, v) in rgb.iter_mut().enumerate() {
                let top = img.at(c, ya, xa) * (1.0 - fx) + img.at(c, ya, xb) * fx;
                let bottom = img.at(c, yb, xa) * (1.0 - fx) + img.at(c, yb, xb) * fx;
                *v = top * (1.0 - fy) + bottom * fy;
            }
            v.set_rgb(oy, ox, rgb);
        }
    }
    v
}

/// Mirrored left-right.
pub fn hflip(img: &Image) -> Image {
    let mut out = img.clone();
    for y in 0..img.h {
        for x in 0..img.w {
            out.set_rgb(y, x, img.rgb(y, img.w - 1 - x));
        }
    }
    out
}

/// Brightness, contrast and saturation factors in `[1 − s, 1 + s]` and a hue
/// shift in `[−s/4, s/4]` turns (torchvision's `ColorJitter(s, s, s, s/4)`),
/// applied in random order; values stay in `[0, 1]`.
pub fn jitter<R: Rng>(img: &mut Image, strength: f32, rng: &mut R) {
    let s = strength.clamp(0.0, 1.0);
    let mut order = [0usize, 1, 2, 3];
    order.shuffle(rng);
    let n = img.h * img.w;
    for op in order {
        match op {
            0 => {
                let f = rng.random_range(1.0 - s..=1.0 + s);
                img.data
                    .iter_mut()
                    .for_each(|v| *v = (*v * f).clamp(0.0, 1.0));
            }
            1 => {
                let f = rng.random_range(1.0 - s..=1.0 + s);
                let mean = (0..n).map(|i| luma(img, i)).sum::<f32>() / n.max(1) as f32;
                img.data
                    .iter_mut()
                    .for_each(|v| *v = (mean + (*v - mean) * f).clamp(0.0, 1.0));
            }
            2 => {
                let f = rng.random_range(1.0 - s..=1.0 + s);
                for i in 0..n {
                    let l = luma(img, i);
                    for c in 0..3 {
                        let v = &mut img.data[c * n + i];
                        *v = (l + (*v - l) * f).clamp(0.0, 1.0);
                    }
                }
            }
            _ => {
                let shift = rng.random_range(-s / 4.0..=s / 4.0);
                for i in 0..n {
                    let rgb = [0, 1, 2].map(|c| img.data[c * n + i]);
                    let [h, sat, val] = rgb_to_hsv(rgb);
                    let out = hsv_to_rgb([(h + shift).rem_euclid(1.0), sat, val]);
                    for (c, v) in out.into_iter().enumerate() {
                        img.data[c * n + i] = v;
                    }
                }
            }
        }
    }
}

fn luma(img: &Image, i: usize) -> f32 {
    let n = img.h * img.w;
    0.299 * img.data[i] + 0.587 * img.data[n + i] + 0.114 * img.data[2 * n + i]
}

/// Hue (turns, `[0, 1)`), saturation and value of an RGB colour.
pub fn rgb_to_hsv([r, g, b]: [f32; 3]) -> [f32; 3] {
    let max = r.max(g).max(b);
    let min = r.min(g).min(b);
    let d = max - min;
    let h = if d <= 0.0 {
        0.0
    } else if max == r {
        ((g - b) / d).rem_euclid(6.0)
    } else if max == g {
        (b - r) / d + 2.0
    } else {
        (r - g) / d + 4.0
    };
    let s = if max > 0.0 { d / max } else { 0.0 };
    [h / 6.0, s, max]
}

/// RGB of a hue (turns), saturation and value.
pub fn hsv_to_rgb([h, s, v]: [f32; 3]) -> [f32; 3] {
    let h6 = h.rem_euclid(1.0) * 6.0;
    let c = v * s;
    let x = c * (1.0 - (h6.rem_euclid(2.0) - 1.0).abs());
    let (r, g, b) = match h6 as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let m = v - c;
    [r + m, g + m, b + m]
}

/// Gaussian blur of standard deviation `sigma` pixels (separable, edges clamped).
pub fn blur(img: &Image, sigma: f32) -> Image {
    let radius = (2.0 * sigma).ceil().max(1.0) as isize;
    let mut kernel: Vec<f32> = (-radius..=radius)
        .map(|d| (-(d * d) as f32 / (2.0 * sigma * sigma)).exp())
        .collect();
    let total: f32 = kernel.iter().sum();
    kernel.iter_mut().for_each(|k| *k /= total);
    let pass = |src: &Image, horizontal: bool| {
        let mut out = src.clone();
        for c in 0..3 {
            for y in 0..src.h {
                for x in 0..src.w {
                    let mut acc = 0.0;
                    for (k, d) in kernel.iter().zip(-radius..=radius) {
                        let (sy, sx) = if horizontal {
                            (y, (x as isize + d).clamp(0, src.w as isize - 1) as usize)
                        } else {
                            ((y as isize + d).clamp(0, src.h as isize - 1) as usize, x)
                        };
                        acc += k * src.at(c, sy, sx);
                    }
                    out.data[(c * src.h + y) * src.w + x] = acc;
                }
            }
        }
        out
    };
    pass(&pass(img, true), false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn ramp(h: usize, w: usize) -> Image {
        let mut img = Image::filled(h, w, [0.0; 3]);
        for y in 0..h {
            for x in 0..w {
                img.set_rgb(y, x, [x as f32 / w as f32, y as f32 / h as f32, 0.5]);
            }
        }
        img
    }

    #[test]
    fn the_whole_image_resampled_at_its_size_is_itself() {
        let img = ramp(8, 8);
        let same = resample(&img, [0.0, 0.0, 8.0, 8.0], 8);
        for (a, b) in same.data.iter().zip(&img.data) {
            assert!((a - b).abs() < 1e-6);
        }
        // A crop of the right half starts at the middle of the ramp.
        let right = resample(&img, [0.0, 4.0, 8.0, 4.0], 4);
        assert!((right.at(0, 0, 0) - 4.0 / 8.0).abs() < 1e-6);
    }

    #[test]
    fn hsv_round_trips_and_a_full_turn_of_hue_changes_nothing() {
        for rgb in [
            [0.2, 0.5, 0.9],
            [1.0, 0.0, 0.0],
            [0.3, 0.3, 0.3],
            [0.9, 0.8, 0.1],
        ] {
            let back = hsv_to_rgb(rgb_to_hsv(rgb));
            for (a, b) in back.iter().zip(rgb) {
                assert!((a - b).abs() < 1e-5, "{rgb:?} -> {back:?}");
            }
        }
        let [h, s, v] = rgb_to_hsv([1.0, 0.0, 0.0]);
        assert_eq!([h, s, v], [0.0, 1.0, 1.0]);
        assert!((rgb_to_hsv([0.0, 1.0, 0.0])[0] - 1.0 / 3.0).abs() < 1e-6);
    }

    #[test]
    fn blur_keeps_the_mean_and_flattens_an_edge() {
        let mut img = Image::filled(9, 9, [0.0; 3]);
        for y in 0..9 {
            for x in 5..9 {
                img.set_rgb(y, x, [1.0; 3]);
            }
        }
        let b = blur(&img, 1.0);
        let mean = |i: &Image| i.data.iter().sum::<f32>() / i.data.len() as f32;
        assert!((mean(&b) - mean(&img)).abs() < 0.02);
        assert!(b.at(0, 4, 4) > 0.1 && b.at(0, 4, 5) < 0.9);
    }

    #[test]
    fn views_are_in_range_of_the_asked_size_and_depend_on_the_seed_only() {
        let img = ramp(32, 24);
        let c = ContrastiveConfig {
            blur_probability: 0.5,
            ..Default::default()
        };
        let draw = |seed| view(&img, 16, &c, &mut ChaCha8Rng::seed_from_u64(seed));
        let (a, b) = (draw(1), draw(1));
        assert_eq!(a, b);
        assert_ne!(a, draw(2));
        assert_eq!((a.h, a.w), (16, 16));
        assert!(a.data.iter().all(|v| (0.0..=1.0).contains(v)));
    }
}
