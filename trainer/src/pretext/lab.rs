//! CIE Lab for colorization (Zhang et al. 2016): sRGB ↔ Lab (D65), the
//! quantised in-gamut ab bins, soft encoding, class rebalancing and the
//! annealed-mean decoding.

/// D65 white point (X, Y, Z) with Y = 1.
const WHITE: [f32; 3] = [0.950_47, 1.0, 1.088_83];

fn srgb_to_linear(v: f32) -> f32 {
    if v <= 0.040_45 {
        v / 12.92
    } else {
        ((v + 0.055) / 1.055).powf(2.4)
    }
}

fn linear_to_srgb(v: f32) -> f32 {
    if v <= 0.003_130_8 {
        v * 12.92
    } else {
        1.055 * v.powf(1.0 / 2.4) - 0.055
    }
}

fn f(t: f32) -> f32 {
    const D: f32 = 6.0 / 29.0;
    if t > D * D * D {
        t.cbrt()
    } else {
        t / (3.0 * D * D) + 4.0 / 29.0
    }
}

fn f_inv(t: f32) -> f32 {
    const D: f32 = 6.0 / 29.0;
    if t > D {
        t * t * t
    } else {
        3.0 * D * D * (t - 4.0 / 29.0)
    }
}

/// sRGB in `[0, 1]` to Lab (L in `[0, 100]`, a and b roughly in `[-110, 110]`).
pub fn rgb_to_lab(rgb: [f32; 3]) -> [f32; 3] {
    let [r, g, b] = rgb.map(srgb_to_linear);
    let x = 0.412_456_4 * r + 0.357_576_1 * g + 0.180_437_5 * b;
    let y = 0.212_672_9 * r + 0.715_152_2 * g + 0.072_175 * b;
    let z = 0.019_333_9 * r + 0.119_192 * g + 0.950_304_1 * b;
    let [fx, fy, fz] = [x / WHITE[0], y / WHITE[1], z / WHITE[2]].map(f);
    [116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)]
}

/// Lab to sRGB, clamped to `[0, 1]`.
pub fn lab_to_rgb(lab: [f32; 3]) -> [f32; 3] {
    let fy = (lab[0] + 16.0) / 116.0;
    let fx = fy + lab[1] / 500.0;
    let fz = fy - lab[2] / 200.0;
    let [x, y, z] = [
        WHITE[0] * f_inv(fx),
        WHITE[1] * f_inv(fy),
        WHITE[2] * f_inv(fz),
    ];
    let r = 3.240_454_2 * x - 1.537_138_5 * y - 0.498_531_4 * z;
    let g = -0.969_266 * x + 1.876_010_8 * y + 0.041_556 * z;
    let b = 0.055_643_4 * x - 0.204_025_9 * y + 1.057_225_2 * z;
    [r, g, b].map(|v| linear_to_srgb(v.clamp(0.0, 1.0)).clamp(0.0, 1.0))
}

/// The quantised ab space: the square bins of side `step` that some sRGB
/// colour falls in (261 at the paper's step of 10; the paper counts 313 on
/// its own estimate of the gamut).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AbBins {
    /// Bin side in ab units.
    pub step: f32,
    /// Bin centres `(a, b)`.
    pub centres: Vec<[f32; 2]>,
}

impl AbBins {
    /// The in-gamut bins at `step`, found by converting a 64³ grid of sRGB colours.
    pub fn in_gamut(step: f32) -> Self {
        let mut hit = std::collections::BTreeSet::new();
        const N: usize = 64;
        for r in 0..N {
            for g in 0..N {
                for b in 0..N {
                    let rgb = [r, g, b].map(|v| v as f32 / (N - 1) as f32);
                    let [_, a, bb] = rgb_to_lab(rgb);
                    hit.insert(((a / step).round() as i32, (bb / step).round() as i32));
                }
            }
        }
        AbBins {
            step,
            centres: hit
                .into_iter()
                .map(|(i, j)| [i as f32 * step, j as f32 * step])
                .collect(),
        }
    }

    /// Number of bins.
    pub fn len(&self) -> usize {
        self.centres.len()
    }

    /// True when there are no bins.
    pub fn is_empty(&self) -> bool {
        self.centres.is_empty()
    }

    /// The nearest bin to `ab`.
    pub fn nearest(&self, ab: [f32; 2]) -> usize {
        self.nearest_k(ab, 1).first().map(|p| p.0).unwrap_or(0)
    }

    /// The `k` nearest bins to `ab`, nearest first, with squared distances.
    fn nearest_k(&self, ab: [f32; 2], k: usize) -> Vec<(usize, f32)> {
        let mut d: Vec<(usize, f32)> = self
            .centres
            .iter()
            .enumerate()
            .map(|(i, c)| (i, (c[0] - ab[0]).powi(2) + (c[1] - ab[1]).powi(2)))
            .collect();
        let k = k.min(d.len());
        if k == 0 {
            return d;
        }
        d.select_nth_unstable_by(k - 1, |a, b| a.1.total_cmp(&b.1));
        d.truncate(k);
        d.sort_by(|a, b| a.1.total_cmp(&b.1));
        d
    }

