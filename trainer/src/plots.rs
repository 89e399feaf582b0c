//! The run folder's pictures: `curves.png` and `predictions.png`, refreshed at
//! each validation (drawn without system fonts, written atomically).

pub mod canvas;
pub mod curves;
pub mod sheet;
pub mod strip;

use burn::tensor::backend::Backend;
use std::path::Path;

use crate::batch::Batch;
use crate::train::{MultiTaskModel, task_outputs};
use sheet::TaskImages;

/// Samples shown in `predictions.png`.
pub const SHEET_ROWS: usize = 4;

/// Redraws `RUN/curves.png` from `RUN/metrics.jsonl` and `RUN/predictions.png`
/// from the model's outputs on the first validation batch (if there is one):
/// the dense tasks' predictions next to their labels, then one row per
/// pretext task.
pub fn refresh<B: Backend>(
    run: &Path,
    model: &MultiTaskModel<B>,
    val: &[Batch<B>],
) -> Result<(), String> {
    curves::write(&run.join("metrics.jsonl"), &run.join("curves.png"))?;
    let Some(batch) = val.first() else {
        return Ok(());
    };
    let outputs =
        task_outputs(model, batch, crate::validate::seed(0), true).map_err(|e| e.to_string())?;
    let mut dense = Vec::new();
    let mut rows = Vec::new();
    for o in outputs {
        if let Some(cells) = o.sheet {
            rows.push((o.name, cells));
            continue;
        }
        let (Some(labels), Some(prediction)) = (batch.labels(), o.prediction) else {
            continue;
        };
        let truth = match o.name {
            "depth" => labels.depth_m.clone(),
            "normal" => labels.normal.clone(),
            "contour" => labels.contour.clone(),
            _ => continue,
        };
        dense.push(TaskImages {
            name: o.name,
            prediction,
            truth,
        });
    }
    let canvas = match (batch.labels(), dense.is_empty(), rows.is_empty()) {
        (Some(l), false, true) => sheet::render(&l.rgb, &l.valid, &dense, SHEET_ROWS),
        (Some(l), false, false) => strip::stack(
            &sheet::render(&l.rgb, &l.valid, &dense, SHEET_ROWS),
            &strip::render(&rows),
        ),
        _ => strip::render(&rows),
    };
    canvas.save_atomic(&run.join("predictions.png"))
}
