//! Batch normalisation over `[N, C, H, W]`, written from row reductions.
//!
//! Burn's `nn::BatchNorm` reduces over a `swap_dims(0, 1)` copy of the whole
//! activation and normalises with four ops against `[1, C, 1, 1]` tensors. On
//! burn-flex both are slow paths (a broadcast against `[1, C, 1, 1]` runs ~20×
//! slower than a same-shape op), and on wgpu the single long reduction over
//! `N·H·W` values loses precision at training sizes. This module views the
//! activation as `[N·C, H·W]` rows instead (a free reshape): statistics are a
//! mean over each row followed by a mean over the batch (two short reductions),
//! and normalisation is one multiply and one add against `[N·C, 1]` columns,
//! the fast broadcast. The function computed is the same, so gradients are too.
//!
//! The statistics never reduce over more than [`MAX_REDUCED`] values at once:
//! on wgpu (burn 0.21, cubecl 0.10, measured on lavapipe) `sum_dim`/`mean_dim`
//! silently drop every element past 65,532 along the reduced axis (262,128
//! when the axis is contiguous and a multiple of 4), so burn's BatchNorm, which
//! reduces over `N·H·W` at once, gets wrong statistics from batch 16 at 128² on.
//! (The gradient of the per-channel shift still sums each row at once, so
//! gradients on wgpu stay exact only for maps of up to 65,532 pixels, 256².)
//!
//! CPU training (`Autodiff<Flex>`) normalises in one op with its own backward
//! pass instead ([`super::flex_norm`]): the same function, in a quarter of
//! the time.
//!
//! Field names match burn's `BatchNorm`, so records and exports are unchanged.
//! Unlike burn's, the running variance is the unbiased batch variance, as in
//! PyTorch, whose `BatchNorm2d` the export names follow.

use std::any::TypeId;

use burn::backend::{Autodiff, Flex};
use burn::module::{Initializer, Module, Param, RunningState};
use burn::tensor::backend::Backend;
use burn::tensor::{DType, Tensor, TensorData, TensorPrimitive};

use super::conv::cast;
use super::flex_norm;

/// CPU training's backend, which normalises in one op ([`super::flex_norm`]).
type CpuTrain = Autodiff<Flex>;

/// Default momentum of the running statistics (PyTorch's and burn's).
pub const MOMENTUM: f64 = 0.1;
/// Default variance epsilon.
pub const EPSILON: f64 = 1e-5;
/// The longest axis one reduction may cover and stay exact on every backend.
pub const MAX_REDUCED: usize = 65_532;

/// Batch norm over the channels of `[N, C, H, W]` activations.
#[derive(Module, Debug)]
pub struct BatchNorm2d<B: Backend> {
    /// Per-channel scale γ.
    pub gamma: Param<Tensor<B, 1>>,
    /// Per-channel shift β.
    pub beta: Param<Tensor<B, 1>>,
    /// Running mean, used in evaluation.
    pub running_mean: RunningState<Tensor<B, 1>>,
    /// Running (unbiased) variance, used in evaluation.
    pub running_var: RunningState<Tensor<B, 1>>,
    /// Weight of the current batch in the running statistics.
    pub momentum: f64,
    /// Added to the variance before the square root.
    pub epsilon: f64,
    /// Normalise with batch statistics (updating the running ones) even
    /// without gradients: set while the statistics are re-estimated on
    /// another domain ([`super::Backbone::recalibrate_norms`]).
    #[module(skip)]
    pub recalibrating: bool,
}

impl<B: Backend> BatchNorm2d<B> {
    /// γ = 1, β = 0, running mean 0 and variance 1 for `channels` channels.
    pub fn new(channels: usize, device: &B::Device) -> Self {
        BatchNorm2d {
            gamma: Initializer::Ones.init([channels], device),
            beta: Initializer::Zeros.init([channels], device),
            running_mean: RunningState::new(Tensor::zeros([channels], device)),
            running_var: RunningState::new(Tensor::ones([channels], device)),
            momentum: MOMENTUM,
            epsilon: EPSILON,
            recalibrating: false,
        }
    }

