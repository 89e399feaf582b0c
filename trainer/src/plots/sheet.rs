//! `predictions.png`: one row per validation sample — input, then prediction
//! and ground truth side by side for every enabled task.

use burn::tensor::Tensor;
use burn::tensor::backend::Backend;
use image::{Rgb, RgbImage, imageops};

use super::canvas::Canvas;

const TILE: u32 = 128;
const GAP: u32 = 4;
const HEADER: u32 = 16;

/// A `[N, C, H, W]` tensor's values for sample `n` as `C` planes of `H×W`.
fn planes<B: Backend>(t: &Tensor<B, 4>, n: usize) -> (Vec<Vec<f32>>, usize, usize) {
    let [_, c, h, w] = t.dims();
    let v: Vec<f32> = t
        .clone()
        .slice([n..n + 1, 0..c, 0..h, 0..w])
        .into_data()
        .to_vec()
        .unwrap_or_default();
    let planes = (0..c)
        .map(|k| v.get(k * h * w..(k + 1) * h * w).unwrap_or(&[]).to_vec())
        .collect();
    (planes, h, w)
}

/// Maps `t` in [0, 1] to a perceptual blue–green–yellow ramp (viridis-like).
fn ramp(t: f32) -> [u8; 3] {
    const STOPS: [[f32; 3]; 5] = [
        [68.0, 1.0, 84.0],
        [59.0, 82.0, 139.0],
        [33.0, 145.0, 140.0],
        [94.0, 201.0, 98.0],
        [253.0, 231.0, 37.0],
    ];
    let x = t.clamp(0.0, 1.0) * 4.0;
    let i = (x.floor() as usize).min(3);
    let f = x - i as f32;
    let mut out = [0u8; 3];
    for (k, o) in out.iter_mut().enumerate() {
        *o = (STOPS[i][k] * (1.0 - f) + STOPS[i + 1][k] * f) as u8;
    }
    out
}

fn tile(w: usize, h: usize, pixel: impl Fn(usize) -> [u8; 3]) -> RgbImage {
    let img = RgbImage::from_fn(w as u32, h as u32, |x, y| {
        Rgb(pixel(y as usize * w + x as usize))
    });
    imageops::resize(&img, TILE, TILE, imageops::FilterType::Nearest)
}

/// Tiles of one dense task: prediction and ground truth, coloured alike.
fn task_tiles(
    name: &str,
    pred: &[Vec<f32>],
    gt: &[Vec<f32>],
    valid: &[f32],
    w: usize,
    h: usize,
) -> [RgbImage; 2] {
    match name {
        "depth" => {
            let vals: Vec<f32> = gt[0]
                .iter()
                .zip(valid)
                .filter(|(_, v)| **v > 0.0)
                .map(|(d, _)| *d)
                .collect();
            let lo = vals.iter().copied().fold(f32::MAX, f32::min);
            let hi = vals.iter().copied().fold(f32::MIN, f32::max).max(lo + 1e-3);
            let colour = |d: f32, ok: bool| {
                if ok {
                    ramp(1.0 - (d - lo) / (hi - lo))
                } else {
                    [0, 0, 0]
                }
            };
            [
                tile(w, h, |i| colour(pred[0][i], true)),
                tile(w, h, |i| colour(gt[0][i], valid[i] > 0.0)),
            ]
        }
        "normal" => {
            let colour = |p: &[Vec<f32>], i: usize| {
                [0, 1, 2].map(|c| ((p[c][i] * 0.5 + 0.5).clamp(0.0, 1.0) * 255.0) as u8)
            };
            [
                tile(w, h, |i| colour(pred, i)),
                tile(w, h, |i| colour(gt, i)),
            ]
        }
        _ => {
            let grey = |v: f32| {
                let g = 255 - (v.clamp(0.0, 1.0) * 255.0) as u8;
                [g, g, g]
            };
            [
                tile(w, h, |i| grey(pred[0][i])),
                tile(w, h, |i| grey(gt[0][i])),
            ]
        }
    }
}

/// One task's tensors for the sheet: name, prediction, ground truth (`[N, C, h, w]`).
pub struct TaskImages<B: Backend> {
    /// Task name.
    pub name: &'static str,
    /// Prediction in label units.
    pub prediction: Tensor<B, 4>,
    /// Ground truth.
    pub truth: Tensor<B, 4>,
}

/// Draws up to `rows` samples: input RGB, then prediction | truth per task.
pub fn render<B: Backend>(
    rgb: &Tensor<B, 4>,
    valid: &Tensor<B, 4>,
    tasks: &[TaskImages<B>],
    rows: usize,
) -> Canvas {
    let n = rgb.dims()[0].min(rows);
    let cols = 1 + 2 * tasks.len() as u32;
    let mut c = Canvas::new(
        cols * (TILE + GAP) + GAP,
        HEADER + n as u32 * (TILE + GAP) + GAP,
    );
    let mut heads = vec!["input".to_string()];
    for t in tasks {
        heads.push(format!("{} pred", t.name));
        heads.push(format!("{} gt", t.name));
    }
    for (i, h) in heads.iter().enumerate() {
        c.text((GAP + i as u32 * (TILE + GAP)) as i64, 4, h, [0, 0, 0]);
    }
    for r in 0..n {
        let y = (HEADER + GAP + r as u32 * (TILE + GAP)) as i64;
        let (p, h, w) = planes(rgb, r);
        let input = tile(w, h, |i| {
            [0, 1, 2].map(|k| (p[k][i].clamp(0.0, 1.0) * 255.0) as u8)
        });
        c.blit(GAP as i64, y, &input);
        let (v, _, _) = planes(valid, r);
        for (k, t) in tasks.iter().enumerate() {
            let (pred, lh, lw) = planes(&t.prediction, r);
            let (gt, _, _) = planes(&t.truth, r);
            let valid = v.first().cloned().unwrap_or_default();
            if valid.len() != lh * lw || pred.iter().chain(&gt).any(|p| p.len() != lh * lw) {
                continue;
            }
            let [a, b] = task_tiles(t.name, &pred, &gt, &valid, lw, lh);
            let x = (GAP + (1 + 2 * k as u32) * (TILE + GAP)) as i64;
            c.blit(x, y, &a);
            c.blit(x + (TILE + GAP) as i64, y, &b);
        }
    }
    c
}
