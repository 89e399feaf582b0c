//! `synthfeat preview`: a contact sheet of a dataset.

use anyhow::{Context, Result, bail};
use clap::Args;
use image::{Rgb, RgbImage};
use std::path::PathBuf;

use engine::Sample;
use engine::dataset::{DatasetReader, OnError};

/// `synthfeat preview` options.
#[derive(Args)]
pub struct PreviewArgs {
    /// Dataset folder (shards and manifest.json).
    #[arg(long)]
    data: PathBuf,
    /// Output PNG.
    #[arg(long)]
    out: PathBuf,
    /// Number of samples (rows).
    #[arg(long, default_value_t = 8)]
    count: usize,
}

const GAP: u32 = 2;

/// Turbo-like colour map of `t` in `[0, 1]` (blue → green → yellow → red).
fn colormap(t: f32) -> [u8; 3] {
    let t = t.clamp(0.0, 1.0);
    let stops: [[f32; 3]; 5] = [
        [0.19, 0.07, 0.23],
        [0.16, 0.47, 0.93],
        [0.30, 0.93, 0.45],
        [0.98, 0.73, 0.19],
        [0.48, 0.02, 0.01],
    ];
    let x = t * 4.0;
    let i = (x.floor() as usize).min(3);
    let f = x - i as f32;
    let c = |k: usize| stops[i][k] + (stops[i + 1][k] - stops[i][k]) * f;
    [c(0), c(1), c(2)].map(|v| (v * 255.0).round() as u8)
}

/// A stable bright colour per instance id (black for 0).
fn id_color(id: u16) -> [u8; 3] {
    if id == 0 {
        return [0, 0, 0];
    }
    let h = u32::from(id).wrapping_mul(2_654_435_761);
    [
        (h >> 24) as u8 | 0x40,
        (h >> 16) as u8 | 0x40,
        (h >> 8) as u8 | 0x40,
    ]
}

/// The five panels of one sample, left to right.
fn panels(s: &Sample) -> [Vec<[u8; 3]>; 5] {
    let n = s.pixels();
    let rgb = (0..n)
        .map(|i| [s.rgb[3 * i], s.rgb[3 * i + 1], s.rgb[3 * i + 2]])
        .collect();
    let valid: Vec<f32> = s.depth_m.iter().copied().filter(|d| *d > 0.0).collect();
    let (lo, hi) = valid
        .iter()
        .fold((f32::MAX, 0.0f32), |(lo, hi), &d| (lo.min(d), hi.max(d)));
    let depth = s
        .depth_m
        .iter()
        .map(|&d| {
            if d > 0.0 {
                colormap((d - lo) / (hi - lo).max(1e-6))
            } else {
                [0, 0, 0]
            }
        })
        .collect();
    let normal = (0..n)
        .map(|i| [0, 1, 2].map(|k| engine::sample::normal_to_u8(s.normal_camera[3 * i + k])))
        .collect();
    let inst = s.instance.iter().map(|&id| id_color(id)).collect();
    let contour = s.contour.iter().map(|&c| [c, c, c]).collect();
    [rgb, depth, normal, inst, contour]
}

/// Runs `synthfeat preview`.
pub fn run(a: PreviewArgs) -> Result<()> {
    if a.count == 0 {
        bail!("--count must be at least 1");
    }
    let reader = DatasetReader::open(&a.data)
        .with_context(|| format!("opening dataset {}", a.data.display()))?;
    let mut samples = Vec::new();
    for r in reader.samples(OnError::SkipShard, 4) {
        match r {
            Ok(s) => samples.push(s),
            Err(e) => eprintln!("warning: {e}"),
        }
        if samples.len() >= a.count {
            break;
        }
    }
    let Some(first) = samples.first() else {
        bail!("no readable sample in {}", a.data.display());
    };
    let (w, h) = (first.meta.width, first.meta.height);
    let rows = samples.len() as u32;
    let mut sheet = RgbImage::from_pixel(
        5 * w + 4 * GAP,
        rows * h + (rows - 1) * GAP,
        Rgb([255, 255, 255]),
    );
    for (r, s) in samples.iter().enumerate() {
        if (s.meta.width, s.meta.height) != (w, h) {
            bail!(
                "sample {} is {}x{}, the first is {w}x{h}",
                s.meta.key,
                s.meta.width,
                s.meta.height
            );
        }
        for (c, panel) in panels(s).iter().enumerate() {
            let (x0, y0) = (c as u32 * (w + GAP), r as u32 * (h + GAP));
            for (i, px) in panel.iter().enumerate() {
                let (x, y) = (i as u32 % w, i as u32 / w);
                sheet.put_pixel(x0 + x, y0 + y, Rgb(*px));
            }
        }
    }
    crate::write_file::write_file(&a.out, &crate::write_file::png_bytes(&sheet)?)?;
    println!(
        "wrote {} ({} samples; columns: RGB | depth | normals | instances | contours)",
        a.out.display(),
        samples.len()
    );
    Ok(())
}
