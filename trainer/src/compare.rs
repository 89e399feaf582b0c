//! The comparison across task sets: its config (`compare.toml`), the results
//! it gathers over seeds, and the report it writes (`table.md`,
//! `results.json`, `comparison.png`). The binary's `compare` command runs the
//! entries.

mod chart;
mod config;
mod report;

pub use chart::chart;
pub use config::{
    CompareConfig, CompareError, DEFAULT_CONFIG, DepthSet, Entry, ProbeSet, Source, slug,
};
pub use report::{DepthResult, Metric, RowResult, SeedProbes, summary, table};

use serde::{Deserialize, Serialize};

/// One figure over seeds: the values, their mean and sample standard deviation.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Stat {
    /// Mean of the values.
    pub mean: f64,
    /// Sample standard deviation (n − 1); 0 for a single value.
    pub sd: f64,
    /// One value per seed, in seed order.
    pub values: Vec<f64>,
}

impl Stat {
    /// The mean and spread of `values`.
    pub fn of(values: &[f64]) -> Stat {
        let n = values.len();
        let mean = values.iter().sum::<f64>() / n.max(1) as f64;
        let sd = if n > 1 {
            (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
        } else {
            0.0
        };
        Stat {
            mean,
            sd,
            values: values.to_vec(),
        }
    }

    /// Number of seeds.
    pub fn n(&self) -> usize {
        self.values.len()
    }

    /// True when both figures have a spread (two seeds or more) and their
    /// means differ by no more than the two standard deviations together:
    /// a difference the seeds do not support.
    pub fn within_spread(&self, other: &Stat) -> bool {
        self.n() > 1 && other.n() > 1 && (self.mean - other.mean).abs() <= self.sd + other.sd
    }

    /// The difference of the means in units of the spread of a difference
    /// (`√(sd₁² + sd₂²)`); `None` without a spread.
    pub fn z(&self, other: &Stat) -> Option<f64> {
        let s = (self.sd.powi(2) + other.sd.powi(2)).sqrt();
        (self.n() > 1 && other.n() > 1 && s > 0.0).then(|| (self.mean - other.mean) / s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_and_sample_spread() {
        let s = Stat::of(&[0.80, 0.82, 0.84]);
        assert!((s.mean - 0.82).abs() < 1e-12);
        assert!((s.sd - 0.02).abs() < 1e-12);
        assert_eq!(Stat::of(&[0.5]).sd, 0.0);
        let far = Stat::of(&[0.90, 0.91, 0.92]);
        assert!(!s.within_spread(&far));
        assert!(s.within_spread(&Stat::of(&[0.81, 0.83, 0.85])));
        // One seed: no spread, so nothing is "within" it and there is no z.
        assert!(!Stat::of(&[0.82]).within_spread(&Stat::of(&[0.82])));
        let z = far.z(&s).unwrap();
        assert!((z - 0.09 / (0.0001f64 + 0.0004).sqrt()).abs() < 1e-9, "{z}");
    }
}
