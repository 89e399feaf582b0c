//! Real depth: the depth head on real RGB with ground-truth depth or
//! disparity, median-scaled to the truth, scored by abs-rel, RMSE and
//! δ < 1.25 (the scale-invariant protocol of monocular depth papers).
//!
//! Pairs in a folder: `NAME.png|jpg` with `NAME_depth.*`, `NAME.depth.*` or
//! `NAME_disp.*` (a trailing `_left`, `_rgb` or `_color` of the image's name
//! is dropped first), `rgb/NAME.*` with `depth/NAME.*`, Middlebury 2014
//! scenes (`im0.png`, `disp0.pfm`, `calib.txt`) and Middlebury 2001–2006
//! scenes (`viewN.png` or `imN.png` with `dispN.png`, 8-bit, 0 = unknown).
//! Depth files: 16-bit PNG or integer arrays in millimetres, float arrays in
//! metres; disparity files (`disp` in the name) in pixels (a PNG's values
//! divided by the disparity scale), turned into depth with the calibration.

use std::path::{Path, PathBuf};

use super::arrays::{self, Map};
use crate::real::decode;

/// Camera calibration for disparity: `depth_mm = focal_px · baseline_mm / (disparity + doffs_px)`.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Calibration {
    /// Focal length, pixels (at the disparity map's resolution).
    pub focal_px: f64,
    /// Stereo baseline, millimetres.
    pub baseline_mm: f64,
    /// Difference of the principal points' x, pixels (Middlebury's `doffs`).
    pub doffs_px: f64,
}

impl Calibration {
    /// Reads Middlebury's `calib.txt` (`cam0=[f 0 cx; …]`, `doffs=`, `baseline=`).
    pub fn from_middlebury(text: &str) -> Result<Self, String> {
        let field = |key: &str| {
            text.lines()
                .find_map(|l| l.trim().strip_prefix(key)?.trim_start().strip_prefix('='))
                .map(str::trim)
        };
        let cam0 = field("cam0").ok_or("no `cam0=` line")?;
        let focal_px = cam0
            .trim_start_matches('[')
            .split_whitespace()
            .next()
            .and_then(|f| f.parse().ok())
            .ok_or_else(|| format!("cannot read the focal length in `cam0={cam0}`"))?;
        let num = |key: &str| -> Result<f64, String> {
            field(key)
                .ok_or_else(|| format!("no `{key}=` line"))?
                .parse()
                .map_err(|_| format!("`{key}` is not a number"))
        };
        Ok(Calibration {
            focal_px,
            baseline_mm: num("baseline")?,
            doffs_px: num("doffs").unwrap_or(0.0),
        })
    }

    /// Depth in metres of each disparity (0 where the disparity is not positive and finite).
    pub fn depth_m(&self, disparity: &[f32]) -> Vec<f32> {
        disparity
            .iter()
            .map(|d| {
                let z = self.focal_px * self.baseline_mm / (f64::from(*d) + self.doffs_px) / 1000.0;
                if d.is_finite() && *d > 0.0 && z.is_finite() && z > 0.0 {
                    z as f32
                } else {
                    0.0
                }
            })
            .collect()
    }
}

/// An RGB image and its ground truth.
#[derive(Clone, Debug, PartialEq)]
pub struct Pair {
    /// The image.
    pub rgb: PathBuf,
    /// Its depth or disparity file.
    pub truth: PathBuf,
    /// The truth is disparity (needs a calibration).
    pub disparity: bool,
}

fn is_disparity(p: &Path) -> bool {
    p.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.contains("disp"))
}

