//! Inpainting (Pathak et al., CVPR 2016): a context encoder. A central square
//! or random blocks are removed (filled with mid-grey), the shared backbone
//! encodes the rest and a decoder reconstructs the image; the loss is L2 on
//! the hole plus, with a small weight, an adversarial loss from a small
//! discriminator that tells real images from ones with a filled hole.
//!
//! One optimizer trains both: the discriminator minimises its cross-entropy,
//! and the filled region reaches it through gradient reversal scaled by the
//! adversarial weight, so the encoder–decoder maximises it (the minimax form).

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{Linear, LinearConfig, PaddingConfig2d};
use burn::tensor::activation::{leaky_relu, sigmoid};
use burn::tensor::backend::Backend;
use burn::tensor::module::adaptive_avg_pool2d;
use burn::tensor::{Tensor, TensorData};
use domain_adapt::grl::reverse_gradient;
use domain_adapt::loss::bce_with_logits;

use super::{SheetCell, Task, TaskContext, TaskError, TaskOutput};
use crate::model::DenseHead;
use crate::pretext::mask::mask;
use crate::pretext::{Image, InpaintingConfig, MaskMode};
use crate::train::normalise;

/// The small discriminator: two 4×4 stride-2 convolutions, pooled, one logit.
#[derive(Module, Debug)]
pub struct Critic<B: Backend> {
    conv1: Conv2d<B>,
    conv2: Conv2d<B>,
    out: Linear<B>,
}

impl<B: Backend> Critic<B> {
    fn new(device: &B::Device) -> Self {
        let conv = |i, o| {
            Conv2dConfig::new([i, o], [4, 4])
                .with_stride([2, 2])
                .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                .init(device)
        };
        Critic {
            conv1: conv(3, 32),
            conv2: conv(32, 64),
            out: LinearConfig::new(64, 1).init(device),
        }
    }

    /// One logit per image (positive: real).
    fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 2> {
        let h = leaky_relu(self.conv1.forward(normalise(x)), 0.2);
        let h = leaky_relu(self.conv2.forward(h), 0.2);
        let [n, c, _, _] = h.dims();
        self.out
            .forward(adaptive_avg_pool2d(h, [1, 1]).reshape([n, c]))
    }
}

/// The context encoder's decoder and discriminator.
#[derive(Module, Debug)]
pub struct InpaintingTask<B: Backend> {
    head: DenseHead<B>,
    critic: Critic<B>,
    #[module(skip)]
    mode: MaskMode,
    #[module(skip)]
    adversarial_weight: f64,
    #[module(skip)]
    label_scale: usize,
}

impl<B: Backend> InpaintingTask<B> {
    /// A decoder from `channels` top-feature channels with `ups` up-convolutions.
    pub fn new(
        channels: usize,
        ups: usize,
        label_scale: usize,
        config: &InpaintingConfig,
        device: &B::Device,
    ) -> Self {
        InpaintingTask {
            head: DenseHead::new(channels, 64, 3, ups, device),
            critic: Critic::new(device),
            mode: config.mask,
            adversarial_weight: config.adversarial_weight,
            label_scale,
        }
    }
}

