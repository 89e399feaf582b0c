//! `curves.png`: training losses and validation metrics against step, one
//! panel per quantity, read back from `metrics.jsonl`.

use super::canvas::{Canvas, fmt_num};
use std::path::Path;

const PANEL_W: i64 = 360;
const PANEL_H: i64 = 220;
const COLUMNS: i64 = 3;
const TRAIN: [u8; 3] = [70, 110, 200];
const VAL: [u8; 3] = [220, 90, 40];

/// One curve: `(step, value)` points.
type Series = Vec<(f64, f64)>;

/// A panel: title, training curve (smoothed), validation curve.
struct Panel {
    title: String,
    train: Series,
    val: Series,
}

/// Reads `metrics.jsonl` into panels: total and per-task loss (train and
/// validation), then every validation metric.
fn panels(metrics: &str) -> Vec<Panel> {
    let mut out: Vec<Panel> = Vec::new();
    let mut rows: Vec<(String, f64, String, f64)> = Vec::new();
    for line in metrics.lines() {
        let Ok(serde_json::Value::Object(m)) = serde_json::from_str(line) else {
            continue;
        };
        let (Some(step), Some(split)) = (
            m.get("step").and_then(|v| v.as_f64()),
            m.get("split").and_then(|v| v.as_str()),
        ) else {
            continue;
        };
        for (k, v) in &m {
            let Some(v) = v.as_f64().filter(|v| v.is_finite()) else {
                continue;
            };
            let is_loss = k == "loss" || k.ends_with("_loss");
            if is_loss
                || (split == "val"
                    && !["step", "lr", "samples_per_s", "rss_mib"].contains(&k.as_str()))
            {
                rows.push((split.to_string(), step, k.clone(), v));
            }
        }
    }
    // Losses first (in order of appearance), then validation metrics.
    for pass in [true, false] {
        for (split, step, key, v) in &rows {
            let is_loss = key == "loss" || key.ends_with("_loss");
            if is_loss != pass {
                continue;
            }
            let i = match out.iter().position(|p| &p.title == key) {
                Some(i) => i,
                None => {
                    out.push(Panel {
                        title: key.clone(),
                        train: Vec::new(),
                        val: Vec::new(),
                    });
                    out.len() - 1
                }
            };
            if split == "train" {
                out[i].train.push((*step, *v));
            } else {
                out[i].val.push((*step, *v));
            }
        }
    }
    for p in &mut out {
        p.train = smooth(&p.train);
    }
    // The weighted total first.
    out.sort_by_key(|p| p.title != "loss");
    out
}

/// Moving average over a window of about 1/50 of the points (at least 1).
fn smooth(s: &Series) -> Series {
    let w = (s.len() / 50).max(1);
    let mut acc = 0.0;
    let mut out = Vec::with_capacity(s.len());
    for (i, &(x, y)) in s.iter().enumerate() {
        acc += y;
        if i >= w {
            acc -= s[i - w].1;
        }
        out.push((x, acc / (i + 1).min(w) as f64));
    }
    out
}

