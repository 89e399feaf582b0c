//! The CPU backend (burn-flex) and the GPU backend (wgpu; lavapipe where there
//! is no GPU) compute the same thing: every layer type the models use, each
//! loss, and the whole multitask model (losses and every parameter gradient),
//! from identical weights and inputs.
//!
//! Tolerance: relative L2 error `‖a − b‖ / ‖a‖` below 1e-4 for single layers
//! and 1e-3 for the whole model's gradients (float32, reductions summed in a
//! different order on each backend). A wrong kernel is off by orders of
//! magnitude more.

use burn::backend::{Autodiff, Flex, Wgpu};
use burn::module::Module;
use burn::nn::PaddingConfig2d;
use burn::nn::conv::{Conv2dConfig, ConvTranspose2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::tensor::Tensor;
use burn::tensor::activation::relu;
use burn::tensor::backend::{AutodiffBackend, Backend};
use trainer::agreement::{Fill, Grads, Outcome, compare, tensor, worst};
use trainer::batch::SyntheticBatch;
use trainer::losses::{contour_loss, depth_loss, normal_loss};
use trainer::model::resize::bilinear;
use trainer::model::{BackboneConfig, BackboneKind, BatchNorm2d};
use trainer::train::MultiTaskConfig;

mod common;

type Cpu = Autodiff<Flex>;
type Gpu = Autodiff<Wgpu>;

fn data<B: Backend, const D: usize>(t: Tensor<B, D>) -> Vec<f32> {
    t.into_data().convert::<f32>().to_vec().unwrap_or_default()
}

/// Runs `layer` on a fixed input and backpropagates `sum(y · r)` for a fixed
/// `r`; returns the output, the input gradient and every parameter gradient.
fn layer_outcome<B, M, const D: usize>(
    device: &B::Device,
    module: M,
    input: [usize; 4],
    forward: impl Fn(&M, Tensor<B, 4>) -> Tensor<B, D>,
) -> Outcome
where
    B: AutodiffBackend,
    M: Module<B>,
{
    let module = module.map(&mut Fill::new());
    let x = tensor::<B, 4>(input, 1000, 2.0, device).require_grad();
    let y = forward(&module, x.clone());
    let r = tensor::<B, D>(y.dims(), 2000, 1.0, device);
    let grads = (y.clone() * r).sum().backward();
    let mut out = vec![("output".to_string(), data(y))];
    if let Some(g) = x.grad(&grads) {
        out.push(("input grad".into(), data(g)));
    }
    let mut visitor = Grads::<B>::new(&grads);
    module.visit(&mut visitor);
    for (i, g) in visitor.out.into_iter().enumerate() {
        out.push((format!("param {i} grad"), g));
    }
    out
}

fn assert_agree(what: &str, cpu: Outcome, gpu: Outcome, tolerance: f64) {
    let (name, e) = worst(&cpu, &gpu);
    assert!(
        e < tolerance,
        "{what} {name}: relative error {e:.3e} between burn-flex and wgpu (tolerance {tolerance:.0e})"
    );
}

/// Runs `$f::<Cpu>` and `$f::<Gpu>` and compares them.
macro_rules! agree {
    ($what:expr, $f:ident, $tol:expr) => {{
        let cpu = $f::<Cpu>(&Default::default());
        let gpu = $f::<Gpu>(&Default::default());
        assert_agree($what, cpu, gpu, $tol);
    }};
}

fn conv_stride2<B: AutodiffBackend>(d: &B::Device) -> Outcome {
    let conv = Conv2dConfig::new([8, 16], [3, 3])
        .with_stride([2, 2])
        .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
        .init::<B>(d);
    layer_outcome(d, conv, [4, 8, 32, 32], |m, x| m.forward(x))
}

fn conv_full_resolution<B: AutodiffBackend>(d: &B::Device) -> Outcome {
    // A head's output convolution: the bias gradient sums 16·128² values.
    let conv = Conv2dConfig::new([4, 1], [3, 3])
        .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
        .init::<B>(d);
    layer_outcome(d, conv, [16, 4, 128, 128], |m, x| m.forward(x))
}

fn conv_alexnet_first<B: AutodiffBackend>(d: &B::Device) -> Outcome {
    let conv = Conv2dConfig::new([3, 8], [11, 11])
        .with_stride([4, 4])
        .init::<B>(d);
    layer_outcome(d, conv, [2, 3, 67, 67], |m, x| m.forward(x))
}

fn conv_dilated<B: AutodiffBackend>(d: &B::Device) -> Outcome {
    let conv = Conv2dConfig::new([8, 16], [6, 6])
        .with_dilation([2, 2])
        .with_padding(PaddingConfig2d::Explicit(5, 5, 5, 5))
        .init::<B>(d);
    layer_outcome(d, conv, [2, 8, 13, 13], |m, x| m.forward(x))
}

fn conv_transpose<B: AutodiffBackend>(d: &B::Device) -> Outcome {
    let up = ConvTranspose2dConfig::new([16, 8], [4, 4])
        .with_stride([2, 2])
        .with_padding([1, 1])
        .init::<B>(d);
    layer_outcome(d, up, [4, 16, 16, 16], |m, x| m.forward(x))
}

fn batch_norm<B: AutodiffBackend>(d: &B::Device) -> Outcome {
    // Training-size reductions: 16·64·64 values per channel, mean far from zero.
    let norm = BatchNorm2d::<B>::new(8, d);
    let mut out = layer_outcome(d, norm, [16, 8, 64, 64], |m, x| m.forward(x + 3.0));
    // Past wgpu's longest exact reduction (65,532 values along one axis),
    // which breaks burn's own BatchNorm: 32·128² values per channel.
    let norm = BatchNorm2d::<B>::new(2, d);
    let big = layer_outcome(d, norm, [32, 2, 128, 128], |m, x| m.forward(x + 3.0));
    out.extend(
        big.into_iter()
            .map(|(k, v)| (format!("{k} (32x2x128x128)"), v)),
    );
    // The running statistics the forward pass left behind.
    let norm = BatchNorm2d::<B>::new(8, d);
    let _ = norm.forward(tensor::<B, 4>([16, 8, 64, 64], 1000, 2.0, d) + 3.0);
    out.push(("running mean".into(), data(norm.running_mean.value_sync())));
    out.push(("running var".into(), data(norm.running_var.value_sync())));
    out
}

fn relu_pool_resize<B: AutodiffBackend>(d: &B::Device) -> Outcome {
    // AlexNet's pools: 3×3 stride 2, then 3×3 stride 1 ("pool5").
    let pool = MaxPool2dConfig::new([3, 3]).with_strides([2, 2]).init();
    let pool5 = MaxPool2dConfig::new([3, 3]).with_strides([1, 1]).init();
    layer_outcome(d, pool, [2, 8, 27, 27], |p: &MaxPool2d, x: Tensor<B, 4>| {
        bilinear(pool5.forward(p.forward(relu(x))), [20, 20])
    })
}

/// The three synthetic losses and their gradients for fixed predictions.
fn task_losses<B: AutodiffBackend>(d: &B::Device) -> Outcome {
    let batch = SyntheticBatch::<B>::from_samples(
        &(0..4).map(|i| common::sample(i, 32)).collect::<Vec<_>>(),
        1,
        d,
    )
    .unwrap_or_else(|e| panic!("batch: {e}"));
    let pred = tensor::<B, 4>([4, 5, 32, 32], 3000, 2.0, d).require_grad();
    let depth = depth_loss(pred.clone().narrow(1, 0, 1), batch.depth_m.clone());
    let normal = normal_loss(
        pred.clone().narrow(1, 1, 3),
        batch.normal.clone(),
        batch.valid,
    );
    let contour = contour_loss(pred.clone().narrow(1, 4, 1), batch.contour);
    let total = depth.clone() + normal.clone() + contour.clone();
    let grads = total.backward();
    let mut out = vec![
        ("depth loss".to_string(), data(depth)),
        ("normal loss".into(), data(normal)),
        ("contour loss".into(), data(contour)),
    ];
    if let Some(g) = pred.grad(&grads) {
        out.push(("prediction grad".into(), data(g)));
    }
    out
}

/// The whole multitask model, one step: per-task losses and every parameter's
/// gradient (`trainer::agreement`, which `train --device wgpu` also runs).
fn whole_model_error(backbone: BackboneConfig, size: usize, images: usize) -> (String, f64) {
    let config = MultiTaskConfig::new(
        backbone,
        ["depth", "normal", "contour"].map(String::from).to_vec(),
    )
    .with_label_scale(4);
    compare::<Cpu, Gpu>(
        &config,
        images,
        size,
        &Default::default(),
        &Default::default(),
    )
    .unwrap_or_else(|e| panic!("model: {e}"))
}

#[test]
fn convolutions_agree_across_backends() {
    agree!("conv 3x3 stride 2", conv_stride2, 1e-4);
    agree!("conv 11x11 stride 4", conv_alexnet_first, 1e-4);
    agree!("conv 6x6 dilation 2", conv_dilated, 1e-4);
    agree!("conv-transpose 4x4 stride 2", conv_transpose, 1e-4);
}

/// Known to fail on burn 0.21's wgpu backend (lavapipe): the weight gradient
/// of a convolution is wrong for some batch × map sizes (batch 3 or 5 at 128²,
/// batch 1 at 256², batch 16 at 128²), right for others (batch 1 or 4 at 128²).
/// Full-resolution heads on wgpu are therefore not trustworthy; run with
/// `--ignored` to check a new burn release.
#[test]
#[ignore = "burn 0.21 wgpu: wrong convolution weight gradients at full-resolution sizes"]
fn full_resolution_convolution_agrees_across_backends() {
    agree!("conv 3x3 at full resolution", conv_full_resolution, 1e-4);
}

#[test]
fn batch_norm_agrees_across_backends_at_training_sizes() {
    agree!("batch norm", batch_norm, 1e-4);
}

#[test]
fn relu_pooling_and_resizing_agree_across_backends() {
    agree!("relu + max-pool + bilinear", relu_pool_resize, 1e-4);
}

#[test]
fn losses_agree_across_backends() {
    agree!("task losses", task_losses, 1e-4);
}

#[test]
fn the_whole_model_agrees_across_backends() {
    let alexnet = BackboneConfig::new()
        .with_kind(BackboneKind::Alexnet)
        .with_alexnet_divisor(16);
    for (what, backbone, size, images) in [
        // The CPU default's shape: 64 px, batch 8, labels at ¼.
        ("small", BackboneConfig::new().with_width(8), 64, 8),
        ("alexnet", alexnet, 99, 4),
    ] {
        let (name, e) = whole_model_error(backbone, size, images);
        assert!(
            e < 1e-3,
            "{what} multitask model {name}: relative error {e:.3e} between burn-flex and wgpu (tolerance 1e-3)"
        );
    }
}
