//! Depth: predict log depth (Ren & Lee; loss weight 5 in the paper).

use burn::module::Module;
use burn::tensor::backend::Backend;

use super::{Task, TaskContext, TaskError, TaskOutput, label_size};
use crate::losses::depth_loss;
use crate::model::DenseHead;

/// Depth task: a dense head predicting `ln(depth_m)`.
#[derive(Module, Debug)]
pub struct DepthTask<B: Backend> {
    head: DenseHead<B>,
}

impl<B: Backend> DepthTask<B> {
    /// A head from `channels` feature channels, `ups` up-convolutions.
    pub fn new(channels: usize, ups: usize, device: &B::Device) -> Self {
        DepthTask {
            head: DenseHead::new(channels, 64, 1, ups, device),
        }
    }

    /// Depth in metres `[N, 1, h, w]` from the backbone's top features, at `size`.
    pub fn predict(
        &self,
        top: burn::tensor::Tensor<B, 4>,
        size: [usize; 2],
    ) -> burn::tensor::Tensor<B, 4> {
        self.head.forward(top, size).exp()
    }

    /// The dense head (for profiling).
    pub fn head(&self) -> &DenseHead<B> {
        &self.head
    }
}

impl<B: Backend> Task<B> for DepthTask<B> {
    fn name(&self) -> &'static str {
        "depth"
    }

    fn forward(&self, ctx: &TaskContext<B>) -> Result<TaskOutput<B>, TaskError> {
        let labels = ctx.labels("depth")?;
        let pred = self
            .head
            .forward(ctx.features().top().clone(), label_size(labels));
        let target = labels.depth_m.clone();
        // Absolute relative error and RMSE (metres) of exp(pred) on valid pixels.
        let valid = labels.valid.clone();
        let count = valid.clone().sum().clamp_min(1.0);
        let safe = target.clone() + (valid.clone().neg() + 1.0);
        let error = (pred.clone().detach().exp() - target.clone()) * valid;
        let abs_rel = error.clone().abs().div(safe).sum() / count.clone();
        let rmse = (error.square().sum() / count).sqrt();
        let prediction = Some(pred.clone().detach().exp());
        Ok(TaskOutput {
            name: "depth",
            loss: depth_loss(pred, target),
            prediction,
            metrics: vec![("abs_rel", abs_rel), ("rmse_m", rmse)],
            sheet: None,
        })
    }
}
