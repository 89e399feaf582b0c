//! Next-pixel and masked-pixel prediction (Chen et al., iGPT, ICML 2020) on
//! the shared convolutional backbone. Images are downsampled (16×16 by
//! default) and quantised to a k-means palette learnt before training.
//!
//! - **BERT** form: a random 15 % of the pixels are hidden (mid-grey); the
//!   backbone sees the rest and a dense head predicts each hidden pixel's
//!   palette index.
//! - **Autoregressive** form: every row from a random row on is hidden from
//!   the backbone; a causal head (PixelCNN masked convolutions over the
//!   palette indices, conditioned on the backbone's features) predicts each
//!   hidden pixel from the ones before it in raster order.

use burn::module::{Module, Param};
use burn::nn::PaddingConfig2d;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::tensor::activation::{log_softmax, relu};
use burn::tensor::backend::Backend;
use burn::tensor::module::conv2d;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Int, Tensor, TensorData};
use rand::Rng;
use std::sync::Arc;

use super::{SheetCell, Task, TaskContext, TaskError, TaskOutput};
use crate::model::DenseHead;
use crate::pretext::{Image, NextPixelConfig, NextPixelMode, Palette, PretextError, PretextState};
use crate::train::normalise;

/// Channels of the causal head.
const CAUSAL: usize = 64;

/// A convolution whose kernel only sees pixels before the centre in raster
/// order (type A), or also the centre (type B): PixelCNN's masked convolution.
#[derive(Module, Debug)]
pub struct MaskedConv<B: Backend> {
    conv: Conv2d<B>,
    #[module(skip)]
    include_centre: bool,
}

impl<B: Backend> MaskedConv<B> {
    fn new(
        input: usize,
        output: usize,
        kernel: usize,
        include_centre: bool,
        device: &B::Device,
    ) -> Self {
        let p = kernel / 2;
        MaskedConv {
            conv: Conv2dConfig::new([input, output], [kernel, kernel])
                .with_padding(PaddingConfig2d::Explicit(p, p, p, p))
                .init(device),
            include_centre,
        }
    }

    /// 1 where the kernel may look, `[1, 1, k, k]`.
    fn mask(&self, device: &B::Device) -> Tensor<B, 4> {
        let [_, _, k, _] = self.conv.weight.dims();
        let c = k / 2;
        let m: Vec<f32> = (0..k * k)
            .map(|i| {
                let (y, x) = (i / k, i % k);
                let before = y < c || (y == c && x < c);
                let centre = y == c && x == c;
                if before || (centre && self.include_centre) {
                    1.0
                } else {
                    0.0
                }
            })
            .collect();
        Tensor::from_data(TensorData::new(m, [1, 1, k, k]), device)
    }

    fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let weight = self.conv.weight.val();
        let masked = weight.clone() * self.mask(&weight.device());
        let [_, _, k, _] = masked.dims();
        conv2d(
            x,
            masked,
            self.conv.bias.as_ref().map(Param::val),
            ConvOptions::new([1, 1], [k / 2, k / 2], [1, 1], 1),
        )
    }
}

/// PixelCNN-style head: masked 5×5 (type A) over one-hot palette indices,
/// masked 3×3 (type B), 1×1 to the palette; the backbone's features are added
/// after each masked layer.
#[derive(Module, Debug)]
pub struct CausalHead<B: Backend> {
    first: MaskedConv<B>,
    second: MaskedConv<B>,
    out: Conv2d<B>,
}

impl<B: Backend> CausalHead<B> {
    fn new(palette: usize, device: &B::Device) -> Self {
        CausalHead {
            first: MaskedConv::new(palette, CAUSAL, 5, false, device),
            second: MaskedConv::new(CAUSAL, CAUSAL, 3, true, device),
            out: Conv2dConfig::new([CAUSAL, palette], [1, 1]).init(device),
        }
    }

    /// Logits `[N, K, h, w]` from one-hot indices `[N, K, h, w]` and conditioning `[N, CAUSAL, h, w]`.
    pub fn forward(&self, one_hot: Tensor<B, 4>, condition: Tensor<B, 4>) -> Tensor<B, 4> {
        let h = relu(self.first.forward(one_hot) + condition.clone());
        let h = relu(self.second.forward(h) + condition);
        self.out.forward(h)
    }
}

/// Palette-index prediction, BERT or autoregressive.
#[derive(Module, Debug)]
pub struct NextPixelTask<B: Backend> {
    head: DenseHead<B>,
    causal: Option<CausalHead<B>>,
    #[module(skip)]
    size: usize,
    #[module(skip)]
    mode: NextPixelMode,
    #[module(skip)]
    mask_fraction: f64,
    #[module(skip)]
    colours: usize,
    #[module(skip)]
    palette: Option<Arc<Palette>>,
}

