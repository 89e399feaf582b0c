//! A linear softmax classifier on cached feature vectors: standardised with
//! the training split's statistics, trained with SGD (momentum 0.9, weight
//! decay, cosine learning-rate schedule over a fixed number of epochs).

use burn::backend::{Autodiff, Flex};
use burn::module::AutodiffModule;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::nn::{Linear, LinearConfig};
use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{GradientsParams, Optimizer, SgdConfig};
use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor, TensorData};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

type B = Autodiff<Flex>;

/// The classifier's schedule.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct ClassifierConfig {
    /// Passes over the training split.
    pub epochs: usize,
    /// Examples per step.
    pub batch: usize,
    /// Peak learning rate (cosine decay to 0).
    pub lr: f64,
    /// L2 weight decay.
    pub weight_decay: f64,
    /// Seed of initialisation and shuffling.
    pub seed: u64,
}

impl Default for ClassifierConfig {
    fn default() -> Self {
        ClassifierConfig {
            epochs: 30,
            batch: 256,
            lr: 0.1,
            weight_decay: 5e-4,
            seed: 0,
        }
    }
}

/// Feature vectors (rows of `dims` values) with their labels.
#[derive(Clone, Debug, Default)]
pub struct Examples {
    /// Values, row-major `[n, dims]`.
    pub features: Vec<f32>,
    /// Label of each row.
    pub labels: Vec<u32>,
    /// Values per row.
    pub dims: usize,
}

impl Examples {
    /// Rows.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// True without rows.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }
}

/// Top-1 accuracies of a trained classifier.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Accuracy {
    /// On the training split.
    pub train: f64,
    /// On the test split.
    pub test: f64,
}

/// Per-dimension mean and inverse spread of `x` `[n, d]`.
fn moments(x: &Examples) -> (Vec<f32>, Vec<f32>) {
    let (n, d) = (x.len().max(1), x.dims);
    let mut mean = vec![0f64; d];
    for row in x.features.chunks(d.max(1)) {
        for (m, v) in mean.iter_mut().zip(row) {
            *m += f64::from(*v);
        }
    }
    mean.iter_mut().for_each(|m| *m /= n as f64);
    let mut var = vec![0f64; d];
    for row in x.features.chunks(d.max(1)) {
        for ((s, v), m) in var.iter_mut().zip(row).zip(&mean) {
            *s += (f64::from(*v) - m).powi(2);
        }
    }
    let inv = var
        .iter()
        .map(|s| (1.0 / (s / n as f64).sqrt().max(1e-6)) as f32)
        .collect();
    (mean.into_iter().map(|m| m as f32).collect(), inv)
}

fn standardised(x: &Examples, mean: &[f32], inv: &[f32]) -> Vec<f32> {
    let d = x.dims.max(1);
    x.features
        .iter()
        .enumerate()
        .map(|(i, v)| (v - mean[i % d]) * inv[i % d])
        .collect()
}

fn top1<Bk: Backend>(
    model: &Linear<Bk>,
    x: &[f32],
    labels: &[u32],
    d: usize,
    device: &Bk::Device,
) -> f64 {
    let mut right = 0usize;
    for (rows, ys) in x.chunks(1024 * d).zip(labels.chunks(1024)) {
        let t = Tensor::<Bk, 2>::from_data(TensorData::new(rows.to_vec(), [ys.len(), d]), device);
        let pred = model
            .forward(t)
            .argmax(1)
            .into_data()
            .convert::<i64>()
            .to_vec::<i64>()
            .unwrap_or_default();
        right += pred
            .iter()
            .zip(ys)
            .filter(|(p, y)| **p == i64::from(**y))
            .count();
    }
    right as f64 / labels.len().max(1) as f64
}

/// A trained linear classifier with the standardisation of its training
/// features, held on the host so that test features can be scored as they
/// are computed.
#[derive(Clone, Debug)]
pub struct LinearProbe {
    mean: Vec<f32>,
    inv: Vec<f32>,
    /// `[dims, classes]`, row-major.
    weight: Vec<f32>,
    bias: Vec<f32>,
    classes: usize,
    /// Top-1 on the training split.
    pub train_top1: f64,
}

impl LinearProbe {
    /// The predicted class of every row of `x` (`[n, dims]`, raw features).
    pub fn predict(&self, x: &Examples) -> Vec<u32> {
        let d = self.mean.len();
        if x.dims != d || d == 0 {
            return vec![u32::MAX; x.len()];
        }
        let k = self.classes;
        let mut standard = vec![0f32; d];
        x.features
            .chunks(d)
            .map(|row| {
                for (j, v) in row.iter().enumerate() {
                    standard[j] = (v - self.mean[j]) * self.inv[j];
                }
                let mut logits = self.bias.clone();
                for (j, v) in standard.iter().enumerate() {
                    let w = &self.weight[j * k..(j + 1) * k];
                    logits.iter_mut().zip(w).for_each(|(l, w)| *l += v * w);
                }
                let best = logits
                    .iter()
                    .enumerate()
                    .fold(
                        (0, f32::NEG_INFINITY),
                        |b, (c, &v)| if v > b.1 { (c, v) } else { b },
                    );
                best.0 as u32
            })
            .collect()
    }

