//! `compare.toml`: the entries, their shared budget and seeds, and the sets
//! they are probed on.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The built-in `compare.toml`.
pub const DEFAULT_CONFIG: &str = r#"# synthfeat compare: every entry pretrains the same backbone for the same
# budget (steps, or wall-clock minutes with `minutes = M`, steps then being
# the cap) once per seed (seed, seed + 1, …), then is probed on every data set
# below (and scored on real depth where it has a depth head). A random-init
# row (one random backbone per seed) is always added. Cells give the mean and
# standard deviation over the seeds. Paths are relative to this file.
steps = 600
seed = 0
seeds = 3
# Synthetic training data: a dataset folder from `synthfeat generate`, or live = true.
data = "data"
live = false
# Real, unlabelled images: the adaptation target of entries with `da`, and the
# training images of entries with `source = "real"`.
real = ["/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"]
# Extra `synthfeat train` flags shared by every entry.
train_args = []

# Linear and k-NN probes: 200 training images per class, the whole test split
# (Fashion-MNIST has 1,000 per class).
[[probe]]
name = "fashion-mnist"
path = "/usr/share/datasets/fashion-mnist"
limit_per_class = 200
test_limit_per_class = 1000

[[entry]]
name = "depth"
tasks = ["depth"]

[[entry]]
name = "normal"
tasks = ["normal"]

[[entry]]
name = "contour"
tasks = ["contour"]

[[entry]]
name = "depth+normal+contour"
tasks = ["depth", "normal", "contour"]

[[entry]]
name = "depth+normal+contour, adversarial"
tasks = ["depth", "normal", "contour"]
da = "adversarial"

# Contrastive learning (SimCLR) on rendered frames only, and on the real images only.
[[entry]]
name = "simclr"
tasks = ["simclr"]

[[entry]]
name = "simclr, real only"
tasks = ["simclr"]
source = "real"

[[entry]]
name = "depth+normal+contour+simclr"
tasks = ["depth", "normal", "contour", "simclr"]

[[entry]]
name = "depth+normal+contour+simclr, adversarial"
tasks = ["depth", "normal", "contour", "simclr"]
da = "adversarial"

# The classic pretext tasks, each alone on the same synthetic frames.
[[entry]]
name = "rotation"
tasks = ["rotation"]

[[entry]]
name = "jigsaw"
tasks = ["jigsaw"]

[[entry]]
name = "relative-position"
tasks = ["relative-position"]

[[entry]]
name = "colorization"
tasks = ["colorization"]

[[entry]]
name = "inpainting"
tasks = ["inpainting"]

[[entry]]
name = "next-pixel"
tasks = ["next-pixel"]

# Everything together: the synthetic tasks, every pretext task, contrastive and adaptation.
[[entry]]
name = "everything"
tasks = ["depth", "normal", "contour", "rotation", "jigsaw", "relative-position", "colorization", "inpainting", "next-pixel", "simclr"]
da = "adversarial"
"#;

/// Invalid or unreadable comparison config; names the file or field.
#[derive(Debug, thiserror::Error)]
pub enum CompareError {
    /// The file cannot be read or parsed.
    #[error("{path}: {message}")]
    File {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// A value is wrong.
    #[error("compare config: {0}")]
    Invalid(String),
}

/// A labelled set every entry is probed on.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProbeSet {
    /// Column name.
    pub name: String,
    /// The set's folder.
    pub path: PathBuf,
    /// `imagefolder`, `idx` or `cifar` (detected when left out).
    pub format: Option<String>,
    /// Images per class in each split.
    pub limit_per_class: Option<usize>,
    /// Images per class in the test split, if not `limit_per_class`.
    pub test_limit_per_class: Option<usize>,
    /// Layers (every layer when left out).
    pub layers: Option<Vec<String>>,
    /// Batch-norm statistics of the probe: `trained` or `target` (`--norm-stats`).
    pub norm_stats: Option<String>,
}

/// Real RGB-D pairs for entries with a depth head.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DepthSet {
    /// The folder (see `synthfeat eval depth`).
    pub path: PathBuf,
    /// Disparity calibration: focal length, pixels.
    pub focal_px: Option<f64>,
    /// Disparity calibration: baseline, millimetres.
    pub baseline_mm: Option<f64>,
    /// Disparity calibration: doffs, pixels.
    pub doffs: Option<f64>,
}

/// What an entry trains on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// The synthetic frames (`data`, or live), adapting toward `real` with `da`.
    #[default]
    Synthetic,
    /// The `real` images alone (image-only tasks: pretext and contrastive).
    Real,
}

/// One pretraining configuration.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// Row name (also its run folder's name).
    pub name: String,
    /// Tasks, as `--tasks` spells them.
    pub tasks: Vec<String>,
    /// Adaptation method (`--da`), none when left out.
    pub da: Option<String>,
    /// Its weight (`--da-weight`).
    pub da_weight: Option<f64>,
    /// Training images: `synthetic` (default) or `real`.
    #[serde(default)]
    pub source: Source,
    /// More `synthfeat train` flags for this entry (after the shared ones; a
    /// flag may not be in both).
    #[serde(default)]
    pub train_args: Vec<String>,
}

