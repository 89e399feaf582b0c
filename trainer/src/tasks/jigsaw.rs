//! Jigsaw (Noroozi & Favaro, ECCV 2016): a grid of tiles, each jittered
//! inside its cell (random gaps, so edges do not give the answer) and
//! colour-normalised on its own, shuffled by one permutation of a fixed
//! maximal-Hamming set; the tiles go through the shared backbone one by one
//! and a classifier on their concatenated features names the permutation.

use burn::module::Module;
use burn::tensor::backend::Backend;
use rand::Rng;
use std::sync::Arc;

use super::{ClassifierHead, SheetCell, Task, TaskContext, TaskError, TaskOutput, classify};
use crate::pretext::grid::corners;
use crate::pretext::permutations::{apply, invert};
use crate::pretext::{Image, PermutationSet, PretextError, PretextState};

/// Jigsaw-puzzle classification.
#[derive(Module, Debug)]
pub struct JigsawTask<B: Backend> {
    head: ClassifierHead<B>,
    #[module(skip)]
    grid: usize,
    #[module(skip)]
    tile: usize,
    #[module(skip)]
    count: usize,
    #[module(skip)]
    set: Option<Arc<PermutationSet>>,
}

/// Tiles laid out on a grid with a one-pixel gap, for the sheet.
fn assemble(tiles: &[Image], grid: usize) -> Image {
    let t = tiles.first().map(|i| i.h).unwrap_or(1);
    let side = grid * (t + 1) - 1;
    let mut out = Image::filled(side, side, [1.0; 3]);
    for (k, tile) in tiles.iter().enumerate() {
        let (oy, ox) = ((k / grid) * (t + 1), (k % grid) * (t + 1));
        for y in 0..t {
            for x in 0..t {
                out.set_rgb(oy + y, ox + x, tile.rgb(y, x));
            }
        }
    }
    out
}

impl<B: Backend> JigsawTask<B> {
    /// A classifier over `count` permutations of a `grid×grid` puzzle of
    /// `tile`-pixel tiles, on `channels` top-feature channels.
    pub fn new(
        channels: usize,
        grid: usize,
        tile: usize,
        count: usize,
        device: &B::Device,
    ) -> Self {
        JigsawTask {
            head: ClassifierHead::new(channels, 1, grid * grid, count, device),
            grid,
            tile,
            count,
            set: None,
        }
    }

    /// Takes the run's permutation set.
    pub fn prepare(&mut self, state: &PretextState) -> Result<(), PretextError> {
        let set = state
            .permutations
            .clone()
            .ok_or(PretextError::Unprepared("jigsaw"))?;
        if set.perms.len() != self.count || set.tiles != self.grid * self.grid {
            return Err(PretextError::Invalid {
                field: "pretext.jigsaw.permutations",
                message: format!(
                    "the run's pretext.json holds {} permutations of {} tiles, the model expects {} of {}",
                    set.perms.len(),
                    set.tiles,
                    self.count,
                    self.grid * self.grid
                ),
            });
        }
        self.set = Some(Arc::new(set));
        Ok(())
    }
}

impl<B: Backend> Task<B> for JigsawTask<B> {
    fn name(&self) -> &'static str {
        "jigsaw"
    }

    fn forward(&self, ctx: &TaskContext<B>) -> Result<TaskOutput<B>, TaskError> {
        let set = self
            .set
            .as_ref()
            .ok_or(PretextError::Unprepared("jigsaw"))?;
        let mut rng = ctx.rng(self.name());
        let mut tiles = Vec::new();
        let mut labels = Vec::new();
        for img in ctx.images() {
            let own: Vec<Image> = corners(img.h, self.grid, self.tile, &mut rng)
                .into_iter()
                .map(|(y, x)| img.crop(y, x, self.tile).normalise_channels())
                .collect();
            let label = rng.random_range(0..set.perms.len());
            tiles.extend(apply(&set.perms[label], &own));
            labels.push(label as i64);
        }
        let (mut out, predicted) = classify(self.name(), ctx, &self.head, &tiles, &labels);
        out.sheet = predicted.map(|predicted| {
            let per = self.grid * self.grid;
            let mut cells = Vec::new();
            for (k, p) in predicted.iter().take(3).enumerate() {
                let shuffled = &tiles[k * per..(k + 1) * per];
                cells.push(SheetCell {
                    image: assemble(shuffled, self.grid),
                    caption: format!("perm {}", labels[k]),
                });
                let solved = invert(&set.perms[p % set.perms.len()], shuffled);
                cells.push(SheetCell {
                    image: assemble(&solved, self.grid),
                    caption: format!("solved {p}"),
                });
            }
            cells
        });
        Ok(out)
    }
}
