//! The run folder's pictures: `curves.png` and `predictions.png`, refreshed at
//! each validation (drawn without system fonts, written atomically).

pub mod canvas;
pub mod curves;
pub mod sheet;

use burn::tensor::backend::Backend;
use std::path::Path;

use crate::batch::SyntheticBatch;
use crate::train::{MultiTaskModel, task_outputs};
use sheet::TaskImages;

/// Samples shown in `predictions.png`.
pub const SHEET_ROWS: usize = 4;

/// Redraws `RUN/curves.png` from `RUN/metrics.jsonl` and `RUN/predictions.png`
/// from the model's predictions on the first validation batch (if there is one).
pub fn refresh<B: Backend>(
    run: &Path,
    model: &MultiTaskModel<B>,
    val: &[SyntheticBatch<B>],
) -> Result<(), String> {
    curves::write(&run.join("metrics.jsonl"), &run.join("curves.png"))?;
    let Some(batch) = val.first() else {
        return Ok(());
    };
    let (outputs, _) = task_outputs(model, batch);
    let tasks: Vec<TaskImages<B>> = outputs
        .into_iter()
        .filter_map(|o| {
            let truth = match o.name {
                "depth" => batch.depth_m.clone(),
                "normal" => batch.normal.clone(),
                "contour" => batch.contour.clone(),
                _ => return None,
            };
            Some(TaskImages {
                name: o.name,
                prediction: o.prediction?,
                truth,
            })
        })
        .collect();
    sheet::render(&batch.rgb, &batch.valid, &tasks, SHEET_ROWS)
        .save_atomic(&run.join("predictions.png"))
}
