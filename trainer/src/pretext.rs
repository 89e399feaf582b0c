//! The classic self-supervised pretext tasks' inputs, built on the host from
//! plain images: rotations, jigsaw tiles and their permutation set, patch
//! pairs, Lab colour and its bins, inpainting masks and the next-pixel palette.
//! The tasks themselves (heads and losses) are in [`crate::tasks`].
//!
//! What a task learns before training (the palette, the colour prior, the
//! permutation set) is a [`PretextState`], written to `RUN/pretext.json`.

pub mod grid;
pub mod image;
pub mod lab;
pub mod mask;
pub mod palette;
pub mod permutations;
pub mod views;

use serde::{Deserialize, Serialize};
use std::path::Path;

pub use image::Image;
pub use lab::AbBins;
pub use mask::MaskMode;
pub use palette::Palette;
pub use permutations::PermutationSet;

use crate::model::BackboneConfig;

/// A pretext task's invalid setting, or state that cannot be built or read.
#[derive(Debug, thiserror::Error)]
pub enum PretextError {
    /// A value out of range; names the config field.
    #[error("`{field}` {message}")]
    Invalid {
        /// Dotted field name.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
    /// No image to learn from.
    #[error("no images for {0}")]
    NoImages(&'static str),
    /// `pretext.json` cannot be read or written.
    #[error("{path}: {message}")]
    File {
        /// The file.
        path: std::path::PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The run's state lacks what a task needs.
    #[error("task `{0}` was not prepared (its pretext.json entry is missing)")]
    Unprepared(&'static str),
}

/// Jigsaw (Noroozi & Favaro).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JigsawConfig {
    /// Tiles per side (3 in the paper).
    pub grid: usize,
    /// Permutations to classify (100 in the paper), at most (grid²)!.
    pub permutations: usize,
    /// Tile side in pixels; unset: the largest size the backbone takes that
    /// fits a cell (the rest of the cell is gap and jitter).
    pub tile: Option<usize>,
    /// Refuse a permutation set whose closest pair differs in fewer tiles.
    pub min_hamming: Option<usize>,
}

impl Default for JigsawConfig {
    fn default() -> Self {
        JigsawConfig {
            grid: 3,
            permutations: 100,
            tile: None,
            min_hamming: None,
        }
    }
}

/// Guard against chromatic aberration (relative position learns it otherwise).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Aberration {
    /// Keep one random colour channel per patch, replace the others by noise (the paper's).
    Drop,
    /// Grey patches.
    Grey,
    /// No guard.
    None,
}

/// Relative position (Doersch et al.).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RelativePositionConfig {
    /// Patch side in pixels; unset: as jigsaw's tile, on a 3×3 grid.
    pub patch: Option<usize>,
    /// Chromatic-aberration guard.
    pub aberration: Aberration,
}

impl Default for RelativePositionConfig {
    fn default() -> Self {
        RelativePositionConfig {
            patch: None,
            aberration: Aberration::Drop,
        }
    }
}

/// Colorization (Zhang et al.).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ColorizationConfig {
    /// Side of the ab bins (10 in the paper: 261 bins hold sRGB colours; 20 gives a coarser 75 or so).
    pub bin: f32,
    /// Annealed-mean temperature for decoding (0.38 in the paper).
    pub temperature: f32,
    /// Class rebalancing: mix of the uniform distribution λ (0.5 in the paper; 1 = no rebalancing).
    pub rebalance: f64,
}

impl Default for ColorizationConfig {
    fn default() -> Self {
        ColorizationConfig {
            bin: 10.0,
            temperature: 0.38,
            rebalance: 0.5,
        }
    }
}

/// Inpainting (Pathak et al.'s context encoder).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct InpaintingConfig {
    /// Which region to remove.
    pub mask: MaskMode,
    /// Weight of the adversarial loss on the encoder–decoder (0.001 in the paper; 0 = L2 only).
    pub adversarial_weight: f64,
}

impl Default for InpaintingConfig {
    fn default() -> Self {
        InpaintingConfig {
            mask: MaskMode::Centre,
            adversarial_weight: 0.001,
        }
    }
}

/// Which form of iGPT's objective.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NextPixelMode {
    /// BERT: predict randomly masked pixels from the rest.
    Bert,
    /// Autoregressive: predict the hidden lower rows pixel by pixel through a causal head.
    Autoregressive,
}

