//! Relative position (Doersch et al., ICCV 2015): the centre patch of a 3×3
//! grid and one of its eight neighbours, each jittered inside its cell (so the
//! gap varies), through the backbone; an 8-way classifier on the pair.
//! Chromatic aberration, which gives away a patch's place in the frame, is
//! hidden by dropping colour channels or greying.

use burn::module::Module;
use burn::tensor::backend::Backend;
use rand::Rng;

use super::{ClassifierHead, SheetCell, Task, TaskContext, TaskError, TaskOutput, classify};
use crate::pretext::grid::{corner, neighbour_cell};
use crate::pretext::{Aberration, Image};

/// Short names of the eight neighbours, in label order.
const NAMES: [&str; 8] = ["TL", "T", "TR", "L", "R", "BL", "B", "BR"];

/// Relative-position classification of patch pairs.
#[derive(Module, Debug)]
pub struct RelativePositionTask<B: Backend> {
    head: ClassifierHead<B>,
    #[module(skip)]
    patch: usize,
    #[module(skip)]
    aberration: Aberration,
}

/// `img` with the chromatic-aberration guard applied.
fn guard<R: Rng>(img: Image, aberration: Aberration, rng: &mut R) -> Image {
    match aberration {
        Aberration::None => img,
        Aberration::Grey => img.grey(),
        Aberration::Drop => {
            // Keep one channel; the others become their mean plus faint noise
            // (σ = 1/100 of the channel's spread), as the paper does.
            let keep = rng.random_range(0..3);
            let n = img.h * img.w;
            let mut out = img.clone();
            for (c, plane) in out.data.chunks_mut(n).enumerate() {
                if c == keep {
                    continue;
                }
                let mean = plane.iter().sum::<f32>() / n as f32;
                let sd = (plane.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / n as f32).sqrt();
                for v in plane {
                    *v = mean + (rng.random::<f32>() - 0.5) * 0.035 * sd;
                }
            }
            out
        }
    }
}

impl<B: Backend> RelativePositionTask<B> {
    /// A pair classifier on `channels` top-feature channels, for `patch`-pixel patches.
    pub fn new(channels: usize, patch: usize, aberration: Aberration, device: &B::Device) -> Self {
        RelativePositionTask {
            head: ClassifierHead::new(channels, 1, 2, 8, device),
            patch,
            aberration,
        }
    }
}

impl<B: Backend> Task<B> for RelativePositionTask<B> {
    fn name(&self) -> &'static str {
        "relative-position"
    }

    fn forward(&self, ctx: &TaskContext<B>) -> Result<TaskOutput<B>, TaskError> {
        let mut rng = ctx.rng(self.name());
        let mut patches = Vec::new();
        let mut labels = Vec::new();
        for img in ctx.images() {
            let label = rng.random_range(0..8usize);
            for cell in [(1, 1), neighbour_cell(label)] {
                let (y, x) = corner(img.h, 3, self.patch, cell, &mut rng);
                patches.push(guard(img.crop(y, x, self.patch), self.aberration, &mut rng));
            }
            labels.push(label as i64);
        }
        let (mut out, predicted) = classify(self.name(), ctx, &self.head, &patches, &labels);
        out.sheet = predicted.map(|predicted| {
            let mut cells = Vec::new();
            for (k, (truth, p)) in labels.iter().zip(&predicted).take(4).enumerate() {
                cells.push(SheetCell {
                    image: patches[2 * k].clone(),
                    caption: "centre".into(),
                });
                cells.push(SheetCell {
                    image: patches[2 * k + 1].clone(),
                    caption: format!("{} pred {}", NAMES[*truth as usize], NAMES[p % 8]),
                });
            }
            cells
        });
        Ok(out)
    }
}
