//! The linear probe (Goyal et al., ICCV 2019): the backbone frozen, each
//! chosen layer's activations average-pooled to a grid of about `dims`
//! values, a linear classifier per layer trained on the training split's
//! features (computed once and cached in memory) and scored top-1 on the
//! test split; beside it the k-NN probe ([`super::knn`]) on the same features.

use burn::module::Module;
use burn::tensor::backend::Backend;
use burn::tensor::module::adaptive_avg_pool2d;

use super::labelled::LabelledSet;
use super::linear::{Accuracy, ClassifierConfig, Examples, fit_and_score};
use crate::model::Backbone;
use crate::real::to_tensor;
use crate::train::normalise;

/// Probe settings.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct ProbeConfig {
    /// Layers to probe, by name.
    pub layers: Vec<String>,
    /// Values per pooled feature vector, about (9,216 in Goyal et al.).
    pub dims: usize,
    /// Backbone input size, pixels.
    pub size: usize,
    /// Images per backbone pass.
    pub batch: usize,
    /// The linear classifier's schedule.
    pub classifier: ClassifierConfig,
}

/// One layer's probe result.
#[derive(Clone, Debug, serde::Serialize)]
pub struct LayerScore {
    /// The layer.
    pub layer: String,
    /// Channels × pooled grid.
    pub channels: usize,
    /// Side of the pooled grid.
    pub grid: usize,
    /// Feature dimensions (`channels · grid²`).
    pub dims: usize,
    /// Top-1 accuracies.
    pub top1: Accuracy,
    /// Top-1 on the test split of the k-NN probe (cosine, k = 20) on the same features.
    pub knn_top1: f64,
}

/// Side of the pooled grid for `channels` channels on a `side`-pixel map:
/// the square grid whose `channels · grid²` is closest to `dims`.
pub fn grid_for(channels: usize, side: usize, dims: usize) -> usize {
    let g = (dims as f64 / channels.max(1) as f64).sqrt().round() as usize;
    g.clamp(1, side.max(1))
}

/// Pooled features of every layer in `layers` for the images `items` of
/// `set`, with the labels kept; undecodable images are skipped (warned and
/// counted in the last value). `progress(done, total)` after each batch.
pub fn features<B: Backend>(
    backbone: &Backbone<B>,
    set: &LabelledSet,
    items: &[(usize, u32)],
    config: &ProbeConfig,
    device: &B::Device,
    progress: &mut dyn FnMut(usize, usize),
) -> (Vec<(Examples, usize, usize)>, usize) {
    let mut out: Vec<(Examples, usize, usize)> = config
        .layers
        .iter()
        .map(|_| (Examples::default(), 0, 0))
        .collect();
    let mut skipped = 0;
    for (done, chunk) in items.chunks(config.batch.max(1)).enumerate() {
        let (images, labels, s) = set.inputs::<rand_chacha::ChaCha8Rng>(chunk, config.size, None);
        skipped += s;
        if images.is_empty() {
            continue;
        }
        let f = backbone.forward(normalise(to_tensor::<B>(&images, config.size, device)));
        for (name, (ex, channels, grid)) in config.layers.iter().zip(&mut out) {
            let Some(t) = f.layer(name) else { continue };
            let [n, c, h, w] = t.dims();
            let g = grid_for(c, h.min(w), config.dims);
            let pooled = adaptive_avg_pool2d(t.clone(), [g, g]).reshape([n, c * g * g]);
            ex.features.extend(
                pooled
                    .into_data()
                    .convert::<f32>()
                    .to_vec::<f32>()
                    .unwrap_or_default(),
            );
            ex.labels.extend_from_slice(&labels);
            ex.dims = c * g * g;
            (*channels, *grid) = (c, g);
        }
        progress(((done + 1) * config.batch).min(items.len()), items.len());
    }
    (out, skipped)
}

/// The probe's result on one data set.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ProbeReport {
    /// Per layer, in the order asked.
    pub layers: Vec<LayerScore>,
    /// Classes.
    pub classes: usize,
    /// Training images used.
    pub train_images: usize,
    /// Test images used.
    pub test_images: usize,
    /// Images skipped as undecodable.
    pub skipped: usize,
}

/// Runs the probe of `backbone` (in inference mode) on `set`.
pub fn probe<B: Backend>(
    backbone: &Backbone<B>,
    set: &LabelledSet,
    config: &ProbeConfig,
    device: &B::Device,
    progress: &mut dyn FnMut(&str, usize, usize),
) -> ProbeReport {
    let backbone = backbone.clone().no_grad();
    let (train, s1) = features(&backbone, set, &set.train, config, device, &mut |d, t| {
        progress("train features", d, t)
    });
    let (test, s2) = features(&backbone, set, &set.test, config, device, &mut |d, t| {
        progress("test features", d, t)
    });
    let mut layers = Vec::new();
    for ((name, (tr, channels, grid)), (te, _, _)) in config.layers.iter().zip(train).zip(test) {
        progress(&format!("classifier on {name}"), 0, 1);
        let top1 = fit_and_score(&tr, &te, set.classes.len(), &config.classifier);
        progress(&format!("k-NN on {name}"), 0, 1);
        let knn_top1 = super::knn::knn_top1(&tr, &te, set.classes.len(), super::knn::K);
        layers.push(LayerScore {
            layer: name.clone(),
            channels,
            grid,
            dims: tr.dims,
            top1,
            knn_top1,
        });
    }
    ProbeReport {
        classes: set.classes.len(),
        train_images: set.train.len() - s1,
        test_images: set.test.len() - s2,
        skipped: s1 + s2,
        layers,
    }
}

impl ProbeReport {
    /// A Markdown table: one row per layer.
    pub fn table(&self) -> String {
        let mut s = String::from(
            "| layer | features | train top-1 | test top-1 | k-NN top-1 (k = 20) |\n|---|---|---|---|---|\n",
        );
        for l in &self.layers {
            s += &format!(
                "| {} | {} ({}×{}²) | {:.1} % | {:.1} % | {:.1} % |\n",
                l.layer,
                l.dims,
                l.channels,
                l.grid,
                100.0 * l.top1.train,
                100.0 * l.top1.test,
                100.0 * l.knn_top1
            );
        }
        s
    }
}
