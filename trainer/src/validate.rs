//! Validation on held-out samples: every task's loss and metrics, averaged
//! over the whole held-out set (in batches, so memory stays bounded).

use burn::tensor::backend::Backend;

use crate::batch::{Batch, BatchError, SyntheticBatch};
use crate::config::TrainConfig;
use crate::tasks::TaskError;
use crate::train::{MultiTaskModel, StepReport, TaskReport, TaskWeights, losses};
use engine::Sample;

/// Averaged validation results.
#[derive(Clone, Debug)]
pub struct Validation {
    /// Weighted total and per-task losses and metrics, averaged per sample.
    pub report: StepReport,
    /// Samples validated on.
    pub samples: usize,
}

impl Validation {
    /// One line: every task's metrics.
    pub fn summary(&self) -> String {
        let mut parts = vec![format!("loss {:.4}", self.report.loss)];
        for t in &self.report.tasks {
            for (k, v) in &t.metrics {
                parts.push(format!("{}.{k} {v:.4}", t.name));
            }
        }
        parts.join(", ")
    }

    /// The value of metric `task_metric` (e.g. `depth_abs_rel`), if present.
    pub fn metric(&self, task: &str, metric: &str) -> Option<f64> {
        let t = self.report.tasks.iter().find(|t| t.name == task)?;
        t.metrics
            .iter()
            .find(|(k, _)| *k == metric)
            .map(|(_, v)| *v)
    }
}

/// Seed of the pretext tasks' random choices on validation batch `i`: the
/// same at every validation, so the numbers are comparable along a run.
pub fn seed(i: usize) -> u64 {
    0x7A11_DA7E_0000_0000 ^ i as u64
}

/// The first `config.val_samples` held-out samples as batches of `config.batch`.
pub fn batches<B: Backend>(
    val: &[Sample],
    config: &TrainConfig,
    device: &B::Device,
) -> Result<Vec<Batch<B>>, BatchError> {
    let n = val.len().min(config.val_samples);
    val[..n]
        .chunks(config.batch.max(1))
        .map(|c| SyntheticBatch::from_samples(c, config.label_scale, device).map(Batch::from))
        .collect()
}

/// Held-out images (`[3, size, size]` each) as unlabelled batches of `config.batch`.
pub fn image_batches<B: Backend>(
    images: &[Vec<f32>],
    config: &TrainConfig,
    device: &B::Device,
) -> Vec<Batch<B>> {
    images
        .chunks(config.batch.max(1))
        .map(|c| Batch::Images(crate::real::to_tensor::<B>(c, config.size, device)))
        .collect()
}

/// Losses and metrics of `model` (in inference mode: batch norm uses its running
/// statistics) over `batches`, each batch weighted by its size.
pub fn validate<B: Backend>(
    model: &MultiTaskModel<B>,
    batches: &[Batch<B>],
    weights: &TaskWeights,
) -> Result<Validation, TaskError> {
    let mut total = 0.0;
    let mut tasks: Vec<TaskReport> = Vec::new();
    let mut samples = 0usize;
    for (i, b) in batches.iter().enumerate() {
        let n = b.len();
        let (_, r) = losses(model, b, weights, seed(i))?;
        total += r.loss * n as f64;
        for t in r.tasks {
            match tasks.iter_mut().find(|x| x.name == t.name) {
                Some(acc) => {
                    acc.loss += t.loss * n as f64;
                    for ((_, a), (_, v)) in acc.metrics.iter_mut().zip(&t.metrics) {
                        *a += v * n as f64;
                    }
                }
                None => tasks.push(TaskReport {
                    name: t.name,
                    loss: t.loss * n as f64,
                    metrics: t.metrics.iter().map(|(k, v)| (*k, v * n as f64)).collect(),
                }),
            }
        }
        samples += n;
    }
    let d = samples.max(1) as f64;
    for t in &mut tasks {
        t.loss /= d;
        for (_, v) in &mut t.metrics {
            *v /= d;
        }
    }
    Ok(Validation {
        report: StepReport {
            loss: total / d,
            tasks,
        },
        samples,
    })
}
