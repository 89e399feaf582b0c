//! The comparison's results (a row per entry, each figure over seeds) and
//! its Markdown: a table per probe and a summary of the best entry against
//! random init.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use super::Stat;

/// Real depth of a row, over seeds.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DepthResult {
    /// Absolute relative error (lower is better).
    pub abs_rel: Stat,
    /// Share of pixels within a factor 1.25 of the truth.
    pub delta1: Stat,
}

/// One run's probe results: set → layer → (linear, k-NN) test top-1.
pub type SeedProbes = BTreeMap<String, BTreeMap<String, (f64, f64)>>;

/// One row's results: per probe set, per layer, over seeds.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RowResult {
    /// Row name.
    pub name: String,
    /// Linear-probe test top-1.
    pub probe: BTreeMap<String, BTreeMap<String, Stat>>,
    /// k-NN (cosine, k = 20) test top-1.
    pub knn: BTreeMap<String, BTreeMap<String, Stat>>,
    /// Real depth, where scored.
    pub depth: Option<DepthResult>,
}

impl RowResult {
    /// The row of `name` from one map of set → layer → (linear, k-NN) per
    /// seed, and one (abs-rel, δ<1.25) per seed where depth was scored.
    pub fn from_seeds(name: &str, probes: &[SeedProbes], depth: &[(f64, f64)]) -> Self {
        let mut row = RowResult {
            name: name.to_string(),
            ..Default::default()
        };
        let gather = |pick: fn(&(f64, f64)) -> f64| {
            let mut out: BTreeMap<String, BTreeMap<String, Stat>> = BTreeMap::new();
            let Some(first) = probes.first() else {
                return out;
            };
            for (set, layers) in first {
                for layer in layers.keys() {
                    let values: Vec<f64> = probes
                        .iter()
                        .filter_map(|p| p.get(set).and_then(|m| m.get(layer)).map(pick))
                        .collect();
                    out.entry(set.clone())
                        .or_default()
                        .insert(layer.clone(), Stat::of(&values));
                }
            }
            out
        };
        row.probe = gather(|v| v.0);
        row.knn = gather(|v| v.1);
        if !depth.is_empty() {
            let rel: Vec<f64> = depth.iter().map(|d| d.0).collect();
            let d1: Vec<f64> = depth.iter().map(|d| d.1).collect();
            row.depth = Some(DepthResult {
                abs_rel: Stat::of(&rel),
                delta1: Stat::of(&d1),
            });
        }
        row
    }

    fn cells(&self, metric: Metric) -> &BTreeMap<String, BTreeMap<String, Stat>> {
        match metric {
            Metric::Linear => &self.probe,
            Metric::Knn => &self.knn,
        }
    }

    fn value(&self, metric: Metric, set: &str, layer: &str) -> Option<&Stat> {
        self.cells(metric).get(set).and_then(|m| m.get(layer))
    }
}

/// Which probe a table shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    /// The linear probe.
    Linear,
    /// The k-NN probe.
    Knn,
}

/// A top-1 cell: `84.0 ± 0.9 %` over seeds, `84.0 %` for one.
fn percent(s: &Stat) -> String {
    if s.n() > 1 {
        format!("{:.1} ± {:.1} %", 100.0 * s.mean, 100.0 * s.sd)
    } else {
        format!("{:.1} %", 100.0 * s.mean)
    }
}

/// The Markdown table of `metric`: one row per entry, a column per set ×
/// layer (test top-1, mean ± sd), the best mean of each column in bold, and
/// `°` on a cell whose difference from random init's lies within the two
/// spreads; then the depth columns where any row has them. The first row is
/// taken as random init.
pub fn table(rows: &[RowResult], sets: &[(String, Vec<String>)], metric: Metric) -> String {
    let mut head = vec!["entry".to_string()];
    let mut cols: Vec<(&str, &str)> = Vec::new();
    for (set, layers) in sets {
        for l in layers {
            head.push(format!("{set} {l}"));
            cols.push((set, l));
        }
    }
    let with_depth = metric == Metric::Linear && rows.iter().any(|r| r.depth.is_some());
    if with_depth {
        head.extend(["depth abs-rel".to_string(), "depth δ<1.25".to_string()]);
    }
    let best: Vec<Option<f64>> = cols
        .iter()
        .map(|&(s, l)| {
            rows.iter()
                .filter_map(|r| r.value(metric, s, l).map(|v| v.mean))
                .reduce(f64::max)
        })
        .collect();
    let depth_of =
        |f: fn(&DepthResult) -> &Stat| move |r: &RowResult| r.depth.as_ref().map(|d| f(d).mean);
    let best_rel = rows
        .iter()
        .filter_map(depth_of(|d| &d.abs_rel))
        .reduce(f64::min);
    let best_d1 = rows
        .iter()
        .filter_map(depth_of(|d| &d.delta1))
        .reduce(f64::max);
    let bold = |v: f64, best: Option<f64>, text: String| {
        if best == Some(v) {
            format!("**{text}**")
        } else {
            text
        }
    };
    let random = rows.first();
    let mut out = format!("| {} |\n|{}\n", head.join(" | "), "---|".repeat(head.len()));
    for (i, r) in rows.iter().enumerate() {
        let mut cells = vec![r.name.clone()];
        for (&(s, l), b) in cols.iter().zip(&best) {
            cells.push(match r.value(metric, s, l) {
                None => "–".into(),
                Some(v) => {
                    let base = random.and_then(|x| x.value(metric, s, l));
                    let same = i > 0 && base.is_some_and(|b| v.within_spread(b));
                    let text = percent(v) + if same { " °" } else { "" };
                    bold(v.mean, *b, text)
                }
            });
        }
        if with_depth {
            match &r.depth {
                Some(d) => {
                    let rel = if d.abs_rel.n() > 1 {
                        format!("{:.3} ± {:.3}", d.abs_rel.mean, d.abs_rel.sd)
                    } else {
                        format!("{:.3}", d.abs_rel.mean)
                    };
                    cells.push(bold(d.abs_rel.mean, best_rel, rel));
                    cells.push(bold(d.delta1.mean, best_d1, percent(&d.delta1)));
                }
                None => cells.extend(["–".to_string(), "–".to_string()]),
            }
        }
        out += &format!("| {} |\n", cells.join(" | "));
    }
    out
}

