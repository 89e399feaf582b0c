//! `comparison.png`: a panel per probe set, a bar per row at its best layer's
//! mean linear-probe top-1, with an error bar of ± one standard deviation
//! over seeds.

use std::path::Path;

use super::{RowResult, Stat};
use crate::plots::canvas::{Canvas, fmt_num};

/// The row's figure at the layer of its best mean on `set`.
fn best_of<'a>(r: &'a RowResult, set: &str) -> Option<&'a Stat> {
    r.probe
        .get(set)?
        .values()
        .max_by(|a, b| a.mean.total_cmp(&b.mean))
}

/// Draws `comparison.png` at `path` (written whole or not at all).
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
    let width = (label_w + PANEL_W + 130).max(8 * 84) as u32;
    let height = (20 + sets.len() as i64 * (panel_h + 10)).max(60) as u32;
    // Bars start a little below the lowest value, so that differences of a
    // few points stay visible; the title says where.
    let lowest = sets
        .iter()
        .flat_map(|(set, _)| rows.iter().filter_map(move |r| best_of(r, set)))
        .map(|s| s.mean - s.sd)
        .reduce(f64::min)
        .unwrap_or(0.0);
    let floor = ((lowest - 0.05) * 20.0).floor().clamp(0.0, 19.0) / 20.0;
    let seeds = rows
        .iter()
        .flat_map(|r| r.probe.values().flat_map(|m| m.values().map(Stat::n)))
        .max()
        .unwrap_or(1);
    let mut c = Canvas::new(width, height);
    let title = if seeds > 1 {
        format!(
            "linear probe: test top-1 at each row's best layer, mean and sd of {seeds} seeds (bars from {} %)",
            fmt_num(100.0 * floor)
        )
    } else {
        format!(
            "linear probe: test top-1 at each row's best layer (bars from {} % to 100 %)",
            fmt_num(100.0 * floor)
        )
    };
    c.text(8, 6, &title, [20, 20, 20]);
    let x_of =
        |v: f64| label_w + (PANEL_W as f64 * ((v - floor) / (1.0 - floor)).clamp(0.0, 1.0)) as i64;
    for (k, (set, _)) in sets.iter().enumerate() {
        let top = 24 + k as i64 * (panel_h + 10);
        c.text(8, top, set, [20, 20, 20]);
        for (i, r) in rows.iter().enumerate() {
            let y = top + 18 + i as i64 * (BAR_H + 6);
            c.text(8, y + 5, &r.name, [40, 40, 40]);
            c.frame(label_w, y, PANEL_W, BAR_H, [200, 200, 200]);
            let Some(v) = best_of(r, set) else { continue };
            let colour = if i == 0 {
                [170, 170, 170]
            } else {
                [70, 110, 200]
            };
            c.rect(label_w, y, x_of(v.mean) - label_w, BAR_H, colour);
            let mut label = format!("{:.1} %", 100.0 * v.mean);
            if v.n() > 1 {
                let (lo, hi) = (x_of(v.mean - v.sd), x_of(v.mean + v.sd));
                let mid = y + BAR_H / 2;
                c.rect(lo, mid - 1, (hi - lo).max(1), 2, [20, 20, 20]);
                c.rect(lo, y + 3, 2, BAR_H - 6, [20, 20, 20]);
                c.rect(hi - 1, y + 3, 2, BAR_H - 6, [20, 20, 20]);
                // The bitmap font has ASCII only.
                label = format!("{:.1} +- {:.1} %", 100.0 * v.mean, 100.0 * v.sd);
            }
            c.text(label_w + PANEL_W + 6, y + 5, &label, [20, 20, 20]);
        }
    }
    c.save_atomic(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn the_chart_draws_error_bars_where_seeds_give_a_spread() {
        let row = |name: &str, values: &[f64]| RowResult {
            name: name.into(),
            probe: BTreeMap::from([(
                "set".to_string(),
                BTreeMap::from([("conv1".to_string(), Stat::of(values))]),
            )]),
            ..Default::default()
        };
        let dir = tempfile::tempdir().unwrap();
        let sets = vec![("set".to_string(), vec!["conv1".to_string()])];
        let dark = |rows: &[RowResult]| {
            let p = dir.path().join("c.png");
            chart(rows, &sets, &p).unwrap();
            let img = image::open(&p).unwrap().to_rgb8();
            img.pixels().filter(|p| p.0 == [20, 20, 20]).count()
        };
        let one = dark(&[row("random init", &[0.5]), row("x", &[0.6])]);
        let three = dark(&[
            row("random init", &[0.5, 0.5, 0.5]),
            row("x", &[0.55, 0.6, 0.65]),
        ]);
        // The spread adds the error bar's dark pixels (and a longer label).
        assert!(three > one + 20, "{one} vs {three}");
    }
}