/// The ground-truth file for image `rgb`, if one sits where the conventions say.
fn truth_for(rgb: &Path) -> Option<PathBuf> {
    let dir = rgb.parent()?;
    let stem = rgb.file_stem()?.to_str()?;
    let exts = ["png", "npy", "npz", "pfm"];
    if stem == "im0" && dir.join("disp0.pfm").is_file() {
        return Some(dir.join("disp0.pfm"));
    }
    // Middlebury 2001–2006: view1.png / im2.png beside disp1.png / disp2.png.
    if let Some(n) = stem
        .strip_prefix("view")
        .or_else(|| stem.strip_prefix("im"))
        && !n.is_empty()
        && n.chars().all(|c| c.is_ascii_digit())
    {
        return Some(dir.join(format!("disp{n}.png"))).filter(|p| p.is_file());
    }
    let base = ["_left", "_rgb", "_color"]
        .iter()
        .find_map(|s| stem.strip_suffix(s))
        .unwrap_or(stem);
    for name in [
        format!("{base}_depth"),
        format!("{base}.depth"),
        format!("{base}_disp"),
    ] {
        for ext in exts {
            let p = dir.join(format!("{name}.{ext}"));
            if p.is_file() {
                return Some(p);
            }
        }
    }
    if dir.file_name()? == "rgb" {
        let depth_dir = dir.parent()?.join("depth");
        return exts
            .iter()
            .map(|e| depth_dir.join(format!("{stem}.{e}")))
            .find(|p| p.is_file());
    }
    None
}

/// Every image under `dir` (recursively) with ground truth, sorted.
pub fn find_pairs(dir: &Path) -> Vec<Pair> {
    let mut files = Vec::new();
    crate::real::image_files(dir, &mut files);
    files
        .into_iter()
        .filter(|p| {
            let n = p.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
            !n.contains("depth")
                && !n.contains("disp")
                && !p.components().any(|c| c.as_os_str() == "depth")
        })
        .filter_map(|rgb| {
            let truth = truth_for(&rgb)?;
            Some(Pair {
                disparity: is_disparity(&truth),
                rgb,
                truth,
            })
        })
        .collect()
}

/// The ground truth of `pair` in metres (0 = no measurement), with the
/// calibration `calibration` (else the pair's folder's `calib.txt`) for
/// disparity, and a disparity PNG's values divided by `disparity_scale`.
pub fn truth_m(
    pair: &Pair,
    calibration: Option<Calibration>,
    disparity_scale: f64,
) -> Result<Map, String> {
    let is_png = pair
        .truth
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("png"));
    let mut map = if pair.disparity && is_png {
        std::fs::read(&pair.truth)
            .map_err(|e| e.to_string())
            .and_then(|b| arrays::disparity_png(&b, disparity_scale))
    } else {
        arrays::read(&pair.truth)
    }
    .map_err(|e| format!("{}: {e}", pair.truth.display()))?;
    if pair.disparity {
        let calib = match calibration {
            Some(c) => c,
            None => {
                let path = pair.truth.with_file_name("calib.txt");
                let text = std::fs::read_to_string(&path).map_err(|_| {
                    format!(
                        "{} is disparity and needs a calibration: a calib.txt beside it, or --focal-px and --baseline-mm",
                        pair.truth.display()
                    )
                })?;
                Calibration::from_middlebury(&text)
                    .map_err(|e| format!("{}: {e}", path.display()))?
            }
        };
        map.values = calib.depth_m(&map.values);
    } else {
        let scale = if map.integer { 1e-3 } else { 1.0 };
        for v in &mut map.values {
            *v = if v.is_finite() && *v > 0.0 {
                *v * scale
            } else {
                0.0
            };
        }
    }
    Ok(map)
}