/// One line per probe set: the entry and layer of the best linear-probe
/// mean against random init at the same layer and at its own best layer,
/// with the difference in points and in spreads of a difference.
pub fn summary(rows: &[RowResult], sets: &[(String, Vec<String>)]) -> String {
    let Some((random, entries)) = rows.split_first() else {
        return String::new();
    };
    let mut out = String::new();
    for (set, layers) in sets {
        let best = entries
            .iter()
            .flat_map(|r| {
                layers
                    .iter()
                    .filter_map(move |l| r.value(Metric::Linear, set, l).map(|v| (r, l, v)))
            })
            .max_by(|a, b| a.2.mean.total_cmp(&b.2.mean));
        let random_best = layers
            .iter()
            .filter_map(|l| random.value(Metric::Linear, set, l).map(|v| (l, v)))
            .max_by(|a, b| a.1.mean.total_cmp(&b.1.mean));
        let (Some((row, layer, v)), Some((rl, rv))) = (best, random_best) else {
            continue;
        };
        let Some(same) = random.value(Metric::Linear, set, layer) else {
            continue;
        };
        let spread = match v.z(same) {
            Some(z) => format!(", {z:.1} σ"),
            None => String::from(", one seed: no spread"),
        };
        out += &format!(
            "- {set}: best entry `{}` at {layer}, {} against random init's {} at {layer} \
             ({:+.1} points{spread}) and {} at its best layer {rl} ({:+.1} points).\n",
            row.name,
            percent(v),
            percent(same),
            100.0 * (v.mean - same.mean),
            percent(rv),
            100.0 * (v.mean - rv.mean),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, conv1: &[f64], conv5: &[f64], depth: &[(f64, f64)]) -> RowResult {
        let probes: Vec<_> = conv1
            .iter()
            .zip(conv5)
            .map(|(&a, &b)| {
                BTreeMap::from([(
                    "set".to_string(),
                    BTreeMap::from([
                        ("conv1".to_string(), (a, a - 0.1)),
                        ("conv5".to_string(), (b, b - 0.1)),
                    ]),
                )])
            })
            .collect();
        RowResult::from_seeds(name, &probes, depth)
    }

    fn sets() -> Vec<(String, Vec<String>)> {
        vec![("set".into(), vec!["conv1".into(), "conv5".into()])]
    }

    #[test]
    fn one_seed_cells_are_plain_and_the_best_of_each_column_is_bold() {
        let rows = [
            row("random init", &[0.5], &[0.4], &[]),
            row("depth", &[0.6], &[0.3], &[(0.2, 0.7)]),
        ];
        let t = table(&rows, &sets(), Metric::Linear);
        assert!(
            t.contains("| random init | 50.0 % | **40.0 %** | – | – |"),
            "{t}"
        );
        assert!(
            t.contains("| depth | **60.0 %** | 30.0 % | **0.200** | **70.0 %** |"),
            "{t}"
        );
        let k = table(&rows, &sets(), Metric::Knn);
        assert!(k.contains("| depth | **50.0 %** | 20.0 % |"), "{k}");
    }

    #[test]
    fn seeds_give_mean_and_spread_and_overlapping_cells_are_marked() {
        let rows = [
            row("random init", &[0.50, 0.52, 0.54], &[0.40, 0.40, 0.40], &[]),
            // conv1 within the spreads of random init's; conv5 clearly above.
            row("simclr", &[0.51, 0.53, 0.55], &[0.60, 0.61, 0.62], &[]),
        ];
        let t = table(&rows, &sets(), Metric::Linear);
        assert!(
            t.contains("| simclr | **53.0 ± 2.0 % °** | **61.0 ± 1.0 %** |"),
            "{t}"
        );
        assert!(
            t.contains("| random init | 52.0 ± 2.0 % | 40.0 ± 0.0 % |"),
            "{t}"
        );
        let s = summary(&rows, &sets());
        assert!(
            s.contains(
                "best entry `simclr` at conv5, 61.0 ± 1.0 % against random init's 40.0 ± 0.0 %"
            ) && s.contains("+21.0 points, 21.0 σ")
                && s.contains("52.0 ± 2.0 % at its best layer conv1 (+9.0 points)"),
            "{s}"
        );
    }
}
