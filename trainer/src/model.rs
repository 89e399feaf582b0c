//! The shared encoders and the dense decoder heads.
//!
//! Two backbones, chosen by [`BackboneConfig::kind`]: [`small::SmallBackbone`]
//! for CPUs at 64–128 px and [`alexnet::AlexNet`], the paper's network, for GPUs
//! at 227 px. Both name their layers (`conv1` … `conv5`, AlexNet also `fc6`,
//! `fc7`) so that probes and domain adaptation pick a layer by name.

pub mod alexnet;
mod block;
pub mod conv;
mod flex_conv;
mod flex_norm;
pub(crate) mod gemm;
pub mod head;
mod im2col;
pub mod norm;
mod patches;
mod plane_conv;
pub mod resize;
pub mod small;
mod up_conv;

pub use alexnet::AlexNet;
pub use block::ConvBlock;
pub use head::DenseHead;
pub use norm::BatchNorm2d;
pub use small::SmallBackbone;

/// A convolution's input and weight gradients as host values, each only
/// where it was wanted (the CPU training kernels' common result).
type HostGrads = (Option<Vec<f32>>, Option<Vec<f32>>);

use burn::config::Config;
use burn::module::Module;
use burn::tensor::Tensor;
use burn::tensor::backend::Backend;
use serde::{Deserialize, Serialize};

/// Which encoder.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackboneKind {
    /// VGG-style, five 3×3 stages, stride 16; the CPU default.
    Small,
    /// CaffeNet layout with batch norm, 227 px input; for GPUs.
    Alexnet,
}

impl std::fmt::Display for BackboneKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            BackboneKind::Small => "small",
            BackboneKind::Alexnet => "alexnet",
        })
    }
}

/// Hyper-parameters of the encoder.
#[derive(Config, Debug)]
pub struct BackboneConfig {
    /// Which encoder.
    #[config(default = "BackboneKind::Small")]
    pub kind: BackboneKind,
    /// Small backbone: channels of `conv1` (later stages double them, capped at 8×).
    #[config(default = 16)]
    pub width: usize,
    /// AlexNet: every channel count is divided by this (1 = the paper's network).
    #[config(default = 1)]
    pub alexnet_divisor: usize,
}

/// Why an input size does not suit a backbone.
#[derive(Debug, thiserror::Error)]
#[error("input size {size} does not suit the {kind} backbone: {need}")]
pub struct SizeError {
    /// The backbone.
    pub kind: BackboneKind,
    /// The size asked for.
    pub size: usize,
    /// What the backbone needs.
    pub need: &'static str,
}

impl BackboneConfig {
    /// Channels of every named layer, in order.
    pub fn channels(&self) -> Vec<usize> {
        match self.kind {
            BackboneKind::Small => small::channels(self.width).to_vec(),
            BackboneKind::Alexnet => alexnet::channels(self.alexnet_divisor).to_vec(),
        }
    }

    /// Channels of the layer called `name`, if the backbone has it.
    pub fn layer_channels(&self, name: &str) -> Option<usize> {
        let i = self.layer_names().iter().position(|l| *l == name)?;
        self.channels().get(i).copied()
    }

    /// Channels of the top layer, which the task heads decode.
    pub fn top_channels(&self) -> usize {
        self.channels().last().copied().unwrap_or(0)
    }