    /// Normalises with batch statistics (updating the running ones) when the
    /// backend tracks gradients, else with the running statistics.
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        if self.recalibrating || B::ad_enabled(&x.device()) {
            self.forward_train(x)
        } else {
            self.forward_eval(x)
        }
    }

    /// Normalises with the running statistics.
    pub fn forward_eval(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let device = x.device();
        let c = x.dims()[1];
        let mean = self.running_mean.value().to_device(&device).reshape([1, c]);
        let var = self.running_var.value().to_device(&device).reshape([1, c]);
        let scale = self.gamma.val().reshape([1, c]) / (var + self.epsilon).sqrt();
        let shift = self.beta.val().reshape([1, c]) - mean * scale.clone();
        affine(x, scale, shift)
    }

    /// Normalises with the batch's statistics and updates the running ones.
    pub fn forward_train(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        match self.forward_train_cpu(x) {
            Ok(y) => y,
            Err(x) => self.forward_train_ops(x),
        }
    }

    /// [`Self::forward_train`] as one op of [`super::flex_norm`] when `B` is
    /// `Autodiff<Flex>` (CPU training) and the values are `f32`; otherwise
    /// hands `x` back.
    fn forward_train_cpu(&self, x: Tensor<B, 4>) -> Result<Tensor<B, 4>, Tensor<B, 4>> {
        let (gamma, beta) = (self.gamma.val(), self.beta.val());
        if TypeId::of::<B>() != TypeId::of::<CpuTrain>()
            || [x.dtype(), gamma.dtype(), beta.dtype()] != [DType::F32; 3]
        {
            return Err(x);
        }
        let [n, c, h, w] = x.dims();
        let (Ok(xt), Ok(gamma), Ok(beta)) = (
            cast::<_, Tensor<CpuTrain, 4>>(x.clone()),
            cast::<_, Tensor<CpuTrain, 1>>(gamma),
            cast::<_, Tensor<CpuTrain, 1>>(beta),
        ) else {
            unreachable!("B is CpuTrain")
        };
        let prim = |t: Tensor<CpuTrain, 1>| t.into_primitive().tensor();
        let Some(out) = flex_norm::forward(
            xt.into_primitive().tensor(),
            prim(gamma),
            prim(beta),
            self.epsilon,
        ) else {
            return Err(x);
        };
        let device = x.device();
        let stat = |v: Vec<f32>| Tensor::<B, 1>::from_data(TensorData::new(v, [c]), &device);
        self.update_running(
            stat(out.mean).reshape([1, c]),
            stat(out.var).reshape([1, c]),
            n * h * w,
        );
        match cast(Tensor::<CpuTrain, 4>::from_primitive(
            TensorPrimitive::Float(out.y),
        )) {
            Ok(y) => Ok(y),
            Err(_) => unreachable!("B is CpuTrain"),
        }
    }

    /// [`Self::forward_train`] from tensor ops, on any backend.
    fn forward_train_ops(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let [n, c, h, w] = x.dims();
        let count = n * h * w;
        let rows = x.reshape([n * c, h * w]);
        // Mean of each (image, channel) row, then over the batch.
        let mean = row_mean(rows.clone()).reshape([n, c]).mean_dim(0);
        let centred = rows - columns(mean.clone(), n);
        let var = row_mean(centred.clone().square())
            .reshape([n, c])
            .mean_dim(0);
        self.update_running(mean, var.clone(), count);
        let scale = self.gamma.val().reshape([1, c]) / (var + self.epsilon).sqrt();
        let y = centred * columns(scale, n) + columns(self.beta.val().reshape([1, c]), n);
        y.reshape([n, c, h, w])
    }

    fn update_running(&self, mean: Tensor<B, 2>, var: Tensor<B, 2>, count: usize) {
        let c = mean.dims()[1];
        let device = mean.device();
        let m = self.momentum;
        let unbiased = count as f64 / (count.max(2) - 1) as f64;
        let mean = mean.detach().reshape([c]);
        let var = var.detach().reshape([c]) * unbiased;
        let running_mean = self.running_mean.value_sync().to_device(&device);
        let running_var = self.running_var.value_sync().to_device(&device);
        self.running_mean
            .update((running_mean * (1.0 - m) + mean * m).detach());
        self.running_var
            .update((running_var * (1.0 - m) + var * m).detach());
    }
}

