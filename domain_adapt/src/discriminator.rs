//! The patch discriminator of Ren & Lee's released code: on a feature map,
//! conv 3×3 stride 2 → `hidden`, conv 1×1 → `hidden`, conv 1×1 → 1, with
//! batch norm and LeakyReLU(0.2) after the first two; one real/synthetic
//! logit per output position.

use burn::config::Config;
use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, PaddingConfig2d};
use burn::tensor::Tensor;
use burn::tensor::activation::leaky_relu;
use burn::tensor::backend::Backend;

/// Shape of a [`Discriminator`].
#[derive(Config, Debug)]
pub struct DiscriminatorConfig {
    /// Channels of the feature map it reads.
    pub input: usize,
    /// Channels of its two hidden layers (512 in the paper).
    #[config(default = 512)]
    pub hidden: usize,
}

/// Patch-level domain classifier: logit > 0 means "real".
#[derive(Module, Debug)]
pub struct Discriminator<B: Backend> {
    conv1: Conv2d<B>,
    norm1: BatchNorm<B>,
    conv2: Conv2d<B>,
    norm2: BatchNorm<B>,
    out: Conv2d<B>,
}

impl DiscriminatorConfig {
    /// Builds the discriminator.
    pub fn init<B: Backend>(&self, device: &B::Device) -> Discriminator<B> {
        let h = self.hidden.max(1);
        Discriminator {
            conv1: Conv2dConfig::new([self.input, h], [3, 3])
                .with_stride([2, 2])
                .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                .init(device),
            norm1: BatchNormConfig::new(h).init(device),
            conv2: Conv2dConfig::new([h, h], [1, 1]).init(device),
            norm2: BatchNormConfig::new(h).init(device),
            out: Conv2dConfig::new([h, 1], [1, 1]).init(device),
        }
    }
}

impl<B: Backend> Discriminator<B> {
    /// Logits `[N, 1, ⌈H/2⌉, ⌈W/2⌉]` of features `[N, C, H, W]`.
    pub fn forward(&self, features: Tensor<B, 4>) -> Tensor<B, 4> {
        let x = leaky_relu(self.norm1.forward(self.conv1.forward(features)), 0.2);
        let x = leaky_relu(self.norm2.forward(self.conv2.forward(x)), 0.2);
        self.out.forward(x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::Flex;

    #[test]
    fn one_logit_per_patch() {
        let d = DiscriminatorConfig::new(8)
            .with_hidden(16)
            .init::<Flex>(&Default::default());
        let x = Tensor::<Flex, 4>::zeros([3, 8, 5, 4], &Default::default());
        assert_eq!(d.forward(x).dims(), [3, 1, 3, 2]);
    }
}