/// Next-pixel / masked-pixel prediction (Chen et al., iGPT).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NextPixelConfig {
    /// Images are downsampled to this side before quantising.
    pub size: usize,
    /// Palette colours, learnt by k-means (iGPT: 512).
    pub palette: usize,
    /// BERT or autoregressive.
    pub mode: NextPixelMode,
    /// BERT: fraction of pixels masked (0.15 in the paper).
    pub mask_fraction: f64,
}

impl Default for NextPixelConfig {
    fn default() -> Self {
        NextPixelConfig {
            size: 16,
            palette: 32,
            mode: NextPixelMode::Bert,
            mask_fraction: 0.15,
        }
    }
}

/// Contrastive learning (SimCLR's NT-Xent, Chen et al., ICML 2020): two
/// augmented views of every image, a projection head on the pooled top
/// features, each view's partner the positive and the batch's other views
/// the negatives.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ContrastiveConfig {
    /// Softmax temperature τ of the similarities (SimCLR: 0.1–0.5).
    pub temperature: f64,
    /// Width of the projection head's hidden layer.
    pub hidden: usize,
    /// Dimensions of the projected embedding (SimCLR: 128).
    pub projection_dim: usize,
    /// Smallest crop, as a share of the image's area (SimCLR: 0.08).
    pub crop_min_scale: f64,
    /// Colour jitter strength s: brightness, contrast, saturation ±s, hue ±s/4.
    pub jitter: f32,
    /// Probability of the colour jitter (SimCLR: 0.8).
    pub jitter_probability: f64,
    /// Probability of a grey view (SimCLR: 0.2).
    pub grey_probability: f64,
    /// Probability of a Gaussian blur (SimCLR on ImageNet: 0.5; off for small images).
    pub blur_probability: f64,
}

impl Default for ContrastiveConfig {
    fn default() -> Self {
        ContrastiveConfig {
            temperature: 0.2,
            hidden: 256,
            projection_dim: 64,
            crop_min_scale: 0.2,
            jitter: 0.4,
            jitter_probability: 0.8,
            grey_probability: 0.2,
            blur_probability: 0.0,
        }
    }
}

/// Dense geometric contrast between two rendered views of one scene (the
/// `dense-geometry` task): positives are cells that see the same 3-D point.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DenseGeometryConfig {
    /// Backbone layer whose feature map is contrasted (its cells are the pixels).
    pub layer: String,
    /// Softmax temperature τ.
    pub temperature: f64,
    /// Dimensions of the 1×1 projection.
    pub projection_dim: usize,
    /// A point is visible in the other view when that view's depth there is
    /// within this share of the point's depth (else it is occluded).
    pub tolerance: f64,
    /// Anchors per step, at most (drawn at random from the correspondences).
    pub max_anchors: usize,
}

impl Default for DenseGeometryConfig {
    fn default() -> Self {
        DenseGeometryConfig {
            layer: "conv3".into(),
            temperature: 0.1,
            projection_dim: 64,
            tolerance: 0.05,
            max_anchors: 256,
        }
    }
}

/// Every pretext task's settings: the `[pretext.*]` tables of a training config.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PretextConfig {
    /// Jigsaw.
    pub jigsaw: JigsawConfig,
    /// Relative position.
    pub relative_position: RelativePositionConfig,
    /// Colorization.
    pub colorization: ColorizationConfig,
    /// Inpainting.
    pub inpainting: InpaintingConfig,
    /// Next pixel.
    pub next_pixel: NextPixelConfig,
    /// Contrastive learning (`simclr`).
    pub simclr: ContrastiveConfig,
    /// Dense geometric contrast (`dense-geometry`).
    pub dense_geometry: DenseGeometryConfig,
}

/// The largest patch side at most `cell` that the backbone accepts.
pub fn largest_patch(backbone: &BackboneConfig, cell: usize) -> Option<usize> {
    (1..=cell).rev().find(|&s| backbone.check_size(s).is_ok())
}

impl PretextConfig {
    /// Jigsaw's tile side for `size` images.
    pub fn jigsaw_tile(&self, backbone: &BackboneConfig, size: usize) -> Option<usize> {
        let cell = grid::cell(size, self.jigsaw.grid);
        self.jigsaw.tile.or_else(|| largest_patch(backbone, cell))
    }

    /// Relative position's patch side for `size` images.
    pub fn relative_patch(&self, backbone: &BackboneConfig, size: usize) -> Option<usize> {
        self.relative_position
            .patch
            .or_else(|| largest_patch(backbone, grid::cell(size, 3)))
    }