/// The truth averaged onto the `out × out` grid of the network's view of an
/// image of `rgb_size` (scaled so its shorter side is the input, centre-cropped):
/// each cell the mean of its valid truth pixels, 0 where it has none.
pub fn truth_on_grid(truth: &Map, rgb_size: (u32, u32), out: usize) -> Vec<f32> {
    let (w, h) = (f64::from(rgb_size.0.max(1)), f64::from(rgb_size.1.max(1)));
    let side = w.min(h);
    let (x0, y0) = ((w - side) / 2.0, (h - side) / 2.0);
    let (sx, sy) = (truth.width as f64 / w, truth.height as f64 / h);
    let cell = side / out as f64;
    let mut grid = vec![0.0f32; out * out];
    for gy in 0..out {
        for gx in 0..out {
            let tx0 = ((x0 + gx as f64 * cell) * sx).floor() as usize;
            let tx1 = (((x0 + (gx + 1) as f64 * cell) * sx).ceil() as usize)
                .min(truth.width)
                .max(tx0 + 1);
            let ty0 = ((y0 + gy as f64 * cell) * sy).floor() as usize;
            let ty1 = (((y0 + (gy + 1) as f64 * cell) * sy).ceil() as usize)
                .min(truth.height)
                .max(ty0 + 1);
            let (mut sum, mut n) = (0.0f64, 0usize);
            for ty in ty0..ty1.min(truth.height) {
                for tx in tx0..tx1.min(truth.width) {
                    let v = truth.values[ty * truth.width + tx];
                    if v > 0.0 {
                        sum += f64::from(v);
                        n += 1;
                    }
                }
            }
            grid[gy * out + gx] = if n > 0 { (sum / n as f64) as f32 } else { 0.0 };
        }
    }
    grid
}

/// Scale-invariant depth errors.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct DepthMetrics {
    /// Mean |s·p − t| / t.
    pub abs_rel: f64,
    /// √mean (s·p − t)², metres.
    pub rmse_m: f64,
    /// Fraction with max(s·p/t, t/(s·p)) < 1.25.
    pub delta1: f64,
    /// Pixels scored.
    pub pixels: usize,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Errors of `prediction` against `truth` (metres; truth 0 = unknown) after
/// scaling the prediction by median(truth) / median(prediction) over the
/// valid pixels; `None` without a valid pixel.
pub fn median_scaled(prediction: &[f32], truth: &[f32]) -> Option<DepthMetrics> {
    let pairs: Vec<(f64, f64)> = prediction
        .iter()
        .zip(truth)
        .filter(|(p, t)| **t > 0.0 && t.is_finite() && **p > 0.0 && p.is_finite())
        .map(|(p, t)| (f64::from(*p), f64::from(*t)))
        .collect();
    if pairs.is_empty() {
        return None;
    }
    let s = median(pairs.iter().map(|(_, t)| *t).collect())
        / median(pairs.iter().map(|(p, _)| *p).collect());
    let n = pairs.len() as f64;
    let (mut rel, mut sq, mut good) = (0.0, 0.0, 0usize);
    for (p, t) in &pairs {
        let q = s * p;
        rel += (q - t).abs() / t;
        sq += (q - t).powi(2);
        good += usize::from((q / t).max(t / q) < 1.25);
    }
    Some(DepthMetrics {
        abs_rel: rel / n,
        rmse_m: (sq / n).sqrt(),
        delta1: good as f64 / n,
        pixels: pairs.len(),
    })
}

/// Pixel-weighted mean of per-image metrics.
pub fn pooled_metrics(all: &[DepthMetrics]) -> Option<DepthMetrics> {
    let n: usize = all.iter().map(|m| m.pixels).sum();
    if n == 0 {
        return None;
    }
    let w = |f: fn(&DepthMetrics) -> f64| {
        all.iter().map(|m| f(m) * m.pixels as f64).sum::<f64>() / n as f64
    };
    Some(DepthMetrics {
        abs_rel: w(|m| m.abs_rel),
        rmse_m: (all
            .iter()
            .map(|m| m.rmse_m.powi(2) * m.pixels as f64)
            .sum::<f64>()
            / n as f64)
            .sqrt(),
        delta1: w(|m| m.delta1),
        pixels: n,
    })
}

/// One row of the real-depth table.
#[derive(Clone, Debug, serde::Serialize)]
pub struct DepthRow {
    /// What predicted (a run, `random init`, `constant`).
    pub name: String,
    /// Pixel-weighted over every pair.
    pub metrics: DepthMetrics,
}