    /// Names of the layers [`Backbone::forward`] returns.
    pub fn layer_names(&self) -> &'static [&'static str] {
        match self.kind {
            BackboneKind::Small => &small::LAYER_NAMES,
            BackboneKind::Alexnet => &alexnet::LAYER_NAMES,
        }
    }

    /// Input size over top-feature size (approximately, for AlexNet).
    pub fn top_stride(&self) -> f64 {
        match self.kind {
            BackboneKind::Small => small::STRIDE as f64,
            BackboneKind::Alexnet => 227.0 / 11.0,
        }
    }

    /// Checks that square inputs of `size` pixels fit the backbone.
    pub fn check_size(&self, size: usize) -> Result<(), SizeError> {
        let need = match self.kind {
            BackboneKind::Small if size == 0 || !size.is_multiple_of(small::STRIDE) => {
                "a positive multiple of 16"
            }
            BackboneKind::Alexnet if size < 67 || size % 32 != 3 => {
                "32·k + 3 with k ≥ 2 (67, 99, …, 227, 259)"
            }
            _ => return Ok(()),
        };
        Err(SizeError {
            kind: self.kind,
            size,
            need,
        })
    }

    /// Builds the backbone.
    pub fn init<B: Backend>(&self, device: &B::Device) -> Backbone<B> {
        match self.kind {
            BackboneKind::Small => Backbone::Small(SmallBackbone::new(self.width, device)),
            BackboneKind::Alexnet => Backbone::Alexnet(AlexNet::new(self.alexnet_divisor, device)),
        }
    }
}

/// The shared encoder.
// One backbone per model: the variants' size difference costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum Backbone<B: Backend> {
    /// See [`SmallBackbone`].
    Small(SmallBackbone<B>),
    /// See [`AlexNet`].
    Alexnet(AlexNet<B>),
}

impl<B: Backend> Backbone<B> {
    /// Runs the encoder on `[N, 3, H, W]` normalised images, returning every named layer.
    pub fn forward(&self, x: Tensor<B, 4>) -> Features<B> {
        match self {
            Backbone::Small(net) => net.forward(x),
            Backbone::Alexnet(net) => net.forward(x),
        }
    }

    /// The max-pool applied before layer `name`, if any (AlexNet only).
    pub fn pool_before(&self, name: &str) -> Option<&burn::nn::pool::MaxPool2d> {
        match self {
            Backbone::Small(_) => None,
            Backbone::Alexnet(net) => net.pool_before(name),
        }
    }

    /// Re-estimates every batch norm's running statistics on `batches` of
    /// normalised images (AdaBN, Li et al. 2016): each layer's statistics
    /// become the mean of its per-batch statistics over those images, so
    /// that features of another domain (real photographs) are normalised as
    /// the network's own training images were. Weights are unchanged.
    pub fn recalibrate_norms(mut self, batches: impl IntoIterator<Item = Tensor<B, 4>>) -> Self {
        for (k, x) in batches.into_iter().enumerate() {
            for block in self.blocks_mut() {
                block.norm.recalibrating = true;
                // The k-th batch weighs 1/(k+1): a running mean of the batch statistics.
                block.norm.momentum = 1.0 / (k + 1) as f64;
            }
            let _ = self.forward(x);
        }
        for block in self.blocks_mut() {
            block.norm.recalibrating = false;
            block.norm.momentum = norm::MOMENTUM;
        }
        self
    }

    fn blocks_mut(&mut self) -> Vec<&mut ConvBlock<B>> {
        match self {
            Backbone::Small(net) => net.blocks_mut(),
            Backbone::Alexnet(net) => net.blocks_mut(),
        }
    }

    /// Every convolution and batch norm with its layer name, in order (for export).
    pub fn blocks(&self) -> Vec<(&'static str, &ConvBlock<B>)> {
        match self {
            Backbone::Small(net) => net.blocks(),
            Backbone::Alexnet(net) => net.blocks(),
        }
    }
}

/// Every named layer's output, so tasks, probes and domain adaptation can pick one.
#[derive(Clone, Debug)]
pub struct Features<B: Backend> {
    /// `(name, activation)` in order, the top layer last.
    pub layers: Vec<(&'static str, Tensor<B, 4>)>,
}

impl<B: Backend> Features<B> {
    /// The layer called `name`.
    pub fn layer(&self, name: &str) -> Option<&Tensor<B, 4>> {
        self.layers.iter().find(|(n, _)| *n == name).map(|(_, t)| t)
    }

    /// The top feature map, which the task heads decode.
    pub fn top(&self) -> &Tensor<B, 4> {
        match self.layers.last() {
            Some((_, t)) => t,
            None => unreachable!("every backbone returns at least one layer"),
        }
    }
}
