//! The shared encoder and the dense decoder heads.

use burn::config::Config;
use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, PaddingConfig2d};
use burn::tensor::Tensor;
use burn::tensor::activation::relu;
use burn::tensor::backend::Backend;

/// 3×3 convolution, batch norm, ReLU.
#[derive(Module, Debug)]
pub struct ConvBlock<B: Backend> {
    conv: Conv2d<B>,
    norm: BatchNorm<B>,
}

impl<B: Backend> ConvBlock<B> {
    /// A block from `input` to `output` channels with the given stride.
    pub fn new(input: usize, output: usize, stride: usize, device: &B::Device) -> Self {
        ConvBlock {
            conv: Conv2dConfig::new([input, output], [3, 3])
                .with_stride([stride, stride])
                .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                .init(device),
            norm: BatchNormConfig::new(output).init(device),
        }
    }

    /// `relu(norm(conv(x)))`.
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        relu(self.norm.forward(self.conv.forward(x)))
    }
}

/// Hyper-parameters of the small CPU backbone.
#[derive(Config, Debug)]
pub struct SmallBackboneConfig {
    /// Channels of `conv1`; each later stage doubles them (capped at 8×).
    #[config(default = 32)]
    pub width: usize,
}

/// A small VGG-style encoder for 64–128 px inputs on CPUs: five stages named
/// `conv1`…`conv5`; `conv1`–`conv4` halve the resolution, so `conv5` is at 1/16.
#[derive(Module, Debug)]
pub struct SmallBackbone<B: Backend> {
    conv1: ConvBlock<B>,
    conv2: ConvBlock<B>,
    conv3: ConvBlock<B>,
    conv4: ConvBlock<B>,
    conv5: ConvBlock<B>,
}

/// Every named layer's output, so tasks, probes and domain adaptation can pick one.
#[derive(Clone, Debug)]
pub struct Features<B: Backend> {
    /// `conv1` … `conv5`, in order.
    pub layers: [Tensor<B, 4>; 5],
}

impl<B: Backend> Features<B> {
    /// The layer called `name` (`conv1` … `conv5`).
    pub fn layer(&self, name: &str) -> Option<&Tensor<B, 4>> {
        LAYER_NAMES
            .iter()
            .position(|n| *n == name)
            .map(|i| &self.layers[i])
    }

    /// The top feature map (`conv5`).
    pub fn top(&self) -> &Tensor<B, 4> {
        &self.layers[4]
    }
}

/// Names of the backbone's layers.
pub const LAYER_NAMES: [&str; 5] = ["conv1", "conv2", "conv3", "conv4", "conv5"];

impl SmallBackboneConfig {
    /// Channels of each stage.
    pub fn channels(&self) -> [usize; 5] {
        let w = self.width.max(1);
        [w, 2 * w, 4 * w, 8 * w, 8 * w]
    }

    /// Builds the backbone.
    pub fn init<B: Backend>(&self, device: &B::Device) -> SmallBackbone<B> {
        let c = self.channels();
        SmallBackbone {
            conv1: ConvBlock::new(3, c[0], 2, device),
            conv2: ConvBlock::new(c[0], c[1], 2, device),
            conv3: ConvBlock::new(c[1], c[2], 2, device),
            conv4: ConvBlock::new(c[2], c[3], 2, device),
            conv5: ConvBlock::new(c[3], c[4], 1, device),
        }
    }
}

impl<B: Backend> SmallBackbone<B> {
    /// Input size must be divisible by this.
    pub const STRIDE: usize = 16;

    /// Runs the encoder on `[B, 3, H, W]` images, returning every layer.
    pub fn forward(&self, x: Tensor<B, 4>) -> Features<B> {
        let c1 = self.conv1.forward(x);
        let c2 = self.conv2.forward(c1.clone());
        let c3 = self.conv3.forward(c2.clone());
        let c4 = self.conv4.forward(c3.clone());
        let c5 = self.conv5.forward(c4.clone());
        Features {
            layers: [c1, c2, c3, c4, c5],
        }
    }
}

/// A dense head: 1×1 reduction, then 4×4 stride-2 up-convolutions with ReLU,
/// then a 3×3 convolution to the output channels.
#[derive(Module, Debug)]
pub struct DenseHead<B: Backend> {
    reduce: Conv2d<B>,
    ups: Vec<ConvTranspose2d<B>>,
    out: Conv2d<B>,
}

impl<B: Backend> DenseHead<B> {
    /// From `input` channels to `output` channels, upsampling by `2^ups`.
    pub fn new(input: usize, hidden: usize, output: usize, ups: usize, device: &B::Device) -> Self {
        DenseHead {
            reduce: Conv2dConfig::new([input, hidden], [1, 1]).init(device),
            ups: (0..ups)
                .map(|_| {
                    ConvTranspose2dConfig::new([hidden, hidden], [4, 4])
                        .with_stride([2, 2])
                        .with_padding([1, 1])
                        .init(device)
                })
                .collect(),
            out: Conv2dConfig::new([hidden, output], [3, 3])
                .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                .init(device),
        }
    }

    /// Decodes a feature map.
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let mut h = relu(self.reduce.forward(x));
        for up in &self.ups {
            h = relu(up.forward(h));
        }
        self.out.forward(h)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::Flex;

    #[test]
    fn layers_have_the_documented_shapes_and_heads_reach_label_resolution() {
        let device = Default::default();
        let cfg = SmallBackboneConfig::new().with_width(4);
        let net = cfg.init::<Flex>(&device);
        let x = Tensor::<Flex, 4>::zeros([2, 3, 64, 64], &device);
        let f = net.forward(x);
        let dims: Vec<[usize; 4]> = f.layers.iter().map(|t| t.dims()).collect();
        assert_eq!(
            dims,
            vec![
                [2, 4, 32, 32],
                [2, 8, 16, 16],
                [2, 16, 8, 8],
                [2, 32, 4, 4],
                [2, 32, 4, 4]
            ]
        );
        assert_eq!(f.layer("conv3").map(|t| t.dims()), Some([2, 16, 8, 8]));
        assert!(f.layer("fc6").is_none());
        // From 1/16 to a quarter of 64 px: two up-convolutions.
        let head = DenseHead::<Flex>::new(32, 8, 1, 2, &device);
        assert_eq!(head.forward(f.top().clone()).dims(), [2, 1, 16, 16]);
    }
}
