//! A small VGG-style encoder for 64–128 px inputs on CPUs.

use burn::module::Module;
use burn::tensor::Tensor;
use burn::tensor::backend::Backend;

use super::Features;
use super::block::{ConvBlock, ConvShape};

/// Input sizes must be multiples of this; `conv5` is at 1/16 of the input.
pub const STRIDE: usize = 16;

/// Names of the layers, in order.
pub const LAYER_NAMES: [&str; 5] = ["conv1", "conv2", "conv3", "conv4", "conv5"];

/// Channels of each stage for `conv1` width `width`.
pub fn channels(width: usize) -> [usize; 5] {
    let w = width.max(1);
    [w, 2 * w, 4 * w, 8 * w, 8 * w]
}

/// Five 3×3 conv–BN–ReLU stages named `conv1`…`conv5`; `conv1`–`conv4` have
/// stride 2, so `conv5` is at 1/16 of the input.
#[derive(Module, Debug)]
pub struct SmallBackbone<B: Backend> {
    conv1: ConvBlock<B>,
    conv2: ConvBlock<B>,
    conv3: ConvBlock<B>,
    conv4: ConvBlock<B>,
    conv5: ConvBlock<B>,
}

impl<B: Backend> SmallBackbone<B> {
    /// The backbone with `conv1` width `width`.
    pub fn new(width: usize, device: &B::Device) -> Self {
        let c = channels(width);
        SmallBackbone {
            conv1: ConvBlock::new(ConvShape::k3(3, c[0], 2), device),
            conv2: ConvBlock::new(ConvShape::k3(c[0], c[1], 2), device),
            conv3: ConvBlock::new(ConvShape::k3(c[1], c[2], 2), device),
            conv4: ConvBlock::new(ConvShape::k3(c[2], c[3], 2), device),
            conv5: ConvBlock::new(ConvShape::k3(c[3], c[4], 1), device),
        }
    }

    /// Every layer's output for `[N, 3, H, W]` images.
    pub fn forward(&self, x: Tensor<B, 4>) -> Features<B> {
        let mut layers = Vec::with_capacity(5);
        let mut h = x;
        for (name, block) in self.blocks() {
            h = block.forward(h);
            layers.push((name, h.clone()));
        }
        Features { layers }
    }

    /// The blocks, in order, to change (batch-norm recalibration).
    pub fn blocks_mut(&mut self) -> Vec<&mut ConvBlock<B>> {
        vec![
            &mut self.conv1,
            &mut self.conv2,
            &mut self.conv3,
            &mut self.conv4,
            &mut self.conv5,
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
        ];
        LAYER_NAMES.into_iter().zip(blocks).collect()
    }
}