impl<B: Backend> NextPixelTask<B> {
    /// Heads decoding `channels` top-feature channels with `ups` up-convolutions.
    pub fn new(channels: usize, ups: usize, config: &NextPixelConfig, device: &B::Device) -> Self {
        let k = config.palette;
        let (head_out, causal) = match config.mode {
            NextPixelMode::Bert => (k, None),
            NextPixelMode::Autoregressive => (CAUSAL, Some(CausalHead::new(k, device))),
        };
        NextPixelTask {
            head: DenseHead::new(channels, 64, head_out, ups, device),
            causal,
            size: config.size,
            mode: config.mode,
            mask_fraction: config.mask_fraction,
            colours: k,
            palette: None,
        }
    }

    /// Takes the run's palette.
    pub fn prepare(&mut self, state: &PretextState) -> Result<(), PretextError> {
        let palette = state
            .palette
            .clone()
            .ok_or(PretextError::Unprepared("next-pixel"))?;
        if palette.len() != self.colours {
            return Err(PretextError::Invalid {
                field: "pretext.next_pixel.palette",
                message: format!(
                    "the run's pretext.json holds {} colours, the model expects {}",
                    palette.len(),
                    self.colours
                ),
            });
        }
        self.palette = Some(Arc::new(palette));
        Ok(())
    }
}

/// Quantised images and their hidden pixels for one batch.
struct Prepared {
    /// Palette index per pixel, `N·s·s`.
    tokens: Vec<usize>,
    /// 1 where a pixel is hidden and scored, `N·s·s`.
    hidden: Vec<f32>,
    /// The quantised images.
    quantised: Vec<Image>,
    /// The quantised images with their hidden pixels grey.
    seen: Vec<Image>,
    /// `seen` at the training size: what the backbone sees.
    inputs: Vec<Image>,
}

impl<B: Backend> NextPixelTask<B> {
    fn inputs<R: Rng>(&self, images: &[Image], palette: &Palette, rng: &mut R) -> Prepared {
        let s = self.size;
        let mut p = Prepared {
            tokens: Vec::new(),
            hidden: Vec::new(),
            quantised: Vec::new(),
            seen: Vec::new(),
            inputs: Vec::new(),
        };
        for img in images {
            let small = img.resize_area(s, s);
            let mut quantised = small.clone();
            let mut hidden = vec![0.0f32; s * s];
            match self.mode {
                NextPixelMode::Bert => {
                    for h in hidden.iter_mut() {
                        *h = if rng.random_bool(self.mask_fraction) {
                            1.0
                        } else {
                            0.0
                        };
                    }
                    if hidden.iter().all(|h| *h == 0.0) {
                        hidden[rng.random_range(0..s * s)] = 1.0;
                    }
                }
                NextPixelMode::Autoregressive => {
                    let from = rng.random_range(0..s);
                    hidden[from * s..].iter_mut().for_each(|h| *h = 1.0);
                }
            }
            for i in 0..s * s {
                let t = palette.nearest(small.rgb(i / s, i % s));
                p.tokens.push(t);
                quantised.set_rgb(i / s, i % s, palette.colours[t]);
            }
            let mut seen = quantised.clone();
            for (i, h) in hidden.iter().enumerate() {
                if *h > 0.0 {
                    seen.set_rgb(i / s, i % s, [0.5; 3]);
                }
            }
            p.inputs.push(seen.resize_nearest(img.h, img.w));
            p.seen.push(seen);
            p.hidden.extend(hidden);
            p.quantised.push(quantised);
        }
        p
    }
}

