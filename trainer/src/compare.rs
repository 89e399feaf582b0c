//! The comparison across task sets: its config (`compare.toml`), the results
//! it gathers, and the report it writes (`table.md`, `results.json`,
//! `comparison.png`). The binary's `compare` command runs the entries.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::plots::canvas::{Canvas, fmt_num};

/// The built-in `compare.toml`.
pub const DEFAULT_CONFIG: &str = r#"# synthfeat compare: every entry pretrains the same backbone from the same
# seed for the same budget (steps, or wall-clock minutes with `minutes = M`,
# steps then being the cap), then is probed on every data set below
# (and scored on real depth where it has a depth head). A random-init row is
# always added. Paths are relative to this file.
steps = 600
seed = 0
# Synthetic training data: a dataset folder from `synthfeat generate`, or live = true.
data = "data"
live = false
# Real, unlabelled images for entries with adaptation (`--real`).
real = ["/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"]
# Extra `synthfeat train` flags shared by every entry.
train_args = []

[[probe]]
name = "fashion-mnist"
path = "/usr/share/datasets/fashion-mnist"
limit_per_class = 200

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

# Everything together: the synthetic tasks, every pretext task and adaptation.
[[entry]]
name = "everything"
tasks = ["depth", "normal", "contour", "rotation", "jigsaw", "relative-position", "colorization", "inpainting", "next-pixel"]
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
    /// Layers (every layer when left out).
    pub layers: Option<Vec<String>>,
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
}

/// A whole comparison.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompareConfig {
    /// Training steps of every entry (the cap when `minutes` is given).
    pub steps: u64,
    /// Wall-clock budget of every entry's training, minutes (else steps alone).
    pub minutes: Option<f64>,
    /// Seed of every entry (and of the random-init row).
    pub seed: u64,
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

/// One row's results.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct RowResult {
    /// Row name.
    pub name: String,
    /// Test top-1 per probe set, per layer.
    pub probe: BTreeMap<String, BTreeMap<String, f64>>,
    /// Real depth (abs-rel, δ<1.25), where scored.
    pub depth: Option<(f64, f64)>,
}

/// The Markdown table: one row per entry, a column per set × layer (test
/// top-1, best in bold) and the depth columns where any row has them.
pub fn table(rows: &[RowResult], sets: &[(String, Vec<String>)]) -> String {
    let mut head = vec!["entry".to_string()];
    let mut cols: Vec<(String, String)> = Vec::new();
    for (set, layers) in sets {
        for l in layers {
            head.push(format!("{set} {l}"));
            cols.push((set.clone(), l.clone()));
        }
    }
    let with_depth = rows.iter().any(|r| r.depth.is_some());
    if with_depth {
        head.extend(["depth abs-rel".to_string(), "depth δ<1.25".to_string()]);
    }
    let value =
        |r: &RowResult, (s, l): &(String, String)| r.probe.get(s).and_then(|m| m.get(l)).copied();
    let best: Vec<Option<f64>> = cols
        .iter()
        .map(|c| rows.iter().filter_map(|r| value(r, c)).reduce(f64::max))
        .collect();
    let best_rel = rows
        .iter()
        .filter_map(|r| r.depth.map(|d| d.0))
        .reduce(f64::min);
    let best_d1 = rows
        .iter()
        .filter_map(|r| r.depth.map(|d| d.1))
        .reduce(f64::max);
    let mark = |v: f64, best: Option<f64>, text: String| {
        if best == Some(v) {
            format!("**{text}**")
        } else {
            text
        }
    };
    let mut out = format!("| {} |\n|{}\n", head.join(" | "), "---|".repeat(head.len()));
    for r in rows {
        let mut cells = vec![r.name.clone()];
        for (c, b) in cols.iter().zip(&best) {
            cells.push(
                value(r, c).map_or("–".into(), |v| mark(v, *b, format!("{:.1} %", 100.0 * v))),
            );
        }
        if with_depth {
            match r.depth {
                Some((rel, d1)) => {
                    cells.push(mark(rel, best_rel, format!("{rel:.3}")));
                    cells.push(mark(d1, best_d1, format!("{:.1} %", 100.0 * d1)));
                }
                None => cells.extend(["–".to_string(), "–".to_string()]),
            }
        }
        out += &format!("| {} |\n", cells.join(" | "));
    }
    out
}