    /// Checks the settings of the enabled tasks against the image size and backbone.
    pub fn validate(
        &self,
        tasks: &[String],
        backbone: &BackboneConfig,
        size: usize,
    ) -> Result<(), PretextError> {
        let on = |t: &str| tasks.iter().any(|x| x == t);
        let bad =
            |field: &'static str, message: String| Err(PretextError::Invalid { field, message });
        let patch = |field: &'static str, side: Option<usize>, grid: usize| {
            let cell = grid::cell(size, grid);
            match side {
                None => bad(
                    field,
                    format!(
                        "is unset and no size the {} backbone accepts fits a cell of {size} px / {grid} = {cell} px; \
                         train at a larger --size",
                        backbone.kind
                    ),
                ),
                Some(s) if s > cell => bad(
                    field,
                    format!(
                        "{s} px is larger than a cell of the image ({size} px / {grid} = {cell} px)"
                    ),
                ),
                Some(s) => match backbone.check_size(s) {
                    Ok(()) => Ok(()),
                    Err(e) => bad(field, format!("{s} px: {e}")),
                },
            }
        };
        if on("jigsaw") {
            let g = self.jigsaw.grid;
            if !(2..=4).contains(&g) {
                return bad("pretext.jigsaw.grid", format!("must be 2, 3 or 4, got {g}"));
            }
            patch("pretext.jigsaw.tile", self.jigsaw_tile(backbone, size), g)?;
            let allowed = permutations::factorial(g * g);
            let n = self.jigsaw.permutations;
            if n == 0 || n > allowed {
                return bad(
                    "pretext.jigsaw.permutations",
                    format!(
                        "must lie in 1..={allowed} (a {g}×{g} grid has {allowed} orders), got {n}"
                    ),
                );
            }
            if let Some(h) = self.jigsaw.min_hamming
                && h > g * g
            {
                return bad(
                    "pretext.jigsaw.min_hamming",
                    format!("{h} is more than the {} tiles a permutation has", g * g),
                );
            }
        }
        if on("relative-position") {
            patch(
                "pretext.relative_position.patch",
                self.relative_patch(backbone, size),
                3,
            )?;
        }
        if on("colorization") {
            let c = &self.colorization;
            if !(2.0..=50.0).contains(&c.bin) {
                return bad(
                    "pretext.colorization.bin",
                    format!("must lie in [2, 50], got {}", c.bin),
                );
            }
            if !(c.temperature > 0.0 && c.temperature <= 1.0) {
                return bad(
                    "pretext.colorization.temperature",
                    format!("must lie in (0, 1], got {}", c.temperature),
                );
            }
            if !(0.0..=1.0).contains(&c.rebalance) {
                return bad(
                    "pretext.colorization.rebalance",
                    format!("must lie in [0, 1], got {}", c.rebalance),
                );
            }
        }
        if on("inpainting") {
            let w = self.inpainting.adversarial_weight;
            if !(w >= 0.0 && w.is_finite()) {
                return bad(
                    "pretext.inpainting.adversarial_weight",
                    format!("must be 0 or more, got {w}"),
                );
            }
        }
        if on("simclr") {
            let c = &self.simclr;
            if !(c.temperature > 0.0 && c.temperature <= 10.0) {
                return bad(
                    "pretext.simclr.temperature",
                    format!("must lie in (0, 10], got {}", c.temperature),
                );
            }
            if c.hidden == 0 || c.projection_dim == 0 {
                return bad(
                    "pretext.simclr.projection_dim",
                    format!(
                        "and `hidden` must be at least 1, got {} and {}",
                        c.projection_dim, c.hidden
                    ),
                );
            }
            if !(c.crop_min_scale > 0.0 && c.crop_min_scale <= 1.0) {
                return bad(
                    "pretext.simclr.crop_min_scale",
                    format!("must lie in (0, 1], got {}", c.crop_min_scale),
                );
            }
            if !(0.0..=1.0).contains(&c.jitter) {
                return bad(
                    "pretext.simclr.jitter",
                    format!("must lie in [0, 1], got {}", c.jitter),
                );
            }
            for (field, p) in [
                ("pretext.simclr.jitter_probability", c.jitter_probability),
                ("pretext.simclr.grey_probability", c.grey_probability),
                ("pretext.simclr.blur_probability", c.blur_probability),
            ] {
                if !(0.0..=1.0).contains(&p) {
                    return bad(field, format!("must lie in [0, 1], got {p}"));
                }
            }
        }
        if on("dense-geometry") {
            let d = &self.dense_geometry;
            let layers = backbone.layer_names();
            if !layers.contains(&d.layer.as_str()) {
                return bad(
                    "pretext.dense_geometry.layer",
                    format!(
                        "`{}` is not a layer of the {} backbone (its layers: {})",
                        d.layer,
                        backbone.kind,
                        layers.join(", ")
                    ),
                );
            }
            if !(d.temperature > 0.0 && d.temperature <= 10.0) {
                return bad(
                    "pretext.dense_geometry.temperature",
                    format!("must lie in (0, 10], got {}", d.temperature),
                );
            }
            if !(d.tolerance > 0.0 && d.tolerance < 1.0) {
                return bad(
                    "pretext.dense_geometry.tolerance",
                    format!("must lie in (0, 1), got {}", d.tolerance),
                );
            }
            if d.projection_dim == 0 || d.max_anchors == 0 {
                return bad(
                    "pretext.dense_geometry.max_anchors",
                    format!(
                        "and `projection_dim` must be at least 1, got {} and {}",
                        d.max_anchors, d.projection_dim
                    ),
                );
            }
        }
        if on("next-pixel") {
            let n = &self.next_pixel;
            if n.palette == 0 {
                return bad(
                    "pretext.next_pixel.palette",
                    "must be at least 1, got 0".into(),
                );
            }
            if n.size < 4 || n.size > size {
                return bad(
                    "pretext.next_pixel.size",
                    format!("must lie in 4..={size} (the training size), got {}", n.size),
                );
            }
            if !(n.mask_fraction > 0.0 && n.mask_fraction < 1.0) {
                return bad(
                    "pretext.next_pixel.mask_fraction",
                    format!("must lie in (0, 1), got {}", n.mask_fraction),
                );
            }
        }
        Ok(())
    }
}

