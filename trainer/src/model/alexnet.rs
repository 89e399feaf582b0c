//! AlexNet as in the paper: the CaffeNet layout with batch norm after every
//! convolution and the fully connected layers as convolutions, so the encoder
//! stays dense for pixel-wise tasks.
//!
//! | layer | conv | then |
//! |---|---|---|
//! | conv1 | 96 × 11×11, stride 4 | max-pool 3×3/2 |
//! | conv2 | 256 × 5×5, pad 2 | max-pool 3×3/2 |
//! | conv3 | 384 × 3×3, pad 1 | |
//! | conv4 | 384 × 3×3, pad 1 | |
//! | conv5 | 256 × 3×3, pad 1 | max-pool 3×3/1 ("pool5") |
//! | fc6 | 4096 × 6×6, dilation 2, pad 5 | |
//! | fc7 | 4096 × 1×1 | |
//!
//! A 227 px input gives 55, 27, 13, 13, 13, 11 and 11 px maps.

use burn::module::Module;
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::tensor::Tensor;
use burn::tensor::backend::Backend;

use super::Features;
use super::block::{ConvBlock, ConvShape};

/// Names of the layers, in order.
pub const LAYER_NAMES: [&str; 7] = ["conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7"];

/// Output channels of each layer, every count divided by `divisor`.
pub fn channels(divisor: usize) -> [usize; 7] {
    [96, 256, 384, 384, 256, 4096, 4096].map(|c| (c / divisor.max(1)).max(1))
}

/// The paper's AlexNet (see the module documentation).
#[derive(Module, Debug)]
pub struct AlexNet<B: Backend> {
    conv1: ConvBlock<B>,
    conv2: ConvBlock<B>,
    conv3: ConvBlock<B>,
    conv4: ConvBlock<B>,
    conv5: ConvBlock<B>,
    fc6: ConvBlock<B>,
    fc7: ConvBlock<B>,
    pool: MaxPool2d,
    pool5: MaxPool2d,
}

impl<B: Backend> AlexNet<B> {
    /// The network with every channel count divided by `divisor` (1 = the paper's).
    pub fn new(divisor: usize, device: &B::Device) -> Self {
        let c = channels(divisor);
        let shape = |input, output, kernel, stride, padding, dilation| ConvShape {
            input,
            output,
            kernel,
            stride,
            padding,
            dilation,
        };
        AlexNet {
            conv1: ConvBlock::new(shape(3, c[0], 11, 4, 0, 1), device),
            conv2: ConvBlock::new(shape(c[0], c[1], 5, 1, 2, 1), device),
            conv3: ConvBlock::new(ConvShape::k3(c[1], c[2], 1), device),
            conv4: ConvBlock::new(ConvShape::k3(c[2], c[3], 1), device),
            conv5: ConvBlock::new(ConvShape::k3(c[3], c[4], 1), device),
            fc6: ConvBlock::new(shape(c[4], c[5], 6, 1, 5, 2), device),
            fc7: ConvBlock::new(shape(c[5], c[6], 1, 1, 0, 1), device),
            pool: MaxPool2dConfig::new([3, 3]).with_strides([2, 2]).init(),
            pool5: MaxPool2dConfig::new([3, 3]).with_strides([1, 1]).init(),
        }
    }

    /// Every layer's output (after ReLU, before pooling) for `[N, 3, H, W]` images.
    pub fn forward(&self, x: Tensor<B, 4>) -> Features<B> {
        let mut layers = Vec::with_capacity(LAYER_NAMES.len());
        let mut h = x;
        for (name, block) in self.blocks() {
            if let Some(pool) = self.pool_before(name) {
                h = pool.forward(h);
            }
            h = block.forward(h);
            layers.push((name, h.clone()));
        }
        Features { layers }
    }

    /// The max-pool applied to the previous layer's output before layer `name`.
    pub fn pool_before(&self, name: &str) -> Option<&MaxPool2d> {
        match name {
            "conv2" | "conv3" => Some(&self.pool),
            "fc6" => Some(&self.pool5),
            _ => None,
        }
    }

    /// The blocks, in order, to change (batch-norm recalibration).
    pub fn blocks_mut(&mut self) -> Vec<&mut ConvBlock<B>> {
        vec![
            &mut self.conv1,
            &mut self.conv2,
            &mut self.conv3,
            &mut self.conv4,
            &mut self.conv5,
            &mut self.fc6,
            &mut self.fc7,
        ]
    }

    /// The blocks with their names, in order.
    pub fn blocks(&self) -> Vec<(&'static str, &ConvBlock<B>)> {
        let blocks = [
            &self.conv1,
            &self.conv2,
            &self.conv3,
            &self.conv4,
            &self.conv5,
            &self.fc6,
            &self.fc7,
        ];
        LAYER_NAMES.into_iter().zip(blocks).collect()
    }
}
