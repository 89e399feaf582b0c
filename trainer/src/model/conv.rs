//! The models' convolutions: burn's [`Conv2d`] and [`ConvTranspose2d`]
//! modules (weights, records and initialisation unchanged), run forward here so
//! that CPU training (`Autodiff<Flex>`) takes the faster backward pass of
//! [`super::flex_conv`], which falls back to burn's ops for what it does not
//! cover. Every other backend, and asymmetric padding, run the module's own
//! `forward`.

use std::any::{Any, TypeId};

use burn::backend::{Autodiff, Flex};
use burn::nn::PaddingConfig2d;
use burn::nn::conv::{Conv2d, ConvTranspose2d};
use burn::tensor::backend::Backend;
use burn::tensor::ops::{ConvOptions, ConvTransposeOptions};
use burn::tensor::{DType, Tensor, TensorPrimitive};

use super::flex_conv::{self, ConvKind};

type CpuTrain = Autodiff<Flex>;

/// `conv.forward(x)`.
pub fn conv2d<B: Backend>(conv: &Conv2d<B>, x: Tensor<B, 4>) -> Tensor<B, 4> {
    // `Same` padding can be asymmetric: burn's path handles it.
    let padding = match conv.padding {
        PaddingConfig2d::Valid => [0, 0],
        PaddingConfig2d::Explicit(top, left, bottom, right) if top == bottom && left == right => {
            [top, left]
        }
        _ => return conv.forward(x),
    };
    let kind = ConvKind::Conv(ConvOptions::new(
        conv.stride,
        padding,
        conv.dilation,
        conv.groups,
    ));
    match on_cpu_train(
        x,
        conv.weight.val(),
        conv.bias.as_ref().map(|b| b.val()),
        kind,
        false,
    ) {
        Ok(y) => y,
        Err(x) => conv.forward(x),
    }
}

/// `conv.forward(x)` for an up-convolution.
pub fn conv_transpose2d<B: Backend>(conv: &ConvTranspose2d<B>, x: Tensor<B, 4>) -> Tensor<B, 4> {
    up(conv, x, false)
}

/// `relu(conv.forward(x))` for an up-convolution: on CPU training one op,
/// with the ReLU applied as the output is written and its mask applied as
/// the output gradient is read.
pub fn conv_transpose2d_relu<B: Backend>(
    conv: &ConvTranspose2d<B>,
    x: Tensor<B, 4>,
) -> Tensor<B, 4> {
    up(conv, x, true)
}

fn up<B: Backend>(conv: &ConvTranspose2d<B>, x: Tensor<B, 4>, relu: bool) -> Tensor<B, 4> {
    let kind = ConvKind::Transpose(ConvTransposeOptions::new(
        conv.stride,
        conv.padding,
        conv.padding_out,
        conv.dilation,
        conv.groups,
    ));
    let bias = conv.bias.as_ref().map(|b| b.val());
    match on_cpu_train(x, conv.weight.val(), bias, kind, relu) {
        Ok(y) => y,
        Err(x) if relu => burn::tensor::activation::relu(conv.forward(x)),
        Err(x) => conv.forward(x),
    }
}

/// Runs `kind` (then a ReLU where `relu`) through [`flex_conv`] when `B` is
/// `Autodiff<Flex>` and the tensors are `f32`; otherwise hands `x` back.
fn on_cpu_train<B: Backend>(
    x: Tensor<B, 4>,
    weight: Tensor<B, 4>,
    bias: Option<Tensor<B, 1>>,
    kind: ConvKind,
    relu: bool,
) -> Result<Tensor<B, 4>, Tensor<B, 4>> {
    if TypeId::of::<B>() != TypeId::of::<CpuTrain>()
        || x.dtype() != DType::F32
        || weight.dtype() != DType::F32
    {
        return Err(x);
    }
    let (Ok(x), Ok(weight), Ok(bias)) = (
        cast::<_, Tensor<CpuTrain, 4>>(x),
        cast::<_, Tensor<CpuTrain, 4>>(weight),
        bias.map(cast::<_, Tensor<CpuTrain, 1>>).transpose(),
    ) else {
        unreachable!("B is CpuTrain")
    };
    let y = flex_conv::forward(
        kind,
        x.into_primitive().tensor(),
        weight.into_primitive().tensor(),
        bias.map(|b| b.into_primitive().tensor()),
        relu,
    );
    match cast(Tensor::<CpuTrain, 4>::from_primitive(
        TensorPrimitive::Float(y),
    )) {
        Ok(y) => Ok(y),
        Err(_) => unreachable!("B is CpuTrain"),
    }
}