/// The mean of each row of `[R, L]`, as `[R, 1]`: one reduction when rows are
/// short enough, else in two stages.
fn row_mean<B: Backend>(rows: Tensor<B, 2>) -> Tensor<B, 2> {
    let [r, len] = rows.dims();
    // The longest row segment that divides the row and one reduction may cover.
    let d = (1..=len.min(MAX_REDUCED))
        .rev()
        .find(|d| len.is_multiple_of(*d))
        .unwrap_or(1);
    if d == len {
        rows.mean_dim(1)
    } else {
        rows.reshape([r, len / d, d])
            .mean_dim(2)
            .mean_dim(1)
            .reshape([r, 1])
    }
}

/// A per-channel `[1, C]` value repeated for each image as an `[N·C, 1]` column.
fn columns<B: Backend>(per_channel: Tensor<B, 2>, n: usize) -> Tensor<B, 2> {
    let c = per_channel.dims()[1];
    per_channel.expand([n, c]).reshape([n * c, 1])
}

/// `x · scale + shift` per channel, with `scale` and `shift` as `[1, C]`.
fn affine<B: Backend>(x: Tensor<B, 4>, scale: Tensor<B, 2>, shift: Tensor<B, 2>) -> Tensor<B, 4> {
    let [n, c, h, w] = x.dims();
    let rows = x.reshape([n * c, h * w]);
    (rows * columns(scale, n) + columns(shift, n)).reshape([n, c, h, w])
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::{Autodiff, Flex};
    use burn::module::AutodiffModule;
    use burn::tensor::{Distribution, TensorData, Tolerance};

    type A = Autodiff<Flex>;

    /// Per-channel statistics of `[N, C, H, W]` computed the plain way.
    fn reference(x: &TensorData) -> (Vec<f64>, Vec<f64>) {
        let [n, c, h, w] = x.shape.dims::<4>();
        let v: Vec<f32> = x.to_vec().unwrap_or_default();
        let mut mean = vec![0.0; c];
        let mut var = vec![0.0; c];
        for ch in 0..c {
            let vals: Vec<f64> = (0..n)
                .flat_map(|i| {
                    let start = (i * c + ch) * h * w;
                    v[start..start + h * w].iter().map(|&x| x as f64)
                })
                .collect();
            mean[ch] = vals.iter().sum::<f64>() / vals.len() as f64;
            var[ch] = vals.iter().map(|x| (x - mean[ch]).powi(2)).sum::<f64>() / vals.len() as f64;
        }
        (mean, var)
    }

    #[test]
    fn the_one_op_cpu_path_matches_the_tensor_op_path_with_gradients() {
        let device = Default::default();
        for shape in [[4, 3, 5, 6], [1, 2, 1, 1], [2, 5, 7, 3]] {
            let x = Tensor::<A, 4>::random(shape, Distribution::Normal(3.0, 2.0), &device);
            let r = Tensor::<A, 4>::random(shape, Distribution::Normal(0.0, 1.0), &device);
            let norm = BatchNorm2d::<A>::new(shape[1], &device);
            let c = shape[1];
            let norm = BatchNorm2d {
                gamma: Param::from_tensor(Tensor::random(
                    [c],
                    Distribution::Uniform(0.5, 1.5),
                    &device,
                )),
                beta: Param::from_tensor(Tensor::random([c], Distribution::Default, &device)),
                ..norm
            };
            let run = |fused: bool| {
                let x = x.clone().require_grad();
                let y = match fused {
                    true => norm.forward_train(x.clone()),
                    false => norm.forward_train_ops(x.clone()),
                };
                let grads = (y.clone() * r.clone()).sum().backward();
                let dx = x.grad(&grads).map(|t| t.into_data());
                let dg = norm.gamma.grad(&grads).map(|t| t.into_data());
                let db = norm.beta.grad(&grads).map(|t| t.into_data());
                (y.into_data(), dx, dg, db)
            };
            let (fused, ops) = (run(true), run(false));
            let tol = Tolerance::absolute(1e-4);
            fused.0.assert_approx_eq::<f32>(&ops.0, tol);
            for (a, b) in [(fused.1, ops.1), (fused.2, ops.2), (fused.3, ops.3)] {
                let (Some(a), Some(b)) = (a, b) else {
                    panic!("a gradient is missing for {shape:?}")
                };
                a.assert_approx_eq::<f32>(&b, tol);
            }
        }
    }

    #[test]
    fn training_output_has_zero_mean_unit_variance_and_matches_burns_batch_norm() {
        let device = Default::default();
        // Far from zero mean, as after a convolution with a bias.
        let x = Tensor::<A, 4>::random([4, 3, 5, 6], Distribution::Normal(10.0, 2.0), &device);
        let ours = BatchNorm2d::<A>::new(3, &device);
        let burns = burn::nn::BatchNormConfig::new(3).init::<A>(&device);
        let y = ours.forward(x.clone());
        y.to_data().assert_approx_eq::<f32>(
            &burns.forward(x.clone()).to_data(),
            Tolerance::absolute(1e-4),
        );
        // Gradients agree too, for the input and for γ, β.
        let r = Tensor::<A, 4>::random([4, 3, 5, 6], Distribution::Normal(0.0, 1.0), &device);
        let xa = x.clone().require_grad();
        let ga = (ours.forward(xa.clone()) * r.clone()).sum().backward();
        let xb = x.clone().require_grad();
        let gb = (burns.forward(xb.clone()) * r).sum().backward();
        let tol = Tolerance::absolute(1e-4);
        let grad = |t: &Tensor<A, 4>, g| t.grad(g).map(|t| t.into_data());
        let (dxa, dxb) = (grad(&xa, &ga), grad(&xb, &gb));
        assert!(dxa.is_some() && dxb.is_some());
        if let (Some(a), Some(b)) = (dxa, dxb) {
            a.assert_approx_eq::<f32>(&b, tol);
        }
        for (p, q) in [(&ours.gamma, &burns.gamma), (&ours.beta, &burns.beta)] {
            let (a, b) = (p.grad(&ga), q.grad(&gb));
            assert!(a.is_some() && b.is_some());
            if let (Some(a), Some(b)) = (a, b) {
                a.into_data().assert_approx_eq::<f32>(&b.into_data(), tol);
            }
        }
    }

    #[test]
    fn long_rows_are_averaged_in_two_stages_to_the_same_mean() {
        let device = Default::default();
        // 4 · 65,536 values a row: split into segments no longer than MAX_REDUCED.
        let len = 262_144;
        let v: Vec<f32> = (0..2 * len)
            .map(|i| 1.0 + 2.0 * (i as f32 * 0.618_034).sin())
            .collect();
        let exact: Vec<f64> = v
            .chunks(len)
            .map(|row| row.iter().map(|&x| x as f64).sum::<f64>() / len as f64)
            .collect();
        let rows = Tensor::<Flex, 2>::from_data(TensorData::new(v, [2, len]), &device);
        let got: Vec<f32> = row_mean(rows).into_data().to_vec().unwrap_or_default();
        assert_eq!(got.len(), 2);
        for (g, e) in got.iter().zip(&exact) {
            assert!((*g as f64 - e).abs() < 1e-4, "{g} vs {e}");
        }
    }

    #[test]
    fn running_statistics_follow_pytorch_and_drive_evaluation() {
        let device = Default::default();
        let x = Tensor::<A, 4>::random([2, 4, 3, 3], Distribution::Normal(3.0, 1.5), &device);
        let norm = BatchNorm2d::<A>::new(4, &device);
        let _ = norm.forward(x.clone());
        let (mean, var) = reference(&x.to_data());
        let count = 2.0 * 9.0;
        let want_mean: Vec<f32> = mean.iter().map(|m| (0.1 * m) as f32).collect();
        let want_var: Vec<f32> = var
            .iter()
            .map(|v| (0.9 + 0.1 * v * count / (count - 1.0)) as f32)
            .collect();
        let tol = Tolerance::absolute(1e-5);
        norm.running_mean
            .value_sync()
            .into_data()
            .assert_approx_eq::<f32>(&TensorData::new(want_mean, [4]), tol);
        norm.running_var
            .value_sync()
            .into_data()
            .assert_approx_eq::<f32>(&TensorData::new(want_var.clone(), [4]), tol);
        // Evaluation normalises with the running statistics.
        let eval = norm.valid();
        let y = eval.forward(x.clone().inner());
        let xs: Vec<f32> = x.to_data().to_vec().unwrap_or_default();
        let ys: Vec<f32> = y.into_data().to_vec().unwrap_or_default();
        for (i, (&xv, &yv)) in xs.iter().zip(&ys).enumerate() {
            let ch = (i / 9) % 4;
            let want = (xv as f64 - 0.1 * mean[ch]) / (want_var[ch] as f64 + EPSILON).sqrt();
            assert!(
                (yv as f64 - want).abs() < 1e-4,
                "element {i}: {yv} vs {want}"
            );
        }
    }
}