/// What the pretext tasks learn before training: jigsaw's permutation set,
/// the next-pixel palette and the colour prior (ab-bin counts) for
/// colorization's rebalancing. Saved as `RUN/pretext.json`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PretextState {
    /// Jigsaw's permutations.
    pub permutations: Option<PermutationSet>,
    /// Next pixel's palette.
    pub palette: Option<Palette>,
    /// Pixels per ab bin (of `AbBins::in_gamut(colorization.bin)`) in the
    /// images the state was prepared from: colorization's colour prior.
    pub ab_counts: Option<Vec<f64>>,
}

/// Where a run keeps its [`PretextState`].
pub const STATE_FILE: &str = "pretext.json";

impl PretextState {
    /// True when an enabled task learns something from images before training.
    pub fn needs_images(tasks: &[String]) -> bool {
        tasks
            .iter()
            .any(|t| t == "colorization" || t == "next-pixel")
    }

    /// Learns what the enabled tasks need from `images` (training images,
    /// before the first step); deterministic for a seed.
    pub fn prepare(
        config: &PretextConfig,
        tasks: &[String],
        images: &[Image],
        seed: u64,
    ) -> Result<Self, PretextError> {
        let on = |t: &str| tasks.iter().any(|x| x == t);
        let mut state = PretextState::default();
        if on("jigsaw") {
            let j = &config.jigsaw;
            let set = PermutationSet::maximal(j.grid * j.grid, j.permutations, seed)?;
            if let Some(h) = j.min_hamming
                && set.min_distance() < h
            {
                return Err(PretextError::Invalid {
                    field: "pretext.jigsaw.min_hamming",
                    message: format!(
                        "{h} cannot be reached with {} permutations of {} tiles (the maximal set's closest pair differs in {})",
                        j.permutations,
                        j.grid * j.grid,
                        set.min_distance()
                    ),
                });
            }
            state.permutations = Some(set);
        }
        if on("next-pixel") {
            let n = &config.next_pixel;
            let pixels: Vec<[f32; 3]> = images
                .iter()
                .flat_map(|img| {
                    let small = img.resize_area(n.size, n.size);
                    (0..n.size * n.size)
                        .map(move |i| small.rgb(i / n.size, i % n.size))
                        .collect::<Vec<_>>()
                })
                .collect();
            state.palette = Some(Palette::kmeans(&pixels, n.palette, 20, seed)?);
        }
        if on("colorization") {
            if images.is_empty() {
                return Err(PretextError::NoImages("the colorization prior"));
            }
            let bins = AbBins::in_gamut(config.colorization.bin);
            let mut counts = vec![0.0f64; bins.len()];
            for img in images {
                for y in 0..img.h {
                    for x in 0..img.w {
                        let [_, a, b] = lab::rgb_to_lab(img.rgb(y, x));
                        counts[bins.nearest([a, b])] += 1.0;
                    }
                }
            }
            state.ab_counts = Some(counts);
        }
        Ok(state)
    }