impl<B: Backend> Task<B> for InpaintingTask<B> {
    fn name(&self) -> &'static str {
        "inpainting"
    }

    fn forward(&self, ctx: &TaskContext<B>) -> Result<TaskOutput<B>, TaskError> {
        let mut rng = ctx.rng(self.name());
        let device = ctx.device();
        let images = ctx.images();
        let [h, w] = ctx.label_size(self.label_scale);
        let n = images.len();
        let (mut inputs, mut targets, mut holes) = (Vec::new(), Vec::new(), Vec::new());
        // Chance: each hole filled with the mean colour of the rest of its image.
        let (mut mean_sq, mut mean_n) = (0.0f64, 0usize);
        for img in images {
            let m = mask(img.h, self.mode, &mut rng);
            let mut masked = img.clone();
            for (i, hole) in m.iter().enumerate() {
                if *hole > 0.0 {
                    masked.set_rgb(i / img.w, i % img.w, [0.5; 3]);
                }
            }
            inputs.push(masked);
            targets.push(img.resize_area(h, w));
            // The hole at the label resolution: pixels at least half inside it.
            let plane = Image {
                h: img.h,
                w: img.w,
                data: m.iter().chain(&m).chain(&m).copied().collect(),
            };
            let small = plane.resize_area(h, w);
            let hole: Vec<f32> = small.data[..h * w]
                .iter()
                .map(|v| if *v >= 0.5 { 1.0f32 } else { 0.0 })
                .collect();
            if let Some(target) = targets.last() {
                let outside = hole.iter().filter(|v| **v == 0.0).count().max(1) as f32;
                for plane in target.data.chunks(h * w) {
                    let visible: f32 = plane
                        .iter()
                        .zip(&hole)
                        .filter(|(_, m)| **m == 0.0)
                        .map(|(v, _)| v)
                        .sum();
                    let mean = visible / outside;
                    for (v, m) in plane.iter().zip(&hole) {
                        if *m > 0.0 {
                            mean_sq += f64::from(v - mean).powi(2);
                            mean_n += 1;
                        }
                    }
                }
            }
            holes.extend(hole);
        }
        let x = Image::to_tensor::<B>(&inputs, &device);
        let pred = sigmoid(
            self.head
                .forward(ctx.backbone.forward(normalise(x)).top().clone(), [h, w]),
        );
        let target = Image::to_tensor::<B>(&targets, &device);
        let hole = Tensor::<B, 4>::from_data(TensorData::new(holes, [n, 1, h, w]), &device);
        let area = hole.clone().sum().clamp_min(1.0) * 3.0;
        let hole_mse = ((pred.clone() - target.clone()).square() * hole.clone()).sum() / area;
        let psnr = hole_mse
            .clone()
            .detach()
            .clamp_min(1e-10)
            .recip()
            .log()
            .mul_scalar(10.0 / std::f64::consts::LN_10);
        let filled = target.clone() * (hole.clone().neg() + 1.0) + pred.clone() * hole;
        let mean_fill = 10.0 * (mean_n.max(1) as f64 / mean_sq.max(1e-10)).log10();
        let mut metrics = vec![
            ("psnr_hole_db", psnr),
            ("l2_hole", hole_mse.clone().detach()),
            (
                "psnr_mean_fill_db",
                Tensor::<B, 1>::from_floats([mean_fill as f32], &device),
            ),
        ];
        let mut loss = hole_mse;
        if self.adversarial_weight > 0.0 {
            let real = self.critic.forward(target);
            let fake = self
                .critic
                .forward(reverse_gradient(filled.clone(), self.adversarial_weight));
            let critic_loss =
                bce_with_logits(real.clone(), 1.0) + bce_with_logits(fake.clone(), 0.0);
            let critic_acc = (domain_adapt::loss::accuracy(real, true)
                + domain_adapt::loss::accuracy(fake, false))
                / 2.0;
            metrics.push(("critic_loss", critic_loss.clone().detach()));
            metrics.push(("critic_accuracy", critic_acc.detach()));
            loss = loss + critic_loss;
        }
        let sheet = ctx.sheet.then(|| {
            let filled = Image::from_tensor(&filled.clone().detach());
            let mut cells = Vec::new();
            for i in 0..n.min(3) {
                cells.push(SheetCell {
                    image: inputs[i].clone(),
                    caption: "masked".into(),
                });
                cells.push(SheetCell {
                    image: filled[i].clone(),
                    caption: "filled".into(),
                });
                cells.push(SheetCell {
                    image: targets[i].clone(),
                    caption: "original".into(),
                });
            }
            cells
        });
        let mut out = TaskOutput::new("inpainting", loss, metrics);
        out.sheet = sheet;
        Ok(out)
    }
}
