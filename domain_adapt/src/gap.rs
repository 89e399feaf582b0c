//! The domain gap, measured: how well a linear classifier tells synthetic
//! from real feature vectors (Ben-David et al.'s proxy A-distance), by
//! two-fold cross-validation so every vector is tested once.

/// Why the gap cannot be measured.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum GapError {
    /// Too few vectors of one domain.
    #[error("the domain gap needs at least 2 {domain} feature vectors, got {count}")]
    TooFew {
        /// `synthetic` or `real`.
        domain: &'static str,
        /// How many there were.
        count: usize,
    },
    /// Vectors of different lengths.
    #[error("feature vectors differ in length ({0} and {1})")]
    Length(usize, usize),
}

/// A domain-gap measurement.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DomainGap {
    /// Held-out accuracy of the linear domain classifier (0.5: indistinguishable).
    pub accuracy: f64,
    /// Proxy A-distance `2·(1 − 2·error)`, clamped to `[0, 2]`.
    pub proxy_a_distance: f64,
}

/// Logistic regression on standardised features, full-batch gradient descent.
struct Linear {
    mean: Vec<f64>,
    scale: Vec<f64>,
    weights: Vec<f64>,
    bias: f64,
}

const STEPS: usize = 300;
const RATE: f64 = 0.5;
const DECAY: f64 = 1e-2;

impl Linear {
    fn fit(rows: &[(&[f32], f64)]) -> Linear {
        let d = rows.first().map(|(r, _)| r.len()).unwrap_or(0);
        let n = rows.len().max(1) as f64;
        let mut mean = vec![0.0; d];
        for (r, _) in rows {
            for (m, v) in mean.iter_mut().zip(*r) {
                *m += *v as f64 / n;
            }
        }
        let mut scale = vec![0.0; d];
        for (r, _) in rows {
            for ((s, v), m) in scale.iter_mut().zip(*r).zip(&mean) {
                *s += (*v as f64 - m).powi(2) / n;
            }
        }
        for s in &mut scale {
            *s = 1.0 / s.sqrt().max(1e-6);
        }
        let mut model = Linear {
            mean,
            scale,
            weights: vec![0.0; d],
            bias: 0.0,
        };
        let xs: Vec<Vec<f64>> = rows.iter().map(|(r, _)| model.standardise(r)).collect();
        for _ in 0..STEPS {
            let mut gw = vec![0.0; d];
            let mut gb = 0.0;
            for (x, (_, y)) in xs.iter().zip(rows) {
                let p = sigmoid(model.logit(x));
                let e = (p - y) / n;
                gb += e;
                for (g, xi) in gw.iter_mut().zip(x) {
                    *g += e * xi;
                }
            }
            for (w, g) in model.weights.iter_mut().zip(&gw) {
                *w -= RATE * (g + DECAY * *w);
            }
            model.bias -= RATE * gb;
        }
        model
    }

    fn standardise(&self, r: &[f32]) -> Vec<f64> {
        r.iter()
            .zip(&self.mean)
            .zip(&self.scale)
            .map(|((v, m), s)| (*v as f64 - m) * s)
            .collect()
    }

    fn logit(&self, x: &[f64]) -> f64 {
        self.bias + x.iter().zip(&self.weights).map(|(a, b)| a * b).sum::<f64>()
    }

    fn says_real(&self, r: &[f32]) -> bool {
        self.logit(&self.standardise(r)) > 0.0
    }
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// Accuracy of a linear classifier separating `synthetic` from `real` feature
/// vectors: each domain is split into alternate halves, a classifier trained
/// on one half of both is tested on the other, and the other way round.
pub fn measure(synthetic: &[Vec<f32>], real: &[Vec<f32>]) -> Result<DomainGap, GapError> {
    for (domain, v) in [("synthetic", synthetic), ("real", real)] {
        if v.len() < 2 {
            return Err(GapError::TooFew {
                domain,
                count: v.len(),
            });
        }
    }
    let d = synthetic[0].len();
    if let Some(bad) = synthetic.iter().chain(real).find(|v| v.len() != d) {
        return Err(GapError::Length(d, bad.len()));
    }
    let labelled: Vec<(&[f32], f64, usize)> = synthetic
        .iter()
        .enumerate()
        .map(|(i, v)| (v.as_slice(), 0.0, i % 2))
        .chain(
            real.iter()
                .enumerate()
                .map(|(i, v)| (v.as_slice(), 1.0, i % 2)),
        )
        .collect();
    let (mut right, mut tested) = (0usize, 0usize);
    for fold in 0..2 {
        let train: Vec<(&[f32], f64)> = labelled
            .iter()
            .filter(|(_, _, f)| *f != fold)
            .map(|(v, y, _)| (*v, *y))
            .collect();
        let model = Linear::fit(&train);
        for (v, y, _) in labelled.iter().filter(|(_, _, f)| *f == fold) {
            right += usize::from(model.says_real(v) == (*y > 0.5));
            tested += 1;
        }
    }
    let accuracy = right as f64 / tested.max(1) as f64;
    Ok(DomainGap {
        accuracy,
        proxy_a_distance: (2.0 * (2.0 * accuracy - 1.0)).clamp(0.0, 2.0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    fn cloud(n: usize, d: usize, shift: f32, seed: u64) -> Vec<Vec<f32>> {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        (0..n)
            .map(|_| {
                (0..d)
                    .map(|j| rng.random_range(-1.0f32..1.0) + if j == 0 { shift } else { 0.0 })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn separable_domains_score_near_one_identical_near_half() {
        let far = measure(&cloud(64, 16, 0.0, 1), &cloud(64, 16, 3.0, 2)).unwrap();
        assert!(far.accuracy > 0.95 && far.proxy_a_distance > 1.6, "{far:?}");
        let same = measure(&cloud(64, 16, 0.0, 3), &cloud(64, 16, 0.0, 4)).unwrap();
        assert!((same.accuracy - 0.5).abs() < 0.15, "{same:?}");
    }

    #[test]
    fn too_few_or_ragged_vectors_are_errors() {
        assert_eq!(
            measure(&cloud(1, 4, 0.0, 1), &cloud(5, 4, 0.0, 2)),
            Err(GapError::TooFew {
                domain: "synthetic",
                count: 1
            })
        );
        assert_eq!(
            measure(&cloud(3, 4, 0.0, 1), &cloud(3, 5, 0.0, 2)),
            Err(GapError::Length(4, 5))
        );
    }
}