/// Scores each model's depth head, and the constant baseline (the truth's
/// median everywhere), on `pairs`: inputs of `size` pixels, errors on the
/// `out × out` grid. Pairs that cannot be read are skipped with a warning
/// (counted in the second value); none readable is an error.
pub fn evaluate<B: burn::tensor::backend::Backend>(
    models: &[(String, &crate::train::MultiTaskModel<B>)],
    pairs: &[Pair],
    calibration: Option<Calibration>,
    disparity_scale: f64,
    size: usize,
    out: usize,
    device: &B::Device,
) -> Result<(Vec<DepthRow>, usize), String> {
    let mut per_model: Vec<Vec<DepthMetrics>> = vec![Vec::new(); models.len() + 1];
    let mut skipped = 0;
    for pair in pairs {
        let loaded = decode::read_file(&pair.rgb)
            .and_then(|rgb| Ok((truth_m(pair, calibration, disparity_scale)?, rgb)));
        let (truth, rgb) = match loaded {
            Ok(x) => x,
            Err(e) => {
                tracing::warn!("skipping depth pair: {e}");
                skipped += 1;
                continue;
            }
        };
        let grid = truth_on_grid(&truth, rgb.dimensions(), out);
        let input = crate::real::to_tensor::<B>(&[decode::centred(&rgb, size)], size, device);
        for (k, (_, model)) in models.iter().enumerate() {
            let Some(task) = &model.tasks.depth else {
                continue;
            };
            let f = model
                .backbone
                .forward(crate::train::normalise(input.clone()));
            let pred = task.predict(f.top().clone(), [out, out]);
            let pred = pred
                .into_data()
                .convert::<f32>()
                .to_vec::<f32>()
                .unwrap_or_default();
            if let Some(m) = median_scaled(&pred, &grid) {
                per_model[k].push(m);
            }
        }
        if let Some(m) = median_scaled(&vec![1.0; grid.len()], &grid) {
            per_model[models.len()].push(m);
        }
    }
    let names = models
        .iter()
        .map(|(n, _)| n.clone())
        .chain(["constant (truth median)".to_string()]);
    let rows: Vec<DepthRow> = names
        .zip(&per_model)
        .filter_map(|(name, all)| {
            Some(DepthRow {
                name,
                metrics: pooled_metrics(all)?,
            })
        })
        .collect();
    if rows.is_empty() {
        return Err(format!("no usable pair ({skipped} skipped)"));
    }
    Ok((rows, skipped))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_scaling_removes_a_global_scale() {
        let truth = [1.0f32, 2.0, 4.0, 0.0];
        let m = median_scaled(&[10.0, 20.0, 40.0, 5.0], &truth).unwrap();
        assert!(m.abs_rel < 1e-9 && m.rmse_m < 1e-9 && m.delta1 == 1.0 && m.pixels == 3);
        // Prediction 1, 1, 1 scaled by median(t)=2 → 2, 2, 2: |2−1|/1, 0, |2−4|/4.
        let m = median_scaled(&[1.0, 1.0, 1.0, 1.0], &truth).unwrap();
        assert!((m.abs_rel - (1.0 + 0.0 + 0.5) / 3.0).abs() < 1e-9, "{m:?}");
        assert!((m.rmse_m - ((1.0 + 0.0 + 4.0) / 3.0f64).sqrt()).abs() < 1e-9);
        assert!(
            (m.delta1 - 1.0 / 3.0).abs() < 1e-9,
            "only the middle pixel is within 1.25"
        );
        assert!(median_scaled(&[1.0], &[0.0]).is_none());
    }

    #[test]
    fn disparity_becomes_depth_with_the_calibration() {
        let c = Calibration::from_middlebury(
            "cam0=[994.978 0 311.193; 0 994.978 254.877; 0 0 1]\ncam1=[994.978 0 342.279; 0 994.978 254.877; 0 0 1]\ndoffs=31.086\nbaseline=193.001\nwidth=741\n",
        )
        .unwrap();
        assert_eq!(
            (c.focal_px, c.baseline_mm, c.doffs_px),
            (994.978, 193.001, 31.086)
        );
        let z = c.depth_m(&[68.914, 0.0, f32::INFINITY]);
        // 994.978 · 193.001 / (68.914 + 31.086) mm = 1920.3 mm.
        assert!((z[0] - 1.92033).abs() < 1e-4, "{z:?}");
        assert_eq!(&z[1..], &[0.0, 0.0]);
        assert!(
            Calibration::from_middlebury("doffs=1\n")
                .unwrap_err()
                .contains("cam0")
        );
    }

    #[test]
    fn middlebury_8_bit_disparity_pngs_are_scaled_and_zero_is_unknown() {
        let dir = tempfile::tempdir().unwrap();
        let img = image::GrayImage::from_raw(3, 1, vec![0, 90, 255]).unwrap();
        img.save(dir.path().join("disp1.png")).unwrap();
        image::RgbImage::new(3, 1)
            .save(dir.path().join("view1.png"))
            .unwrap();
        let pairs = find_pairs(dir.path());
        assert_eq!(pairs.len(), 1);
        let c = Calibration {
            focal_px: 1000.0,
            baseline_mm: 100.0,
            doffs_px: 0.0,
        };
        // Third size: stored 90 is disparity 30 px, so 1000 · 100 / 30 mm.
        let m = truth_m(&pairs[0], Some(c), 3.0).unwrap();
        assert_eq!(m.values[0], 0.0, "0 = unknown");
        assert!((m.values[1] - 100.0 / 30.0).abs() < 1e-5, "{:?}", m.values);
        assert!((m.values[2] - 100.0 / 85.0).abs() < 1e-5, "{:?}", m.values);
        let e = truth_m(&pairs[0], Some(c), 0.0).unwrap_err();
        assert!(e.contains("disp1.png") && e.contains("scale"), "{e}");
        image::RgbImage::new(3, 1)
            .save(dir.path().join("disp1.png"))
            .unwrap();
        let e = truth_m(&pairs[0], Some(c), 1.0).unwrap_err();
        assert!(e.contains("8- or 16-bit grey"), "{e}");
    }

    #[test]
    fn truth_is_averaged_over_the_networks_centre_crop() {
        // A 4×2 truth for a 4×2 image: the centre 2×2 crop, onto a 1×1 grid.
        let t = Map {
            width: 4,
            height: 2,
            values: vec![9.0, 1.0, 3.0, 9.0, 9.0, 0.0, 2.0, 9.0],
            integer: false,
        };
        assert_eq!(truth_on_grid(&t, (4, 2), 1), vec![2.0]);
        // At half resolution the same region maps to the middle 1×1 pixel... of a 2×1 map: both halves.
        let half = Map {
            width: 2,
            height: 1,
            values: vec![4.0, 6.0],
            integer: false,
        };
        assert_eq!(truth_on_grid(&half, (4, 2), 1), vec![5.0]);
    }

    #[test]
    fn pairs_follow_the_naming_conventions() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        let touch = |rel: &str| {
            let f = p.join(rel);
            std::fs::create_dir_all(f.parent().unwrap()).unwrap();
            std::fs::write(f, b"x").unwrap();
        };
        for f in [
            "a.png",
            "a_depth.png",
            "motorcycle_left.png",
            "motorcycle_disp.npz",
            "lone.jpg",
            "scene/im0.png",
            "scene/disp0.pfm",
            "set/rgb/k.png",
            "set/depth/k.npy",
            "art/view1.png",
            "art/disp1.png",
            "art/view5.png",
            "cones/im2.png",
            "cones/disp2.png",
        ] {
            touch(f);
        }
        let pairs = find_pairs(p);
        let names: Vec<(String, bool)> = pairs
            .iter()
            .map(|q| {
                (
                    q.truth.strip_prefix(p).unwrap().display().to_string(),
                    q.disparity,
                )
            })
            .collect();
        assert_eq!(
            names,
            vec![
                ("a_depth.png".to_string(), false),
                ("art/disp1.png".to_string(), true),
                ("cones/disp2.png".to_string(), true),
                ("motorcycle_disp.npz".to_string(), true),
                ("scene/disp0.pfm".to_string(), true),
                ("set/depth/k.npy".to_string(), false),
            ]
        );
    }
}