/// `t` as a `U` when `T` and `U` are the same type, else `t` back.
pub(super) fn cast<T: 'static, U: 'static>(t: T) -> Result<U, T> {
    let mut slot = Some(t);
    let moved = (&mut slot as &mut dyn Any)
        .downcast_mut::<Option<U>>()
        .and_then(Option::take);
    match (moved, slot) {
        (Some(u), _) => Ok(u),
        (None, Some(t)) => Err(t),
        (None, None) => unreachable!("the slot is emptied only by a successful cast"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::module::Module;
    use burn::nn::conv::{Conv2dConfig, ConvTranspose2dConfig};
    use burn::tensor::Distribution;

    type Ad = CpuTrain;

    fn rel_err(a: Tensor<Flex, 4>, b: Tensor<Flex, 4>) -> f32 {
        let diff: f32 = (a - b.clone()).powi_scalar(2).sum().into_scalar();
        let norm: f32 = b.powi_scalar(2).sum().into_scalar();
        (diff / norm.max(1e-30)).sqrt()
    }

    fn flat(t: Tensor<Flex, 1>) -> Tensor<Flex, 4> {
        let n = t.dims()[0];
        t.reshape([1, 1, 1, n])
    }

    /// Output, input gradient, weight gradient and bias gradient of
    /// `sum(layer(x) · r)` by this module's path and by burn's, each
    /// compared by relative L2 error.
    fn compare(
        ours: impl Fn(Tensor<Ad, 4>) -> Tensor<Ad, 4>,
        burns: impl Fn(Tensor<Ad, 4>) -> Tensor<Ad, 4>,
        weight: impl Fn() -> (Tensor<Ad, 4>, Option<Tensor<Ad, 1>>),
        x: Tensor<Flex, 4>,
    ) -> [f32; 4] {
        let device = Default::default();
        let run = |f: &dyn Fn(Tensor<Ad, 4>) -> Tensor<Ad, 4>| {
            let x = Tensor::<Ad, 4>::from_inner(x.clone()).require_grad();
            let y = f(x.clone());
            let r = Tensor::<Ad, 4>::random(y.dims(), Distribution::Default, &device);
            let r = Tensor::<Ad, 4>::from_inner(Tensor::<Flex, 4>::from_data(
                // The same weights every call: a fixed pattern, not a draw.
                burn::tensor::TensorData::new(
                    (0..r.shape().num_elements())
                        .map(|i| ((i * 7919 % 211) as f32 - 105.0) / 50.0)
                        .collect::<Vec<_>>(),
                    r.dims(),
                ),
                &device,
            ));
            let grads = (y.clone() * r).sum().backward();
            let (w, b) = weight();
            (
                y.inner(),
                x.grad(&grads),
                w.grad(&grads),
                b.and_then(|b| b.grad(&grads)),
            )
        };
        let (ya, xa, wa, ba) = run(&ours);
        let (yb, xb, wb, bb) = run(&burns);
        let grad = |a: Option<Tensor<Flex, 4>>, b: Option<Tensor<Flex, 4>>| match (a, b) {
            (Some(a), Some(b)) => rel_err(a, b),
            _ => f32::INFINITY,
        };
        [
            rel_err(ya, yb),
            grad(xa, xb),
            grad(wa, wb),
            match (ba, bb) {
                (Some(a), Some(b)) => rel_err(flat(a), flat(b)),
                (None, None) => 0.0,
                _ => f32::INFINITY,
            },
        ]
    }

    #[test]
    fn convolutions_match_burns_output_and_gradients() {
        let device = Default::default();
        // (in, out, kernel, stride, padding, dilation, bias, input size)
        let shapes = [
            (3, 16, 3, 2, 1, 1, false, 32),
            // Few input channels with a bias: the column forward adds it.
            (2, 5, 3, 1, 1, 1, true, 9),
            (16, 32, 3, 1, 1, 1, false, 15),
            (64, 1, 3, 1, 1, 1, true, 16),
            (128, 64, 1, 1, 0, 1, true, 4),
            (3, 8, 11, 4, 2, 1, false, 51),
            (8, 12, 6, 1, 5, 2, false, 11),
        ];
        for (ci, co, k, s, p, d, bias, size) in shapes {
            Ad::seed(&device, 7);
            let conv = Conv2dConfig::new([ci, co], [k, k])
                .with_stride([s, s])
                .with_dilation([d, d])
                .with_padding(PaddingConfig2d::Explicit(p, p, p, p))
                .with_bias(bias)
                .init::<Ad>(&device);
            let x = Tensor::<Flex, 4>::random([3, ci, size, size], Distribution::Default, &device);
            let errs = compare(
                |x| conv2d(&conv, x),
                |x| conv.forward(x),
                || (conv.weight.val(), conv.bias.as_ref().map(|b| b.val())),
                x,
            );
            assert!(
                errs.iter().all(|e| *e < 1e-5),
                "conv {ci}→{co} {k}×{k}/{s} pad {p} dil {d}: errors (out, x, w, b) {errs:?}"
            );
        }
    }

    #[test]
    fn up_convolutions_match_burns_output_and_gradients() {
        let device = Default::default();
        // (in, out, kernel, stride, padding, bias, input size)
        let shapes = [
            (64, 64, 4, 2, 1, true, 8),
            (16, 8, 4, 2, 1, false, 5),
            (8, 3, 3, 1, 1, true, 7),
            (6, 4, 5, 3, 0, true, 4),
        ];
        for (ci, co, k, s, p, bias, size) in shapes {
            Ad::seed(&device, 7);
            let conv = ConvTranspose2dConfig::new([ci, co], [k, k])
                .with_stride([s, s])
                .with_padding([p, p])
                .with_bias(bias)
                .init::<Ad>(&device);
            let x = Tensor::<Flex, 4>::random([2, ci, size, size], Distribution::Default, &device);
            let errs = compare(
                |x| conv_transpose2d(&conv, x),
                |x| conv.forward(x),
                || (conv.weight.val(), conv.bias.as_ref().map(|b| b.val())),
                x.clone(),
            );
            assert!(
                errs.iter().all(|e| *e < 1e-5),
                "up-conv {ci}→{co} {k}×{k}/{s} pad {p}: errors (out, x, w, b) {errs:?}"
            );
            // With the ReLU: fused where up_conv covers the shape, burn's
            // ReLU after the op elsewhere (5×5 / 3).
            let errs = compare(
                |x| conv_transpose2d_relu(&conv, x),
                |x| burn::tensor::activation::relu(conv.forward(x)),
                || (conv.weight.val(), conv.bias.as_ref().map(|b| b.val())),
                x,
            );
            assert!(
                errs.iter().all(|e| *e < 1e-5),
                "up-conv + ReLU {ci}→{co} {k}×{k}/{s} pad {p}: errors (out, x, w, b) {errs:?}"
            );
        }
    }

    #[test]
    fn other_backends_run_the_modules_own_forward_and_untracked_tensors_agree() {
        let device = Default::default();
        let conv = Conv2dConfig::new([2, 3], [3, 3]).init::<Flex>(&device);
        let x = Tensor::<Flex, 4>::random([1, 2, 6, 6], Distribution::Default, &device);
        let (a, b) = (conv2d(&conv, x.clone()), conv.forward(x.clone()));
        assert_eq!(a.into_data(), b.into_data(), "bit for bit: the same code");
        // On CpuTrain without gradients (a frozen module) the column path runs.
        let conv = Conv2dConfig::new([2, 3], [3, 3]).init::<Ad>(&device);
        let x = Tensor::<Ad, 4>::from_inner(x);
        let frozen = conv.no_grad();
        let (a, b) = (conv2d(&frozen, x.clone()), frozen.forward(x));
        assert!(rel_err(a.inner(), b.inner()) < 1e-6);
    }
}
