//! Instance contours: weighted binary cross-entropy with logits (weight 1 in the paper).

use burn::module::Module;
use burn::tensor::backend::Backend;

use super::{Task, TaskContext, TaskError, TaskOutput, label_size};
use crate::losses::contour_loss;
use crate::model::DenseHead;

/// Contour task: a dense head predicting one logit per pixel.
#[derive(Module, Debug)]
pub struct ContourTask<B: Backend> {
    head: DenseHead<B>,
}

impl<B: Backend> ContourTask<B> {
    /// A head from `channels` feature channels, `ups` up-convolutions.
    pub fn new(channels: usize, ups: usize, device: &B::Device) -> Self {
        ContourTask {
            head: DenseHead::new(channels, 64, 1, ups, device),
        }
    }

    /// The dense head (for profiling).
    pub fn head(&self) -> &DenseHead<B> {
        &self.head
    }
}

impl<B: Backend> Task<B> for ContourTask<B> {
    fn name(&self) -> &'static str {
        "contour"
    }

    fn forward(&self, ctx: &TaskContext<B>) -> Result<TaskOutput<B>, TaskError> {
        let labels = ctx.labels("contour")?;
        let logits = self
            .head
            .forward(ctx.features().top().clone(), label_size(labels));
        let edges = labels.contour.clone();
        // F-score at probability 0.5 (logit 0).
        let predicted = logits.clone().detach().greater_elem(0.0).float();
        let tp = (predicted.clone() * edges.clone()).sum();
        let both = predicted.sum() + edges.clone().sum();
        // No edge predicted and none there: a perfect score.
        let none = both.clone().equal_elem(0.0).float();
        let f_score = (tp * 2.0 + none.clone()) / (both + none);
        let prediction = Some(burn::tensor::activation::sigmoid(logits.clone().detach()));
        Ok(TaskOutput {
            name: "contour",
            loss: contour_loss(logits, edges),
            prediction,
            metrics: vec![("f_score", f_score)],
            sheet: None,
        })
    }
}
