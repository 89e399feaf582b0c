//! Dense decoder heads: from the top feature map up to the label resolution.

use burn::module::Module;
use burn::nn::PaddingConfig2d;
use burn::nn::conv::{Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig};
use burn::tensor::Tensor;
use burn::tensor::activation::relu;
use burn::tensor::backend::Backend;

use super::conv::{conv_transpose2d_relu, conv2d};
use super::resize::bilinear;

/// A 1×1 reduction, then 4×4 stride-2 up-convolutions with ReLU, then a 3×3
/// convolution to the output channels; bilinear resizing covers what the
/// up-convolutions leave (AlexNet's maps are not powers of two of the input).
#[derive(Module, Debug)]
pub struct DenseHead<B: Backend> {
    pub(crate) reduce: Conv2d<B>,
    pub(crate) ups: Vec<ConvTranspose2d<B>>,
    pub(crate) out: Conv2d<B>,
}

/// Number of 2× up-convolutions that bring a map at 1/`top_stride` of the input
/// closest to labels at 1/`label_scale`.
pub fn upsamplings(top_stride: f64, label_scale: usize) -> usize {
    (top_stride / label_scale.max(1) as f64)
        .log2()
        .round()
        .max(0.0) as usize
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

    /// Decodes a feature map to `[N, output, size[0], size[1]]`.
    pub fn forward(&self, x: Tensor<B, 4>, size: [usize; 2]) -> Tensor<B, 4> {
        let mut h = relu(conv2d(&self.reduce, x));
        for up in &self.ups {
            h = conv_transpose2d_relu(up, h);
        }
        conv2d(&self.out, bilinear(h, size))
    }
}

#[cfg(test)]
mod tests {
    use super::super::{BackboneConfig, BackboneKind};
    use super::*;
    use burn::backend::Flex;

    #[test]
    fn small_layers_have_the_documented_shapes_and_heads_reach_label_resolution() {
        let device = Default::default();
        let cfg = BackboneConfig::new().with_width(4);
        let net = cfg.init::<Flex>(&device);
        let f = net.forward(Tensor::<Flex, 4>::zeros([2, 3, 64, 64], &device));
        let dims: Vec<[usize; 4]> = f.layers.iter().map(|(_, t)| t.dims()).collect();
        let want = [[4, 32], [8, 16], [16, 8], [32, 4], [32, 4]].map(|[c, s]| [2, c, s, s]);
        assert_eq!(dims, want);
        assert_eq!(f.layer("conv3").map(|t| t.dims()), Some([2, 16, 8, 8]));
        assert!(f.layer("fc6").is_none());
        // From 1/16 to a quarter of 64 px: two up-convolutions, no resizing.
        let ups = upsamplings(cfg.top_stride(), 4);
        assert_eq!(ups, 2);
        let head = DenseHead::<Flex>::new(32, 8, 1, ups, &device);
        assert_eq!(
            head.forward(f.top().clone(), [16, 16]).dims(),
            [2, 1, 16, 16]
        );
    }

    #[test]
    fn alexnet_maps_227_px_to_the_papers_sizes() {
        let device = Default::default();
        let cfg = BackboneConfig::new()
            .with_kind(BackboneKind::Alexnet)
            .with_alexnet_divisor(32);
        assert!(cfg.check_size(227).is_ok());
        assert!(cfg.check_size(224).is_err());
        let net = cfg.init::<Flex>(&device);
        let f = net.forward(Tensor::<Flex, 4>::zeros([1, 3, 227, 227], &device));
        let sizes: Vec<(&str, usize, usize)> = f
            .layers
            .iter()
            .map(|(n, t)| (*n, t.dims()[1], t.dims()[2]))
            .collect();
        assert_eq!(
            sizes,
            vec![
                ("conv1", 3, 55),
                ("conv2", 8, 27),
                ("conv3", 12, 13),
                ("conv4", 12, 13),
                ("conv5", 8, 13),
                ("fc6", 128, 11),
                ("fc7", 128, 11)
            ]
        );
        // Labels at a quarter of 227 px: 56 px, reached by up-convolutions and resizing.
        let head = DenseHead::<Flex>::new(128, 8, 3, upsamplings(cfg.top_stride(), 4), &device);
        assert_eq!(
            head.forward(f.top().clone(), [56, 56]).dims(),
            [1, 3, 56, 56]
        );
    }
}