/// `comparison.png`: a panel per probe set, a bar per row at its best layer's top-1.
pub fn chart(
    rows: &[RowResult],
    sets: &[(String, Vec<String>)],
    path: &Path,
) -> Result<(), String> {
    const PANEL_W: i64 = 460;
    const BAR_H: i64 = 18;
    let label_w = 8 * rows
        .iter()
        .map(|r| r.name.chars().count())
        .max()
        .unwrap_or(4) as i64
        + 16;
    let panel_h = 40 + rows.len() as i64 * (BAR_H + 6);
    let width = (label_w + PANEL_W + 80).max(8 * 80) as u32;
    let height = (20 + sets.len() as i64 * (panel_h + 10)).max(60) as u32;
    // Bars start a little below the lowest value, so that differences of a
    // few points stay visible; the title says where.
    let best_of = |r: &RowResult, set: &str| {
        r.probe
            .get(set)
            .and_then(|m| m.values().copied().reduce(f64::max))
    };
    let lowest = sets
        .iter()
        .flat_map(|(set, _)| rows.iter().filter_map(move |r| best_of(r, set)))
        .reduce(f64::min)
        .unwrap_or(0.0);
    let floor = ((lowest - 0.05) * 20.0).floor().clamp(0.0, 19.0) / 20.0;
    let mut c = Canvas::new(width, height);
    let title = format!(
        "linear probe: test top-1 at each row's best layer (bars from {} % to 100 %)",
        fmt_num(100.0 * floor)
    );
    c.text(8, 6, &title, [20, 20, 20]);
    for (k, (set, _)) in sets.iter().enumerate() {
        let top = 24 + k as i64 * (panel_h + 10);
        c.text(8, top, set, [20, 20, 20]);
        for (i, r) in rows.iter().enumerate() {
            let y = top + 18 + i as i64 * (BAR_H + 6);
            c.text(8, y + 5, &r.name, [40, 40, 40]);
            c.frame(label_w, y, PANEL_W, BAR_H, [200, 200, 200]);
            if let Some(v) = best_of(r, set) {
                let colour = if r.name == "random init" {
                    [170, 170, 170]
                } else {
                    [70, 110, 200]
                };
                let share = ((v - floor) / (1.0 - floor)).clamp(0.0, 1.0);
                c.rect(label_w, y, (PANEL_W as f64 * share) as i64, BAR_H, colour);
                c.text(
                    label_w + PANEL_W + 6,
                    y + 5,
                    &format!("{} %", fmt_num(100.0 * v)),
                    [20, 20, 20],
                );
            }
        }
    }
    c.save_atomic(path)
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
        assert_eq!(c.entry.len(), 12);
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

    #[test]
    fn the_table_marks_the_best_of_each_column() {
        let row = |name: &str, a: f64, b: f64, depth| RowResult {
            name: name.into(),
            probe: BTreeMap::from([(
                "set".to_string(),
                BTreeMap::from([("conv1".to_string(), a), ("conv5".to_string(), b)]),
            )]),
            depth,
        };
        let rows = [
            row("random init", 0.5, 0.4, None),
            row("depth", 0.6, 0.3, Some((0.2, 0.7))),
        ];
        let t = table(
            &rows,
            &[("set".into(), vec!["conv1".into(), "conv5".into()])],
        );
        assert!(
            t.contains("| random init | 50.0 % | **40.0 %** | – | – |"),
            "{t}"
        );
        assert!(
            t.contains("| depth | **60.0 %** | 30.0 % | **0.200** | **70.0 %** |"),
            "{t}"
        );
    }
}
