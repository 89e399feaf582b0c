//! Colorization (Zhang et al., ECCV 2016): from the L channel of Lab, predict
//! a distribution over quantised ab bins per pixel; cross-entropy against the
//! soft-encoded true colour, weighted by class rebalancing; decoded by the
//! annealed mean.

use burn::module::Module;
use burn::tensor::activation::log_softmax;
use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};
use std::sync::Arc;

use super::{SheetCell, Task, TaskContext, TaskError, TaskOutput};
use crate::model::DenseHead;
use crate::pretext::lab::{lab_to_rgb, rgb_to_lab};
use crate::pretext::{AbBins, ColorizationConfig, Image, PretextError, PretextState};
use crate::train::normalise;

/// Colour prediction over ab bins at the label resolution.
#[derive(Module, Debug)]
pub struct ColorizationTask<B: Backend> {
    head: DenseHead<B>,
    #[module(skip)]
    bins: Arc<AbBins>,
    #[module(skip)]
    weights: Option<Arc<Vec<f32>>>,
    #[module(skip)]
    prior_top5: Vec<usize>,
    #[module(skip)]
    rebalance: f64,
    #[module(skip)]
    temperature: f32,
    #[module(skip)]
    label_scale: usize,
}

/// The L channel of `img`, as a grey image (L/100 in every channel).
fn lightness(img: &Image) -> (Image, Vec<f32>) {
    let mut grey = img.clone();
    let mut l = Vec::with_capacity(img.h * img.w);
    for y in 0..img.h {
        for x in 0..img.w {
            let v = rgb_to_lab(img.rgb(y, x))[0];
            l.push(v);
            grey.set_rgb(y, x, [v / 100.0; 3]);
        }
    }
    (grey, l)
}

impl<B: Backend> ColorizationTask<B> {
    /// A dense head over the in-gamut bins of `config.bin`, decoding
    /// `channels` top-feature channels with `ups` up-convolutions.
    pub fn new(
        channels: usize,
        ups: usize,
        label_scale: usize,
        config: &ColorizationConfig,
        device: &B::Device,
    ) -> Self {
        let bins = AbBins::in_gamut(config.bin);
        ColorizationTask {
            head: DenseHead::new(channels, 64, bins.len(), ups, device),
            bins: Arc::new(bins),
            weights: None,
            prior_top5: Vec::new(),
            rebalance: config.rebalance,
            temperature: config.temperature,
            label_scale,
        }
    }

    /// Takes the colour prior and builds the rebalancing weights.
    pub fn prepare(&mut self, state: &PretextState) -> Result<(), PretextError> {
        let counts = state
            .ab_counts
            .as_ref()
            .ok_or(PretextError::Unprepared("colorization"))?;
        if counts.len() != self.bins.len() {
            return Err(PretextError::Invalid {
                field: "pretext.colorization.bin",
                message: format!(
                    "the run's pretext.json counts {} bins, the model has {}",
                    counts.len(),
                    self.bins.len()
                ),
            });
        }
        self.weights = Some(Arc::new(
            self.bins.rebalancing_weights(counts, self.rebalance),
        ));
        let mut order: Vec<usize> = (0..counts.len()).collect();
        order.sort_by(|a, b| counts[*b].total_cmp(&counts[*a]));
        order.truncate(5);
        self.prior_top5 = order;
        Ok(())
    }

    /// The colour image from predicted bin probabilities `[Q, h·w]` (annealed
    /// mean) and the lightness of the full-size image `l` (`H×W`).
    fn decode(&self, probs: &[f32], h: usize, w: usize, l: &[f32], size: [usize; 2]) -> Image {
        let q = self.bins.len();
        let ab: Vec<[f32; 2]> = (0..h * w)
            .map(|i| {
                let p: Vec<f32> = (0..q).map(|k| probs[k * h * w + i]).collect();
                self.bins.annealed_mean(&p, self.temperature)
            })
            .collect();
        let [hh, ww] = size;
        let mut out = Image::filled(hh, ww, [0.0; 3]);
        for y in 0..hh {
            for x in 0..ww {
                let [a, b] = ab[(y * h / hh) * w + x * w / ww];
                out.set_rgb(y, x, lab_to_rgb([l[y * ww + x], a, b]));
            }
        }
        out
    }
}