    /// The paper's soft encoding: the 5 nearest bins, weighted by a Gaussian
    /// (σ = 5) of their distance, summing to 1.
    pub fn soft_encode(&self, ab: [f32; 2]) -> Vec<(usize, f32)> {
        let near = self.nearest_k(ab, 5);
        let w: Vec<f32> = near
            .iter()
            .map(|(_, d)| (-d / (2.0 * 25.0)).exp())
            .collect();
        let sum: f32 = w.iter().sum::<f32>().max(1e-12);
        near.iter()
            .zip(w)
            .map(|((i, _), w)| (*i, w / sum))
            .collect()
    }

    /// Class-rebalancing weights from bin counts: the empirical distribution,
    /// smoothed by a Gaussian (σ = 5), mixed with the uniform one (`lambda`),
    /// inverted and normalised so its expectation under the smoothed
    /// distribution is 1.
    pub fn rebalancing_weights(&self, counts: &[f64], lambda: f64) -> Vec<f32> {
        let total: f64 = counts.iter().sum::<f64>().max(1.0);
        let p: Vec<f64> = counts.iter().map(|c| c / total).collect();
        let q = self.len();
        let mut smooth = vec![0.0f64; q];
        for (i, ci) in self.centres.iter().enumerate() {
            let mut acc = 0.0;
            let mut norm = 0.0;
            for (j, cj) in self.centres.iter().enumerate() {
                let d2 = f64::from((ci[0] - cj[0]).powi(2) + (ci[1] - cj[1]).powi(2));
                let k = (-d2 / 50.0).exp();
                acc += k * p.get(j).copied().unwrap_or(0.0);
                norm += k;
            }
            smooth[i] = acc / norm.max(1e-12);
        }
        let s: f64 = smooth.iter().sum::<f64>().max(1e-12);
        smooth.iter_mut().for_each(|v| *v /= s);
        let w: Vec<f64> = smooth
            .iter()
            .map(|p| 1.0 / ((1.0 - lambda) * p + lambda / q as f64))
            .collect();
        let expectation: f64 = w.iter().zip(&smooth).map(|(w, p)| w * p).sum();
        w.iter()
            .map(|v| (v / expectation.max(1e-12)) as f32)
            .collect()
    }

    /// The annealed mean of a distribution over the bins: probabilities raised
    /// to 1/`temperature`, renormalised, then averaged over the bin centres.
    pub fn annealed_mean(&self, probs: &[f32], temperature: f32) -> [f32; 2] {
        let max = probs.iter().copied().fold(f32::MIN, f32::max).max(1e-30);
        let w: Vec<f32> = probs
            .iter()
            .map(|p| (p / max).max(0.0).powf(1.0 / temperature))
            .collect();
        let sum: f32 = w.iter().sum::<f32>().max(1e-30);
        let mut ab = [0.0f32; 2];
        for (wi, c) in w.iter().zip(&self.centres) {
            ab[0] += wi * c[0] / sum;
            ab[1] += wi * c[1] / sum;
        }
        ab
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rgb_lab_rgb_round_trips_within_one_level() {
        let mut worst = 0.0f32;
        for r in 0..16 {
            for g in 0..16 {
                for b in 0..16 {
                    let rgb = [r, g, b].map(|v| v as f32 / 15.0);
                    let back = lab_to_rgb(rgb_to_lab(rgb));
                    for c in 0..3 {
                        worst = worst.max((back[c] - rgb[c]).abs());
                    }
                }
            }
        }
        assert!(worst < 1.0 / 255.0, "worst error {worst}");
        // White is L 100, a = b = 0.
        let w = rgb_to_lab([1.0; 3]);
        assert!((w[0] - 100.0).abs() < 0.01 && w[1].abs() < 0.01 && w[2].abs() < 0.01);
    }

    #[test]
    fn the_papers_grid_has_a_few_hundred_in_gamut_bins() {
        let bins = AbBins::in_gamut(10.0);
        assert!((240..=330).contains(&bins.len()), "{}", bins.len());
        assert!(bins.centres.contains(&[0.0, 0.0]));
        assert!(AbBins::in_gamut(20.0).len() < 100);
    }

    #[test]
    fn soft_encoding_peaks_at_the_nearest_bin_and_sums_to_one() {
        let bins = AbBins::in_gamut(10.0);
        let ab = [12.0, -31.0];
        let soft = bins.soft_encode(ab);
        assert_eq!(soft.len(), 5);
        assert_eq!(soft[0].0, bins.nearest(ab));
        assert!((soft.iter().map(|s| s.1).sum::<f32>() - 1.0).abs() < 1e-5);
        // The annealed mean of a one-hot distribution is that bin's centre.
        let mut p = vec![0.0; bins.len()];
        p[soft[0].0] = 1.0;
        assert_eq!(bins.annealed_mean(&p, 0.38), bins.centres[soft[0].0]);
    }

    #[test]
    fn rebalancing_favours_rare_colours_with_unit_expectation() {
        let bins = AbBins::in_gamut(20.0);
        let grey = bins.nearest([0.0, 0.0]);
        let mut counts = vec![1.0; bins.len()];
        counts[grey] = 1000.0;
        let w = bins.rebalancing_weights(&counts, 0.5);
        let rare = (grey + bins.len() / 2) % bins.len();
        assert!(w[grey] < w[rare]);
    }
}
