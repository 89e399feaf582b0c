//! Convolution (without bias: batch norm follows), batch norm, ReLU: the unit
//! both backbones are built from.

use burn::module::Module;
use burn::nn::PaddingConfig2d;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::tensor::Tensor;
use burn::tensor::activation::relu;
use burn::tensor::backend::Backend;

use super::conv::conv2d;
use super::norm::BatchNorm2d;

/// A convolution followed by batch norm and ReLU.
#[derive(Module, Debug)]
pub struct ConvBlock<B: Backend> {
    /// The convolution (PyTorch layout `[out, in, kh, kw]`).
    pub conv: Conv2d<B>,
    /// Its batch norm.
    pub norm: BatchNorm2d<B>,
}

/// Shape of a [`ConvBlock`]'s convolution.
#[derive(Clone, Copy, Debug)]
pub struct ConvShape {
    /// Input channels.
    pub input: usize,
    /// Output channels.
    pub output: usize,
    /// Square kernel side.
    pub kernel: usize,
    /// Stride.
    pub stride: usize,
    /// Zero padding on every side.
    pub padding: usize,
    /// Dilation.
    pub dilation: usize,
}

impl ConvShape {
    /// A 3×3 convolution with padding 1.
    pub fn k3(input: usize, output: usize, stride: usize) -> Self {
        ConvShape {
            input,
            output,
            kernel: 3,
            stride,
            padding: 1,
            dilation: 1,
        }
    }
}

impl<B: Backend> ConvBlock<B> {
    /// A block of the given shape.
    pub fn new(shape: ConvShape, device: &B::Device) -> Self {
        let p = shape.padding;
        ConvBlock {
            conv: Conv2dConfig::new([shape.input, shape.output], [shape.kernel, shape.kernel])
                .with_stride([shape.stride, shape.stride])
                .with_dilation([shape.dilation, shape.dilation])
                .with_padding(PaddingConfig2d::Explicit(p, p, p, p))
                // Batch norm follows and removes any per-channel constant.
                .with_bias(false)
                .init(device),
            norm: BatchNorm2d::new(shape.output, device),
        }
    }

    /// `relu(norm(conv(x)))`.
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        relu(self.norm.forward(conv2d(&self.conv, x)))
    }
}