impl<B: Backend> Task<B> for ColorizationTask<B> {
    fn name(&self) -> &'static str {
        "colorization"
    }

    fn forward(&self, ctx: &TaskContext<B>) -> Result<TaskOutput<B>, TaskError> {
        let weights = self
            .weights
            .as_ref()
            .ok_or(PretextError::Unprepared("colorization"))?;
        let images = ctx.images();
        let device = ctx.device();
        let [h, w] = ctx.label_size(self.label_scale);
        let (q, n, hw) = (self.bins.len(), images.len(), h * w);
        let mut inputs = Vec::with_capacity(n);
        let mut lights = Vec::with_capacity(n);
        let mut target = vec![0.0f32; n * q * hw];
        let mut pixel_weight = vec![0.0f32; n * hw];
        let mut nearest = vec![0usize; n * hw];
        let mut small_images = Vec::with_capacity(n);
        // Lightness of the label-size images, for decoding them to compare.
        let mut small_lights = Vec::with_capacity(n);
        for (i, img) in images.iter().enumerate() {
            let (grey, l) = lightness(img);
            inputs.push(grey);
            lights.push(l);
            let small = img.resize_area(h, w);
            let mut small_l = Vec::with_capacity(hw);
            for p in 0..hw {
                let [l, a, b] = rgb_to_lab(small.rgb(p / w, p % w));
                small_l.push(l);
                let soft = self.bins.soft_encode([a, b]);
                for (k, v) in &soft {
                    target[(i * q + k) * hw + p] = *v;
                }
                let best = soft.first().map(|s| s.0).unwrap_or(0);
                nearest[i * hw + p] = best;
                pixel_weight[i * hw + p] = weights[best];
            }
            small_images.push(small);
            small_lights.push(small_l);
        }
        let x = Image::to_tensor::<B>(&inputs, &device);
        let logits = self
            .head
            .forward(ctx.backbone.forward(normalise(x)).top().clone(), [h, w]);
        let target = Tensor::<B, 4>::from_data(TensorData::new(target, [n, q, h, w]), &device);
        let pixel_weight =
            Tensor::<B, 4>::from_data(TensorData::new(pixel_weight, [n, 1, h, w]), &device);
        let loss = (log_softmax(logits.clone(), 1) * target)
            .sum_dim(1)
            .mul(pixel_weight)
            .mean()
            .neg();
        // Metrics on the host: top-5 accuracy of the nearest bin and the PSNR
        // of the annealed-mean colours at the label resolution.
        let probs: Vec<f32> = burn::tensor::activation::softmax(logits.detach(), 1)
            .into_data()
            .convert::<f32>()
            .to_vec()
            .unwrap_or_default();
        let (mut top5, mut sq) = (0usize, 0.0f64);
        let prior_top5 = nearest
            .iter()
            .filter(|b| self.prior_top5.contains(b))
            .count();
        let mut decoded = Vec::with_capacity(n);
        for i in 0..n {
            let own = &probs[i * q * hw..(i + 1) * q * hw];
            for p in 0..hw {
                let truth = own[nearest[i * hw + p] * hw + p];
                let above = (0..q).filter(|k| own[k * hw + p] > truth).count();
                top5 += usize::from(above < 5);
            }
            let small = &small_images[i];
            let colour = self.decode(own, h, w, &small_lights[i], [h, w]);
            sq += colour
                .data
                .iter()
                .zip(&small.data)
                .map(|(a, b)| f64::from(a - b).powi(2))
                .sum::<f64>();
            decoded.push(own);
        }
        let mse = sq / (n * 3 * hw).max(1) as f64;
        let psnr = 10.0 * (1.0 / mse.max(1e-10)).log10();
        let metric = |v: f64| Tensor::<B, 1>::from_floats([v as f32], &device);
        let sheet = ctx.sheet.then(|| {
            let mut cells = Vec::new();
            for i in 0..n.min(3) {
                let img = &images[i];
                cells.push(SheetCell {
                    image: inputs[i].clone(),
                    caption: "L input".into(),
                });
                cells.push(SheetCell {
                    image: self.decode(decoded[i], h, w, &lights[i], [img.h, img.w]),
                    caption: "colourised".into(),
                });
                cells.push(SheetCell {
                    image: img.clone(),
                    caption: "original".into(),
                });
            }
            cells
        });
        let mut out = TaskOutput::new(
            "colorization",
            loss,
            vec![
                (
                    "top5_accuracy",
                    metric(top5 as f64 / (n * hw).max(1) as f64),
                ),
                // Chance: the prior's five most common bins guessed everywhere.
                (
                    "prior_top5_accuracy",
                    metric(prior_top5 as f64 / (n * hw).max(1) as f64),
                ),
                ("psnr_db", metric(psnr)),
            ],
        );
        out.sheet = sheet;
        Ok(out)
    }
}
