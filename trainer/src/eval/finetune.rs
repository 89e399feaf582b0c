//! Fine-tuning: the whole encoder and a new linear classifier on its
//! globally pooled top layer, trained on the labelled set's training split
//! (random crops and flips; the backbone at a tenth of the head's learning
//! rate), scored top-1 on the test split.

use burn::module::{AutodiffModule, Module};
use burn::nn::loss::CrossEntropyLossConfig;
use burn::nn::{Linear, LinearConfig};
use burn::optim::{AdamConfig, GradientsParams, Optimizer};

use crate::optim::dense_adam;
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{Int, Tensor, TensorData};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::labelled::LabelledSet;
use crate::model::Backbone;
use crate::real::to_tensor;
use crate::train::normalise;
use domain_adapt::stats::pooled;

/// Fine-tuning settings.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct FinetuneConfig {
    /// Optimisation steps.
    pub steps: usize,
    /// Images per step.
    pub batch: usize,
    /// The classifier's Adam learning rate.
    pub lr: f64,
    /// The backbone's learning rate as a fraction of `lr`.
    pub backbone_lr_scale: f64,
    /// Input size, pixels.
    pub size: usize,
    /// Seed of the head's initialisation, the batches and the augmentation.
    pub seed: u64,
}

/// The fine-tuning result.
#[derive(Clone, Debug, serde::Serialize)]
pub struct FinetuneReport {
    /// Top-1 on the test split.
    pub test_top1: f64,
    /// Training loss averaged over the last tenth of the steps.
    pub final_train_loss: f64,
    /// Test images scored.
    pub test_images: usize,
    /// Images skipped as undecodable.
    pub skipped: usize,
}

/// A classifier on the backbone's pooled top layer.
#[derive(Module, Debug)]
struct Classifier<B: Backend> {
    backbone: Backbone<B>,
    head: Linear<B>,
}

impl<B: Backend> Classifier<B> {
    fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 2> {
        let f = self.backbone.forward(normalise(x));
        self.head.forward(pooled(f.top().clone()))
    }
}

/// Fine-tunes `backbone` with a new classifier on `set`; `progress(step, loss)`.
pub fn finetune<B: AutodiffBackend>(
    backbone: Backbone<B>,
    channels: usize,
    set: &LabelledSet,
    config: &FinetuneConfig,
    device: &B::Device,
    progress: &mut dyn FnMut(usize, f64),
) -> FinetuneReport {
    B::seed(device, config.seed);
    let mut model = Classifier {
        backbone,
        head: LinearConfig::new(channels, set.classes.len()).init(device),
    };
    let mut backbone_optim = dense_adam::<B, Backbone<B>>(&AdamConfig::new());
    let mut head_optim = dense_adam::<B, Linear<B>>(&AdamConfig::new());
    let loss_fn = CrossEntropyLossConfig::new().init(device);
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let (mut skipped, mut losses) = (0, Vec::new());
    for step in 1..=config.steps {
        let items: Vec<(usize, u32)> = (0..config.batch.max(1))
            .map(|_| set.train[rng.random_range(0..set.train.len().max(1))])
            .collect();
        let (images, labels, s) = set.inputs(&items, config.size, Some(&mut rng));
        skipped += s;
        if images.is_empty() {
            continue;
        }
        let n = labels.len();
        let x = to_tensor::<B>(&images, config.size, device);
        let labels: Vec<i64> = labels.into_iter().map(i64::from).collect();
        let y = Tensor::<B, 1, Int>::from_data(TensorData::new(labels, [n]), device);
        let loss = loss_fn.forward(model.forward(x), y);
        losses.push(crate::scalar(loss.clone().detach()));
        let mut grads = loss.backward();
        let head_grads = GradientsParams::from_module(&mut grads, &model.head);
        let backbone_grads = GradientsParams::from_grads(grads, &model.backbone);
        let Classifier { backbone, head } = model;
        model = Classifier {
            backbone: backbone_optim.step(
                config.lr * config.backbone_lr_scale,
                backbone,
                backbone_grads,
            ),
            head: head_optim.step(config.lr, head, head_grads),
        };
        progress(step, losses.last().copied().unwrap_or(f64::NAN));
    }
    let eval = model.valid();
    let (mut right, mut tested) = (0usize, 0usize);
    for chunk in set.test.chunks(64) {
        let (images, labels, s) = set.inputs::<ChaCha8Rng>(chunk, config.size, None);
        skipped += s;
        if images.is_empty() {
            continue;
        }
        let x = to_tensor::<B::InnerBackend>(&images, config.size, device);
        let pred = eval
            .forward(x)
            .argmax(1)
            .into_data()
            .convert::<i64>()
            .to_vec::<i64>()
            .unwrap_or_default();
        right += pred
            .iter()
            .zip(&labels)
            .filter(|(p, y)| **p == i64::from(**y))
            .count();
        tested += labels.len();
    }
    let tail = &losses[losses.len() - losses.len().div_ceil(10).min(losses.len())..];
    FinetuneReport {
        test_top1: right as f64 / tested.max(1) as f64,
        final_train_loss: tail.iter().sum::<f64>() / tail.len().max(1) as f64,
        test_images: tested,
        skipped,
    }
}