impl<B: Backend> Task<B> for NextPixelTask<B> {
    fn name(&self) -> &'static str {
        "next-pixel"
    }

    fn forward(&self, ctx: &TaskContext<B>) -> Result<TaskOutput<B>, TaskError> {
        let palette = self
            .palette
            .as_ref()
            .ok_or(PretextError::Unprepared("next-pixel"))?;
        let mut rng = ctx.rng(self.name());
        let device = ctx.device();
        let p = self.inputs(ctx.images(), palette, &mut rng);
        let (n, s, k) = (p.quantised.len(), self.size, self.colours);
        let x = Image::to_tensor::<B>(&p.inputs, &device);
        let decoded = self
            .head
            .forward(ctx.backbone.forward(normalise(x)).top().clone(), [s, s]);
        let tokens = Tensor::<B, 1, Int>::from_data(
            TensorData::new(p.tokens.iter().map(|t| *t as i64).collect(), [n * s * s]),
            &device,
        );
        // [N·s·s, K] one-hot, then laid out as [N, K, s, s].
        let one_hot = tokens
            .one_hot::<2>(k)
            .float()
            .reshape([n, s, s, k])
            .permute([0, 3, 1, 2]);
        let logits = match &self.causal {
            None => decoded,
            Some(causal) => causal.forward(one_hot.clone(), decoded),
        };
        let hidden =
            Tensor::<B, 4>::from_data(TensorData::new(p.hidden.clone(), [n, 1, s, s]), &device);
        let count = hidden.clone().sum().clamp_min(1.0);
        let nll = (log_softmax(logits.clone(), 1) * one_hot.clone())
            .sum_dim(1)
            .neg()
            * hidden.clone();
        let loss = nll.sum() / count.clone();
        let predicted = logits.detach().argmax(1);
        let right = predicted.clone().equal(one_hot.argmax(1)).float() * hidden;
        let accuracy = right.sum() / count;
        // Bits per sub-pixel: the pixel's negative log-likelihood in bits over its 3 channels.
        let bits = loss.clone().detach() / (3.0 * std::f64::consts::LN_2);
        // Chance: the batch's most common colour guessed for every hidden pixel.
        let mut counts = vec![0usize; k];
        p.tokens.iter().for_each(|t| counts[*t] += 1);
        let common = (0..k).max_by_key(|t| counts[*t]).unwrap_or(0);
        let (mut hits, mut scored) = (0usize, 0usize);
        for (t, h) in p.tokens.iter().zip(&p.hidden) {
            if *h > 0.0 {
                scored += 1;
                hits += usize::from(*t == common);
            }
        }
        let majority = Tensor::<B, 1>::from_floats([hits as f32 / scored.max(1) as f32], &device);
        let sheet = ctx.sheet.then(|| {
            let guesses: Vec<i64> = predicted
                .into_data()
                .convert::<i64>()
                .to_vec()
                .unwrap_or_default();
            let mut cells = Vec::new();
            for i in 0..n.min(3) {
                let mut filled = p.quantised[i].clone();
                for j in 0..s * s {
                    if p.hidden[i * s * s + j] > 0.0 {
                        let g = guesses.get(i * s * s + j).copied().unwrap_or(0).max(0) as usize;
                        filled.set_rgb(j / s, j % s, palette.colours[g % k]);
                    }
                }
                for (image, caption) in [
                    (p.quantised[i].clone(), "quantised"),
                    (p.seen[i].clone(), "hidden"),
                    (filled, "predicted"),
                ] {
                    cells.push(SheetCell {
                        image,
                        caption: caption.into(),
                    });
                }
            }
            cells
        });
        let mut out = TaskOutput::new(
            "next-pixel",
            loss,
            vec![
                ("accuracy", accuracy),
                ("majority_accuracy", majority),
                ("bits_per_subpixel", bits),
            ],
        );
        out.sheet = sheet;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::Flex;

    #[test]
    fn the_causal_head_never_sees_the_pixel_it_predicts_or_later_ones() {
        let device = Default::default();
        let head = CausalHead::<Flex>::new(3, &device);
        let (s, k) = (6, 3);
        let tokens = |changed: Option<usize>| {
            let mut t: Vec<i64> = (0..s * s).map(|i| (i % k) as i64).collect();
            if let Some(at) = changed {
                t[at] = (t[at] + 1) % k as i64;
            }
            Tensor::<Flex, 1, Int>::from_data(TensorData::new(t, [s * s]), &device)
                .one_hot::<2>(k)
                .float()
                .reshape([1, s, s, k])
                .permute([0, 3, 1, 2])
        };
        let condition = Tensor::<Flex, 4>::zeros([1, CAUSAL, s, s], &device);
        let base: Vec<f32> = head
            .forward(tokens(None), condition.clone())
            .into_data()
            .to_vec()
            .unwrap();
        let at = 2 * s + 3;
        let moved: Vec<f32> = head
            .forward(tokens(Some(at)), condition)
            .into_data()
            .to_vec()
            .unwrap();
        for c in 0..k {
            for i in 0..s * s {
                let (a, b) = (base[c * s * s + i], moved[c * s * s + i]);
                if i <= at {
                    assert_eq!(a, b, "position {i} saw pixel {at}");
                }
            }
        }
        // The next pixel does depend on it.
        assert!((0..k).any(|c| base[c * s * s + at + 1] != moved[c * s * s + at + 1]));
    }
}
