//! The classification head of rotation, jigsaw and relative position: each
//! part's pooled features through a shared fully connected layer, the parts
//! concatenated, then two more layers (Noroozi & Favaro's fc6 per tile → fc7 → fc8).

use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::Tensor;
use burn::tensor::activation::relu;
use burn::tensor::backend::Backend;
use burn::tensor::module::adaptive_avg_pool2d;

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
