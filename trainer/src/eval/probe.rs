//! The linear probe (Goyal et al., ICCV 2019): the backbone frozen, each
//! chosen layer's activations average-pooled to a grid of about `dims`
//! values, a linear classifier per layer trained on the training split's
//! features (computed once and held in memory) and scored top-1 on the test
//! split; beside it the k-NN probe ([`super::knn`]) on the same features.
//! Test features are scored as they are computed, a chunk at a time, so a
//! large test split (Fashion-MNIST's 10,000) costs no memory.

use burn::module::Module;
use burn::tensor::backend::Backend;
use burn::tensor::module::adaptive_avg_pool2d;

use super::knn::KnnIndex;
use super::labelled::LabelledSet;
use super::linear::{Accuracy, ClassifierConfig, Examples, fit};
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
    /// Which batch-norm statistics the frozen backbone normalises with.
    #[serde(default)]
    pub norm_stats: NormStats,
}

/// Batch-norm statistics of the frozen backbone in a probe.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NormStats {
    /// The running statistics of pretraining (of the synthetic frames).
    #[default]
    Trained,
    /// Re-estimated on the probe's training images before any feature is
    /// taken (AdaBN; no labels are used): the same for every backbone,
    /// random init included.
    Target,
}

impl std::fmt::Display for NormStats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            NormStats::Trained => "trained",
            NormStats::Target => "target",
        })
    }
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

/// Test images whose features are computed and scored at once.
const TEST_CHUNK: usize = 512;

/// The training features do not fit in memory.
#[derive(Debug, thiserror::Error)]
#[error(
    "the probe's training features need about {needed_gib:.1} GiB ({images} images × about \
     {dims} values × {layers} layers, 4 bytes each, and a copy of the largest layer) and \
     {available_gib:.1} GiB of memory is available: lower --limit-per-class, --dims or --layers"
)]
pub struct ProbeError {
    /// Estimated need, GiB.
    pub needed_gib: f64,
    /// Available memory, GiB.
    pub available_gib: f64,
    /// Training images.
    pub images: usize,
    /// Values per feature vector, about.
    pub dims: usize,
    /// Layers probed.
    pub layers: usize,
}

/// Checks that `images` training feature vectors of about `dims` values per
/// layer fit in `available` bytes (all layers, plus two working copies of one).
pub fn check_memory(
    images: usize,
    dims: usize,
    layers: usize,
    available: u64,
) -> Result<(), ProbeError> {
    // A layer's pooled grid rounds to about dims; allow a quarter more.
    let per_layer = images as f64 * dims as f64 * 1.25 * 4.0;
    let needed = per_layer * (layers as f64 + 2.0);
    if needed <= available as f64 {
        return Ok(());
    }
    let gib = |b: f64| b / (1u64 << 30) as f64;
    Err(ProbeError {
        needed_gib: gib(needed),
        available_gib: gib(available as f64),
        images,
        dims,
        layers,
    })
}

/// Memory the system can still give, bytes (`MemAvailable` of
/// `/proc/meminfo`); `None` where it cannot be read.
pub fn available_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Runs the probe of `backbone` (in inference mode) on `set`; refuses, before
/// any work, training features that would not fit in the available memory.
pub fn probe<B: Backend>(
    backbone: &Backbone<B>,
    set: &LabelledSet,
    config: &ProbeConfig,
    device: &B::Device,
    progress: &mut dyn FnMut(&str, usize, usize),
) -> Result<ProbeReport, ProbeError> {
    if let Some(available) = available_memory() {
        check_memory(set.train.len(), config.dims, config.layers.len(), available)?;
    }
    let mut backbone = backbone.clone().no_grad();
    if config.norm_stats == NormStats::Target {
        progress("batch-norm statistics of the training images", 0, 1);
        let size = config.size;
        let batches = set.train.chunks(config.batch.max(1)).filter_map(|chunk| {
            let (images, _, _) = set.inputs::<rand_chacha::ChaCha8Rng>(chunk, size, None);
            (images.len() > 1).then(|| normalise(to_tensor::<B>(&images, size, device)))
        });
        backbone = backbone.recalibrate_norms(batches);
    }
    let (train, s1) = features(&backbone, set, &set.train, config, device, &mut |d, t| {
        progress("train features", d, t)
    });
    let classes = set.classes.len();
    let mut fitted = Vec::new();
    for (name, (tr, channels, grid)) in config.layers.iter().zip(train) {
        progress(&format!("classifier on {name}"), 0, 1);
        let linear = fit(&tr, classes, &config.classifier);
        let dims = tr.dims;
        let knn = KnnIndex::new(&tr, classes);
        drop(tr);
        fitted.push((name, linear, knn, channels, grid, dims));
    }
    let mut right = vec![(0usize, 0usize); fitted.len()];
    let (mut tested, mut s2) = (0usize, 0usize);
    let total = set.test.len();
    for chunk in set.test.chunks(TEST_CHUNK) {
        let (test, s) = features(&backbone, set, chunk, config, device, &mut |_, _| {});
        s2 += s;
        tested += chunk.len() - s;
        for (r, ((_, linear, knn, ..), (te, _, _))) in
            right.iter_mut().zip(fitted.iter().zip(&test))
        {
            r.0 += linear.correct(te);
            r.1 += knn.correct(te, super::knn::K);
        }
        progress("test features, scored", (tested + s2).min(total), total);
    }
    let share = |n: usize| n as f64 / tested.max(1) as f64;
    let layers = fitted
        .into_iter()
        .zip(right)
        .map(
            |((name, linear, _, channels, grid, dims), (lin, knn))| LayerScore {
                layer: name.clone(),
                channels,
                grid,
                dims,
                top1: Accuracy {
                    train: linear.train_top1,
                    test: share(lin),
                },
                knn_top1: share(knn),
            },
        )
        .collect();
    Ok(ProbeReport {
        classes,
        train_images: set.train.len() - s1,
        test_images: tested,
        skipped: s1 + s2,
        layers,
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn features_that_do_not_fit_are_refused_naming_the_options() {
        // 2,000 images × 9,216 values × 5 layers: about 0.6 GiB.
        assert!(check_memory(2000, 9216, 5, 8 << 30).is_ok());
        let e = check_memory(2000, 9216, 5, 256 << 20).unwrap_err();
        assert!(e.needed_gib > 0.5 && e.needed_gib < 0.7, "{e}");
        let text = e.to_string();
        assert!(
            text.contains("2000 images") && text.contains("--limit-per-class"),
            "{text}"
        );
    }
}
