//! SimCLR (Chen et al., ICML 2020): two augmented views of every image of the
//! batch through the shared backbone, the top features average-pooled and
//! projected by a two-layer MLP, and the NT-Xent loss: each view must pick its
//! partner out of the other `2N − 1` views of the batch by cosine similarity.

use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::activation::{log_softmax, relu};
use burn::tensor::backend::Backend;
use burn::tensor::module::adaptive_avg_pool2d;
use burn::tensor::{Int, Tensor, TensorData};

use super::{SheetCell, Task, TaskContext, TaskError, TaskOutput};
use crate::pretext::views::view;
use crate::pretext::{ContrastiveConfig, Image};
use crate::train::normalise;

/// Contrastive learning between two views of each image.
#[derive(Module, Debug)]
pub struct SimclrTask<B: Backend> {
    hidden: Linear<B>,
    out: Linear<B>,
    #[module(skip)]
    config: ContrastiveConfig,
}

impl<B: Backend> SimclrTask<B> {
    /// A projection head on `channels` pooled top-feature channels.
    pub fn new(channels: usize, config: &ContrastiveConfig, device: &B::Device) -> Self {
        SimclrTask {
            hidden: LinearConfig::new(channels, config.hidden).init(device),
            out: LinearConfig::new(config.hidden, config.projection_dim).init(device),
            config: config.clone(),
        }
    }

    /// Unit-length embeddings `[N, projection_dim]` of `[N, C, h, w]` top features.
    fn embed(&self, top: Tensor<B, 4>) -> Tensor<B, 2> {
        let [n, c, _, _] = top.dims();
        let pooled = adaptive_avg_pool2d(top, [1, 1]).reshape([n, c]);
        unit_rows(self.out.forward(relu(self.hidden.forward(pooled))))
    }
}

/// Rows scaled to unit length.
fn unit_rows<B: Backend>(z: Tensor<B, 2>) -> Tensor<B, 2> {
    let norm = (z.clone() * z.clone()).sum_dim(1).sqrt().clamp_min(1e-8);
    z / norm
}

/// NT-Xent of unit embeddings `[2N, D]` whose rows `i` and `i + N` are two
/// views of one image, at temperature `tau`: the mean over rows of the
/// cross-entropy of picking the partner among every other row. Returns the
/// loss and the share of rows whose most similar other row is the partner.
pub fn nt_xent<B: Backend>(z: Tensor<B, 2>, tau: f64) -> (Tensor<B, 1>, Tensor<B, 1>) {
    let [m, _] = z.dims();
    let n = m / 2;
    let device = z.device();
    let sim = z.clone().matmul(z.transpose()) / tau;
    // A row's similarity with itself is taken out of the softmax.
    let sim = sim - Tensor::<B, 2>::eye(m, &device) * 1e4;
    let partners: Vec<i64> = (0..m).map(|i| ((i + n) % m) as i64).collect();
    let targets = Tensor::<B, 1, Int>::from_data(TensorData::new(partners, [m]), &device);
    let found = sim
        .clone()
        .detach()
        .argmax(1)
        .reshape([m])
        .equal(targets.clone())
        .float()
        .mean();
    let one_hot = targets.one_hot::<2>(m).float();
    let loss = (log_softmax(sim, 1) * one_hot).sum_dim(1).mean().neg();
    (loss, found)
}

impl<B: Backend> Task<B> for SimclrTask<B> {
    fn name(&self) -> &'static str {
        "simclr"
    }

    fn forward(&self, ctx: &TaskContext<B>) -> Result<TaskOutput<B>, TaskError> {
        let images = ctx.images();
        let mut rng = ctx.rng(self.name());
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for img in images {
            a.push(view(img, img.h, &self.config, &mut rng));
            b.push(view(img, img.h, &self.config, &mut rng));
        }
        let views: Vec<Image> = a.iter().chain(&b).cloned().collect();
        let x = Image::to_tensor::<B>(&views, &ctx.device());
        let z = self.embed(ctx.backbone.forward(normalise(x)).top().clone());
        let (loss, found) = nt_xent(z, self.config.temperature);
        let mut out = TaskOutput::new(self.name(), loss, vec![("accuracy", found)]);
        if ctx.sheet {
            out.sheet = Some(
                a.into_iter()
                    .zip(b)
                    .take(4)
                    .enumerate()
                    .flat_map(|(i, (va, vb))| {
                        [
                            SheetCell {
                                image: va,
                                caption: format!("{} view a", i + 1),
                            },
                            SheetCell {
                                image: vb,
                                caption: format!("{} view b", i + 1),
                            },
                        ]
                    })
                    .collect(),
            );
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::Flex;

    type B = Flex;

    fn rows(values: &[[f32; 2]]) -> Tensor<B, 2> {
        let flat: Vec<f32> = values.iter().flatten().copied().collect();
        Tensor::from_data(
            TensorData::new(flat, [values.len(), 2]),
            &Default::default(),
        )
    }

    fn value(t: Tensor<B, 1>) -> f64 {
        crate::scalar(t)
    }

    #[test]
    fn nt_xent_is_small_when_partners_agree_and_matches_its_formula() {
        // Two images, views aligned with their partner, the images orthogonal.
        let z = rows(&[[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0]]);
        let (loss, found) = nt_xent(z, 0.5);
        // Row 0: partner similarity 1, the other two 0: −log(e² / (e² + 2)).
        let e2 = (2.0f64).exp();
        let want = -(e2 / (e2 + 2.0)).ln();
        assert!((value(loss) - want).abs() < 1e-4, "{want}");
        assert_eq!(value(found), 1.0);
        // Swapped partners: the loss grows and no row finds its partner.
        let z = rows(&[[1.0, 0.0], [0.0, 1.0], [0.0, 1.0], [1.0, 0.0]]);
        let (bad, found) = nt_xent(z, 0.5);
        assert!(value(bad) > want + 1.0);
        assert_eq!(value(found), 0.0);
    }

    #[test]
    fn a_lower_temperature_sharpens_the_loss() {
        let z = unit_rows(rows(&[[1.0, 0.1], [0.1, 1.0], [1.0, 0.0], [0.0, 1.0]]));
        let (hot, _) = nt_xent(z.clone(), 1.0);
        let (cold, _) = nt_xent(z, 0.1);
        assert!(value(cold) < value(hot));
    }
}