    /// Rows of `x` classified correctly.
    pub fn correct(&self, x: &Examples) -> usize {
        self.predict(x)
            .iter()
            .zip(&x.labels)
            .filter(|(p, y)| p == y)
            .count()
    }
}

/// Trains a linear classifier over `classes` classes on `train` (standardised
/// with its own statistics).
pub fn fit(train: &Examples, classes: usize, config: &ClassifierConfig) -> LinearProbe {
    let device = Default::default();
    let d = train.dims.max(1);
    let (mean, inv) = moments(train);
    let xtrain = standardised(train, &mean, &inv);
    B::seed(&device, config.seed);
    let mut model: Linear<B> = LinearConfig::new(d, classes.max(2)).init(&device);
    let mut optim = SgdConfig::new()
        .with_momentum(Some(
            MomentumConfig::new().with_momentum(0.9).with_dampening(0.0),
        ))
        .with_weight_decay(Some(WeightDecayConfig::new(config.weight_decay as f32)))
        .init::<B, Linear<B>>();
    let loss_fn = CrossEntropyLossConfig::new().init(&device);
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let mut order: Vec<usize> = (0..train.len()).collect();
    let batch = config.batch.max(1);
    let steps_per_epoch = train.len().div_ceil(batch).max(1);
    let total = (steps_per_epoch * config.epochs.max(1)) as f64;
    let mut step = 0usize;
    for _ in 0..config.epochs.max(1) {
        order.shuffle(&mut rng);
        for idx in order.chunks(batch) {
            let mut rows = Vec::with_capacity(idx.len() * d);
            let mut ys = Vec::with_capacity(idx.len());
            for &i in idx {
                rows.extend_from_slice(&xtrain[i * d..(i + 1) * d]);
                ys.push(i64::from(train.labels[i]));
            }
            let x = Tensor::<B, 2>::from_data(TensorData::new(rows, [idx.len(), d]), &device);
            let y = Tensor::<B, 1, Int>::from_data(TensorData::new(ys, [idx.len()]), &device);
            let loss = loss_fn.forward(model.forward(x), y);
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            let lr = config.lr * 0.5 * (1.0 + (std::f64::consts::PI * step as f64 / total).cos());
            model = optim.step(lr, model, grads);
            step += 1;
        }
    }
    let eval = model.valid();
    let train_top1 = top1(&eval, &xtrain, &train.labels, d, &device);
    let host = |t: Tensor<Flex, 2>| {
        t.into_data()
            .convert::<f32>()
            .to_vec::<f32>()
            .unwrap_or_default()
    };
    let weight = host(eval.weight.val());
    let bias = eval
        .bias
        .as_ref()
        .map(|b| {
            b.val()
                .into_data()
                .convert::<f32>()
                .to_vec::<f32>()
                .unwrap_or_default()
        })
        .unwrap_or_else(|| vec![0.0; classes.max(2)]);
    LinearProbe {
        mean,
        inv,
        weight,
        bias,
        classes: classes.max(2),
        train_top1,
    }
}

/// Trains a linear classifier over `classes` classes on `train` and returns
/// its top-1 on `train` and `test` (both standardised with `train`'s statistics).
pub fn fit_and_score(
    train: &Examples,
    test: &Examples,
    classes: usize,
    config: &ClassifierConfig,
) -> Accuracy {
    let probe = fit(train, classes, config);
    Accuracy {
        train: probe.train_top1,
        test: probe.correct(test) as f64 / test.len().max(1) as f64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    /// `n` points of `classes` classes in `d` dimensions: class c has a mean
    /// of 3 on axis c (separable by construction), plus unit noise.
    fn separable(n: usize, d: usize, classes: usize, seed: u64, random_labels: bool) -> Examples {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut features = Vec::with_capacity(n * d);
        let mut labels = Vec::with_capacity(n);
        for i in 0..n {
            let c = i % classes;
            for j in 0..d {
                let noise: f32 = rng.random_range(-1.0..1.0);
                features.push(noise + if j == c { 3.0 } else { 0.0 });
            }
            labels.push(if random_labels {
                rng.random_range(0..classes as u32)
            } else {
                c as u32
            });
        }
        Examples {
            features,
            labels,
            dims: d,
        }
    }

    #[test]
    fn separable_features_reach_full_accuracy_random_labels_stay_at_chance() {
        let config = ClassifierConfig {
            epochs: 20,
            batch: 64,
            ..Default::default()
        };
        let acc = fit_and_score(
            &separable(600, 20, 5, 1, false),
            &separable(300, 20, 5, 2, false),
            5,
            &config,
        );
        assert!(acc.test > 0.98, "{acc:?}");
        // The host-side prediction agrees with the trained network's.
        let train = separable(600, 20, 5, 1, false);
        let probe = fit(&train, 5, &config);
        assert_eq!(
            probe.correct(&train) as f64 / train.len() as f64,
            probe.train_top1
        );
        let acc = fit_and_score(
            &separable(600, 20, 5, 3, true),
            &separable(1000, 20, 5, 4, true),
            5,
            &config,
        );
        assert!((acc.test - 0.2).abs() < 0.06, "random labels: {acc:?}");
    }
}