    /// Writes `dir/pretext.json` (atomically).
    pub fn save(&self, dir: &Path) -> Result<(), PretextError> {
        let path = dir.join(STATE_FILE);
        let err = |message: String| PretextError::File {
            path: path.clone(),
            message,
        };
        let text = serde_json::to_string(self).map_err(|e| err(e.to_string()))?;
        let tmp = dir.join("pretext.json.tmp");
        std::fs::write(&tmp, text).map_err(|e| err(e.to_string()))?;
        std::fs::rename(&tmp, &path).map_err(|e| err(e.to_string()))
    }

    /// Reads `dir/pretext.json`.
    pub fn load(dir: &Path) -> Result<Self, PretextError> {
        let path = dir.join(STATE_FILE);
        let err = |message: String| PretextError::File {
            path: path.clone(),
            message,
        };
        let text = std::fs::read_to_string(&path).map_err(|e| err(e.to_string()))?;
        serde_json::from_str(&text).map_err(|e| err(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tasks(t: &[&str]) -> Vec<String> {
        t.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn patches_must_fit_a_cell_and_suit_the_backbone() {
        let bb = BackboneConfig::new();
        let c = PretextConfig::default();
        // 64 px: cells of 21 px hold 16-px tiles; 32 px: cells of 10 px hold none.
        assert_eq!(c.jigsaw_tile(&bb, 64), Some(16));
        assert!(c.validate(&tasks(&["jigsaw"]), &bb, 64).is_ok());
        let e = c
            .validate(&tasks(&["jigsaw"]), &bb, 32)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("pretext.jigsaw.tile") && e.contains("32 px / 3 = 10 px"),
            "{e}"
        );
        let mut big = c.clone();
        big.relative_position.patch = Some(32);
        let e = big
            .validate(&tasks(&["relative-position"]), &bb, 64)
            .unwrap_err()
            .to_string();
        assert!(e.contains("32 px is larger than a cell"), "{e}");
        let mut odd = c.clone();
        odd.jigsaw.tile = Some(20);
        let e = odd
            .validate(&tasks(&["jigsaw"]), &bb, 64)
            .unwrap_err()
            .to_string();
        assert!(e.contains("multiple of 16"), "{e}");
        // Settings of tasks not enabled are not checked.
        assert!(c.validate(&tasks(&["rotation"]), &bb, 32).is_ok());
    }

    #[test]
    fn an_unreachable_minimum_hamming_distance_is_refused() {
        let mut c = PretextConfig::default();
        c.jigsaw.permutations = 30;
        c.jigsaw.min_hamming = Some(9);
        let e = PretextState::prepare(&c, &tasks(&["jigsaw"]), &[], 0)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("min_hamming") && e.contains("cannot be reached"),
            "{e}"
        );
        c.jigsaw.min_hamming = Some(7);
        let state = PretextState::prepare(&c, &tasks(&["jigsaw"]), &[], 0).unwrap();
        assert!(state.permutations.unwrap().min_distance() >= 7);
    }

    #[test]
    fn the_state_round_trips_through_pretext_json() {
        let dir = std::env::temp_dir().join(format!("pretext-state-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let images = vec![Image::filled(16, 16, [0.2, 0.5, 0.9]); 2];
        let t = tasks(&["jigsaw", "colorization", "next-pixel"]);
        let mut c = PretextConfig::default();
        c.next_pixel.palette = 4;
        c.jigsaw.permutations = 5;
        let state = PretextState::prepare(&c, &t, &images, 1).unwrap();
        state.save(&dir).unwrap();
        assert_eq!(PretextState::load(&dir).unwrap(), state);
        std::fs::remove_dir_all(&dir).unwrap();
        let e = PretextState::load(&dir).unwrap_err().to_string();
        assert!(e.contains("pretext.json"), "{e}");
    }
}
