//! Each adaptation method, on a toy problem: two Gaussian clouds shifted
//! along one axis (synthetic and real), a small encoder trained on a
//! synthetic task. Without adaptation the
//! encoder keeps the shift and a linear domain classifier separates the
//! domains; with adaptation its accuracy falls towards chance.
//! The synthetic task (reconstructing the input) needs axis 0 too, so the
//! encoder must find features that serve it and still hide the shift.

use burn::backend::{Autodiff, Flex};
use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::optim::{AdamConfig, GradientsParams, Optimizer};
use burn::tensor::activation::relu;
use burn::tensor::backend::Backend;
use burn::tensor::{Distribution, Tensor};
use domain_adapt::{AdaptConfig, Adapter, Method, gap};

type B = Autodiff<Flex>;
const DIM: usize = 8;
const SHIFT: f64 = 4.0;

#[derive(Module, Debug)]
struct Toy<B: Backend> {
    enc1: Linear<B>,
    enc2: Linear<B>,
    head: Linear<B>,
}

impl<B: Backend> Toy<B> {
    fn new(device: &B::Device) -> Self {
        Toy {
            enc1: LinearConfig::new(DIM, 32).init(device),
            enc2: LinearConfig::new(32, DIM).init(device),
            head: LinearConfig::new(DIM, DIM).init(device),
        }
    }

    /// Features as a `[N, DIM, 1, 1]` map, the shape the adapters read.
    fn features(&self, x: Tensor<B, 2>) -> Tensor<B, 4> {
        let [n, _] = x.dims();
        self.enc2
            .forward(relu(self.enc1.forward(x)))
            .reshape([n, DIM, 1, 1])
    }
}

/// `n` points of one domain: unit Gaussian, axis 0 shifted by ±SHIFT/2.
fn cloud(n: usize, real: bool, device: &burn::tensor::Device<B>) -> Tensor<B, 2> {
    let x = Tensor::<B, 2>::random([n, DIM], Distribution::Normal(0.0, 1.0), device);
    let shift = if real { SHIFT / 2.0 } else { -SHIFT / 2.0 };
    let offset = Tensor::<B, 2>::zeros([1, DIM], device)
        .slice_assign([0..1, 0..1], Tensor::from_floats([[shift as f32]], device));
    x + offset
}

/// The synthetic task: reconstruct the input from the features. It needs
/// every coordinate, axis 0 included, so without adaptation the domains'
/// shift survives in the features.
fn task_loss(model: &Toy<B>, x: Tensor<B, 2>, features: Tensor<B, 4>) -> Tensor<B, 1> {
    let [n, _] = x.dims();
    let prediction = model.head.forward(features.reshape([n, DIM]));
    (prediction - x).powi_scalar(2).mean()
}

fn rows(t: Tensor<B, 4>) -> Vec<Vec<f32>> {
    let [n, ..] = t.dims();
    let v = t.into_data().to_vec::<f32>().unwrap();
    v.chunks(v.len() / n).map(|c| c.to_vec()).collect()
}

/// Trains the toy with `method` for `steps` steps and returns the domain
/// classifier's held-out accuracy on fresh points, the median over three
/// seeds: one adversarial run's outcome moves with float rounding (0.79 or
/// 0.88 at seed 11 with two matrix-product kernels), the median much less.
fn domain_accuracy_after(method: Method, weight: f64, steps: u64) -> f64 {
    let mut runs: Vec<f64> = [11, 12, 13]
        .map(|seed| one_run(method, weight, steps, seed))
        .to_vec();
    runs.sort_by(f64::total_cmp);
    eprintln!("{method}: {runs:.3?}");
    runs[1]
}

/// One training run of [`domain_accuracy_after`] from `seed`.
fn one_run(method: Method, weight: f64, steps: u64, seed: u64) -> f64 {
    let device = Default::default();
    B::seed(&device, seed);
    let mut model = Toy::<B>::new(&device);
    let mut optim = AdamConfig::new().init();
    let config = AdaptConfig {
        method,
        weight: Some(weight),
        hidden: 32,
        pool_size: 64,
        critic_lr: 5e-2,
        ..Default::default()
    };
    let mut adapter = Adapter::<B>::new(&config, DIM, 0, steps, 3, &device).unwrap();
    for _ in 0..steps {
        let (xs, xr) = (cloud(64, false, &device), cloud(64, true, &device));
        let (fs, fr) = (model.features(xs.clone()), model.features(xr));
        let mut loss = task_loss(&model, xs, fs.clone());
        if method != Method::None {
            loss = loss + adapter.loss(fs, fr).loss;
        }
        let mut grads = loss.backward();
        adapter.after_backward(&mut grads);
        let grads = GradientsParams::from_grads(grads, &model);
        model = optim.step(1e-2, model, grads);
    }
    let synthetic = rows(model.features(cloud(200, false, &device)));
    let real = rows(model.features(cloud(200, true, &device)));
    gap::measure(&synthetic, &real).unwrap().accuracy
}

#[test]
// CORAL is left out: it matches covariances, and a pure mean shift has equal ones.
fn adaptation_pulls_the_domains_together() {
    let steps = 800;
    let none = domain_accuracy_after(Method::None, 0.0, steps);
    eprintln!("none: {none:.3}");
    assert!(
        none > 0.8,
        "without adaptation the domains stay apart: {none}"
    );
    // The adversarial critic (detached, pooled features) pulls less and less
    // steadily on this toy than gradient reversal and MMD: medians of 0.78
    // and 0.87 against 0.98 without, with AVX-512 and AVX2 kernels.
    for (method, weight, margin) in [
        (Method::Adversarial, 1.0, 0.08),
        (Method::Grl, 1.0, 0.15),
        (Method::Mmd, 1.0, 0.15),
    ] {
        let acc = domain_accuracy_after(method, weight, steps);
        eprintln!("{method}: domain accuracy {acc:.3} (none: {none:.3})");
        assert!(
            acc < none - margin,
            "{method}: domain accuracy {acc} (none {none})"
        );
    }
}
