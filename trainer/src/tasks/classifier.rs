//! The classification head of rotation, jigsaw and relative position: each
//! part's pooled features through a shared fully connected layer, the parts
//! concatenated, then two more layers (Noroozi & Favaro's fc6 per tile → fc7 → fc8).

use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::activation::relu;
use burn::tensor::backend::Backend;
use burn::tensor::module::adaptive_avg_pool2d;
use burn::tensor::{Int, Tensor, TensorData};

use super::{TaskContext, TaskOutput};
use crate::pretext::Image;
use crate::train::normalise;

/// Shared per-part layer, joint layer, output layer.
#[derive(Module, Debug)]
pub struct ClassifierHead<B: Backend> {
    part: Linear<B>,
    joint: Linear<B>,
    out: Linear<B>,
    parts: usize,
    pool: usize,
}

impl<B: Backend> ClassifierHead<B> {
    /// `parts` inputs per sample of `channels` feature channels, each average-pooled
    /// to `pool×pool`, into `classes` logits.
    pub fn new(
        channels: usize,
        pool: usize,
        parts: usize,
        classes: usize,
        device: &B::Device,
    ) -> Self {
        let hidden = 256;
        ClassifierHead {
            part: LinearConfig::new(channels * pool * pool, hidden).init(device),
            joint: LinearConfig::new(parts * hidden, hidden).init(device),
            out: LinearConfig::new(hidden, classes).init(device),
            parts,
            pool,
        }
    }

    /// Logits `[N, classes]` from top features `[N·parts, C, h, w]`, each
    /// sample's parts consecutive.
    pub fn forward(&self, top: Tensor<B, 4>) -> Tensor<B, 2> {
        let [m, c, _, _] = top.dims();
        let n = m / self.parts.max(1);
        let pooled = adaptive_avg_pool2d(top, [self.pool, self.pool]);
        let x = pooled.reshape([m, c * self.pool * self.pool]);
        let h = relu(self.part.forward(x));
        let joined = h.reshape([n, self.parts * self.part.weight.dims()[1]]);
        self.out.forward(relu(self.joint.forward(joined)))
    }
}

/// One step of a classification task: `inputs` (each sample's parts
/// consecutive) through the backbone and `head`, cross-entropy against
/// `labels`, with the metric `accuracy`; also the predicted classes when the
/// context asks for a sheet.
pub(crate) fn classify<B: Backend>(
    name: &'static str,
    ctx: &TaskContext<B>,
    head: &ClassifierHead<B>,
    inputs: &[Image],
    labels: &[i64],
) -> (TaskOutput<B>, Option<Vec<usize>>) {
    let x = Image::to_tensor::<B>(inputs, &ctx.device());
    let logits = head.forward(ctx.backbone.forward(normalise(x)).top().clone());
    let acc = accuracy(logits.clone(), labels);
    let predicted = ctx.sheet.then(|| argmax_rows(logits.clone()));
    let out = TaskOutput::new(name, cross_entropy(logits, labels), vec![("accuracy", acc)]);
    (out, predicted)
}

/// Share of the rows of `[N, K]` logits whose largest logit is at their label.
fn accuracy<B: Backend>(logits: Tensor<B, 2>, labels: &[i64]) -> Tensor<B, 1> {
    let predicted = logits.detach().argmax(1).reshape([labels.len()]);
    let truth = Tensor::<B, 1, Int>::from_data(
        TensorData::new(labels.to_vec(), [labels.len()]),
        &predicted.device(),
    );
    predicted.equal(truth).float().mean()
}

/// Cross-entropy of `[N, K]` logits against class indices.
fn cross_entropy<B: Backend>(logits: Tensor<B, 2>, labels: &[i64]) -> Tensor<B, 1> {
    let [n, k] = logits.dims();
    let device = logits.device();
    let targets = Tensor::<B, 1, Int>::from_data(TensorData::new(labels.to_vec(), [n]), &device);
    let one_hot = targets.one_hot::<2>(k).float();
    let logp = burn::tensor::activation::log_softmax(logits, 1);
    (logp * one_hot).sum_dim(1).mean().neg()
}

/// Predicted classes of `[N, K]` logits.
fn argmax_rows<B: Backend>(logits: Tensor<B, 2>) -> Vec<usize> {
    logits
        .detach()
        .argmax(1)
        .into_data()
        .convert::<i64>()
        .to_vec::<i64>()
        .unwrap_or_default()
        .into_iter()
        .map(|v| v.max(0) as usize)
        .collect()
}