/// A whole comparison.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompareConfig {
    /// Training steps of every entry (the cap when `minutes` is given).
    pub steps: u64,
    /// Wall-clock budget of every entry's training, minutes (else steps alone).
    pub minutes: Option<f64>,
    /// Seed of every entry's first run (and of the random-init row's).
    pub seed: u64,
    /// Runs per entry, seeded `seed`, `seed + 1`, …; cells give mean ± sd.
    #[serde(default = "one")]
    pub seeds: u64,
    /// Synthetic dataset folder (unless `live`).
    pub data: Option<PathBuf>,
    /// Train on live-rendered frames.
    #[serde(default)]
    pub live: bool,
    /// Real images for adaptation.
    #[serde(default)]
    pub real: Vec<PathBuf>,
    /// More `synthfeat train` flags for every entry.
    #[serde(default)]
    pub train_args: Vec<String>,
    /// Labelled sets to probe on.
    pub probe: Vec<ProbeSet>,
    /// Real depth pairs.
    pub depth: Option<DepthSet>,
    /// The entries.
    pub entry: Vec<Entry>,
}

fn one() -> u64 {
    1
}

/// Folder-safe form of an entry name.
pub fn slug(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '+' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

impl CompareConfig {
    /// Parses TOML text; relative paths are taken from `base`.
    pub fn parse(text: &str, origin: &Path, base: &Path) -> Result<Self, CompareError> {
        let mut c: CompareConfig = toml::from_str(text).map_err(|e| CompareError::File {
            path: origin.to_path_buf(),
            message: e.to_string().trim().to_string(),
        })?;
        let fix = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        c.data.iter_mut().for_each(fix);
        c.real.iter_mut().for_each(fix);
        c.probe.iter_mut().for_each(|s| fix(&mut s.path));
        c.depth.iter_mut().for_each(|d| fix(&mut d.path));
        c.validate()?;
        Ok(c)
    }

    /// Reads a TOML file.
    pub fn from_file(path: &Path) -> Result<Self, CompareError> {
        let text = std::fs::read_to_string(path).map_err(|e| CompareError::File {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        Self::parse(&text, path, path.parent().unwrap_or(Path::new(".")))
    }

    fn validate(&self) -> Result<(), CompareError> {
        let bad = |m: String| Err(CompareError::Invalid(m));
        if self.steps == 0 {
            return bad("`steps` must be at least 1".into());
        }
        if self.seeds == 0 {
            return bad("`seeds` must be at least 1, got 0".into());
        }
        if let Some(m) = self.minutes
            && !(m > 0.0 && m.is_finite())
        {
            return bad(format!("`minutes` must be a positive number, got {m}"));
        }
        if self.data.is_none() && !self.live {
            return bad("give `data` (a dataset folder) or `live = true`".into());
        }
        if self.probe.is_empty() {
            return bad("no `[[probe]]` data set".into());
        }
        if self.entry.is_empty() {
            return bad("no `[[entry]]`".into());
        }
        let mut seen = std::collections::HashSet::new();
        for e in &self.entry {
            if !seen.insert(slug(&e.name)) || slug(&e.name) == "random" {
                return bad(format!(
                    "entry name `{}` is used twice (or is `random`)",
                    e.name
                ));
            }
            if let Some(t) = e
                .tasks
                .iter()
                .find(|t| !crate::tasks::TASK_NAMES.contains(&t.as_str()))
            {
                return bad(format!(
                    "entry `{}` names unknown task `{t}` (known: {})",
                    e.name,
                    crate::tasks::TASK_NAMES.join(", ")
                ));
            }
            if e.source == Source::Real {
                if self.real.is_empty() {
                    return bad(format!(
                        "entry `{}` trains on `source = \"real\"` but `real` is empty",
                        e.name
                    ));
                }
                if let Some(t) = e
                    .tasks
                    .iter()
                    .find(|t| crate::tasks::SYNTHETIC_NAMES.contains(&t.as_str()))
                {
                    return bad(format!(
                        "entry `{}` trains on real images, which have no `{t}` labels (image-only tasks: {})",
                        e.name,
                        crate::tasks::PRETEXT_NAMES.join(", ")
                    ));
                }
                if e.da.as_deref().is_some_and(|d| d != "none") {
                    return bad(format!(
                        "entry `{}` trains on real images: there is nothing to adapt (`da`)",
                        e.name
                    ));
                }
            }
            if let Some(da) = &e.da {
                if let Err(err) = da.parse::<domain_adapt::Method>() {
                    return bad(format!("entry `{}`: {err}", e.name));
                }
                if da != "none" && self.real.is_empty() {
                    return bad(format!(
                        "entry `{}` adapts (`da = \"{da}\"`) but `real` is empty",
                        e.name
                    ));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_config_parses_and_bad_ones_name_the_problem() {
        let c = CompareConfig::parse(
            DEFAULT_CONFIG,
            Path::new("compare.toml"),
            Path::new("/base"),
        )
        .unwrap();
        assert_eq!(c.data, Some(PathBuf::from("/base/data")));
        assert_eq!(c.entry.len(), 16);
        assert_eq!(c.seeds, 3);
        let e = CompareConfig::parse(
            &DEFAULT_CONFIG.replace("seeds = 3", "seeds = 0"),
            Path::new("c.toml"),
            Path::new("."),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("`seeds` must be at least 1"), "{e}");
        let real_depth = DEFAULT_CONFIG.replace(
            "tasks = [\"simclr\"]\nsource = \"real\"",
            "tasks = [\"depth\"]\nsource = \"real\"",
        );
        let e = CompareConfig::parse(&real_depth, Path::new("c.toml"), Path::new("."))
            .unwrap_err()
            .to_string();
        assert!(e.contains("no `depth` labels"), "{e}");
        let bad = DEFAULT_CONFIG.replace("tasks = [\"normal\"]", "tasks = [\"rotaton\"]");
        let e = CompareConfig::parse(&bad, Path::new("c.toml"), Path::new("."))
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown task `rotaton`"), "{e}");
        let e = CompareConfig::parse("stepz = 3", Path::new("c.toml"), Path::new("."))
            .unwrap_err()
            .to_string();
        assert!(e.contains("c.toml") && e.contains("stepz"), "{e}");
    }
}
