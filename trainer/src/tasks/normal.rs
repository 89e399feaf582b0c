//! Surface normals: L2-normalised prediction, cosine loss (weight 10 in the paper).

use burn::module::Module;
use burn::tensor::backend::Backend;

use super::{Task, TaskContext, TaskError, TaskOutput, label_size};
use crate::losses::normal_loss;
use crate::model::DenseHead;

/// Normal task: a dense head predicting a 3-vector per pixel.
#[derive(Module, Debug)]
pub struct NormalTask<B: Backend> {
    head: DenseHead<B>,
}

impl<B: Backend> NormalTask<B> {
    /// A head from `channels` feature channels, `ups` up-convolutions.
    pub fn new(channels: usize, ups: usize, device: &B::Device) -> Self {
        NormalTask {
            head: DenseHead::new(channels, 64, 3, ups, device),
        }
    }

    /// The dense head (for profiling).
    pub fn head(&self) -> &DenseHead<B> {
        &self.head
    }
}

impl<B: Backend> Task<B> for NormalTask<B> {
    fn name(&self) -> &'static str {
        "normal"
    }

    fn forward(&self, ctx: &TaskContext<B>) -> Result<TaskOutput<B>, TaskError> {
        let labels = ctx.labels("normal")?;
        let pred = self
            .head
            .forward(ctx.features().top().clone(), label_size(labels));
        let (target, valid) = (labels.normal.clone(), labels.valid.clone());
        // Mean angular error and share of pixels within 11.25°, on valid pixels.
        let p = pred.clone().detach();
        let unit = p.clone() / p.square().sum_dim(1).sqrt().clamp_min(1e-6);
        let unit_pred = unit.clone();
        let cos = (unit * target.clone()).sum_dim(1).clamp(-1.0, 1.0);
        let count = valid.clone().sum().clamp_min(1.0);
        let within = cos
            .clone()
            .greater_elem(11.25f64.to_radians().cos())
            .float()
            * valid.clone();
        let within_pct = within.sum() / count.clone() * 100.0;
        let angle_deg = (cos.acos() * valid.clone()).sum() / count * (180.0 / std::f64::consts::PI);
        let prediction = Some(unit_pred);
        Ok(TaskOutput {
            name: "normal",
            loss: normal_loss(pred, target, valid),
            prediction,
            metrics: vec![("angle_deg", angle_deg), ("within_11_25_pct", within_pct)],
            sheet: None,
        })
    }
}