fn draw_panel(c: &mut Canvas, x0: i64, y0: i64, p: &Panel) {
    let (left, top, right, bottom) = (x0 + 56, y0 + 22, x0 + PANEL_W - 12, y0 + PANEL_H - 24);
    c.text(x0 + 8, y0 + 6, &p.title, [0, 0, 0]);
    c.frame(left, top, right - left, bottom - top, [160, 160, 160]);
    let all: Vec<&(f64, f64)> = p.train.iter().chain(&p.val).collect();
    if all.is_empty() {
        return;
    }
    let fold = |f: fn(f64, f64) -> f64, init: f64, pick: fn(&(f64, f64)) -> f64| {
        all.iter().map(|p| pick(p)).fold(init, f)
    };
    let (xmin, xmax) = (
        fold(f64::min, f64::MAX, |p| p.0),
        fold(f64::max, f64::MIN, |p| p.0),
    );
    // The first 2% of steps (the initial loss spike) may leave the frame, so
    // that the rest of the curve keeps its detail.
    let settled = xmin + 0.02 * (xmax - xmin);
    let late: Vec<f64> = all.iter().filter(|p| p.0 >= settled).map(|p| p.1).collect();
    let ys = if late.is_empty() {
        all.iter().map(|p| p.1).collect()
    } else {
        late
    };
    let (mut ymin, mut ymax) = (
        ys.iter().copied().fold(f64::MAX, f64::min),
        ys.iter().copied().fold(f64::MIN, f64::max),
    );
    if ymax - ymin < 1e-12 {
        ymin -= 0.5;
        ymax += 0.5;
    }
    let sx = |x: f64| {
        left as f64 + 2.0 + (x - xmin) / (xmax - xmin).max(1e-12) * ((right - left) as f64 - 4.0)
    };
    let sy = |y: f64| {
        let v = bottom as f64 - 2.0 - (y - ymin) / (ymax - ymin) * ((bottom - top) as f64 - 4.0);
        v.clamp(top as f64 + 1.0, bottom as f64 - 2.0)
    };
    c.text(x0 + 4, top, &fmt_num(ymax), [60, 60, 60]);
    c.text(x0 + 4, bottom - 8, &fmt_num(ymin), [60, 60, 60]);
    c.text(left, bottom + 6, &format!("{xmin:.0}"), [60, 60, 60]);
    let xl = format!("step {xmax:.0}");
    c.text(right - 8 * xl.len() as i64, bottom + 6, &xl, [60, 60, 60]);
    for (series, colour) in [(&p.train, TRAIN), (&p.val, VAL)] {
        for w in series.windows(2) {
            c.line((sx(w[0].0), sy(w[0].1)), (sx(w[1].0), sy(w[1].1)), colour);
        }
        for &(x, y) in series.iter().filter(|_| series.len() < 40 && colour == VAL) {
            c.rect(sx(x) as i64 - 2, sy(y) as i64 - 2, 5, 5, colour);
        }
    }
}

/// Draws `curves.png` from the text of `metrics.jsonl`.
pub fn render(metrics: &str) -> Canvas {
    let ps = panels(metrics);
    let rows = (ps.len() as i64 + COLUMNS - 1) / COLUMNS;
    let mut c = Canvas::new(
        (COLUMNS * PANEL_W) as u32,
        (24 + rows.max(1) * PANEL_H) as u32,
    );
    c.text(
        8,
        6,
        "training (blue, smoothed) and validation (orange) vs step",
        [0, 0, 0],
    );
    for (i, p) in ps.iter().enumerate() {
        let (col, row) = (i as i64 % COLUMNS, i as i64 / COLUMNS);
        draw_panel(&mut c, col * PANEL_W, 24 + row * PANEL_H, p);
    }
    c
}

/// Reads `metrics` and writes the PNG at `out` atomically.
pub fn write(metrics: &Path, out: &Path) -> Result<(), String> {
    let text =
        std::fs::read_to_string(metrics).map_err(|e| format!("{}: {e}", metrics.display()))?;
    render(&text).save_atomic(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panels_hold_losses_then_validation_metrics() {
        let text = concat!(
            "{\"step\":1,\"split\":\"train\",\"loss\":2.0,\"depth_loss\":1.0,\"lr\":0.001}\n",
            "{\"step\":2,\"split\":\"train\",\"loss\":1.0,\"depth_loss\":0.5,\"lr\":0.001}\n",
            "{\"step\":2,\"split\":\"val\",\"loss\":1.5,\"depth_loss\":0.7,\"depth_abs_rel\":0.3}\n",
            "not json\n"
        );
        let ps = panels(text);
        let titles: Vec<&str> = ps.iter().map(|p| p.title.as_str()).collect();
        assert_eq!(titles, ["loss", "depth_loss", "depth_abs_rel"]);
        assert_eq!(ps[0].train.len(), 2);
        assert_eq!(ps[0].val, vec![(2.0, 1.5)]);
        assert_eq!(ps[2].val, vec![(2.0, 0.3)]);
        let img = render(text).img;
        assert_eq!(img.width(), 3 * PANEL_W as u32);
        // Some curve pixels were drawn in each colour.
        assert!(img.pixels().any(|p| p.0 == TRAIN) && img.pixels().any(|p| p.0 == VAL));
    }
}
