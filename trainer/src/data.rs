//! Training data from dataset shards: shuffled across and within shards,
//! augmented and batched on a worker thread with bounded memory, with a
//! validation split held out by scene seed.

use crossbeam_channel::Receiver;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::path::{Path, PathBuf};

use crate::augment::{crop, grey, hflip};
use engine::Sample;
use engine::dataset::{DatasetError, DatasetReader};

/// Errors of the data pipeline.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The dataset cannot be opened.
    #[error(transparent)]
    Dataset(#[from] DatasetError),
    /// Nothing usable is left.
    #[error("no usable training sample in {dir} ({skipped} shards skipped as damaged)")]
    NoSamples {
        /// The dataset folder.
        dir: PathBuf,
        /// Shards skipped.
        skipped: usize,
    },
    /// The sample source (e.g. the renderer) failed.
    #[error("sample source failed: {0}")]
    Source(String),
    /// The crop does not fit the images.
    #[error("crop {crop} does not fit sample {key} ({width}x{height})")]
    Crop {
        /// Requested crop.
        crop: usize,
        /// The sample.
        key: String,
        /// Its width.
        width: u32,
        /// Its height.
        height: u32,
    },
}

/// Data-pipeline options.
#[derive(Clone, Debug)]
pub struct DataOptions {
    /// Samples per batch.
    pub batch: usize,
    /// Square random crop side (0: no crop).
    pub crop: usize,
    /// Random horizontal flips.
    pub flip: bool,
    /// Probability of the "grey" augmentation.
    pub grey_probability: f32,
    /// Samples held in the shuffle buffer.
    pub shuffle_buffer: usize,
    /// Seed of the shuffling and augmentation.
    pub seed: u64,
    /// Put a second view of the same scene (from the shuffle buffer, when it
    /// holds one) right after each sample drawn, for tasks that compare views.
    pub pair_views: bool,
    /// Percentage of scenes held out for validation.
    pub validation_percent: u64,
    /// Batches prepared ahead.
    pub prefetch: usize,
    /// Whole batches' worth of samples to prepare and drop first: restores the
    /// data position of a resumed run (the shuffling and augmentation draws
    /// replay exactly, so the next batch is the one the run would have seen).
    pub skip_samples: u64,
}

type BatchSender = crossbeam_channel::Sender<Result<Vec<Sample>, DataError>>;

/// Collects augmented samples into batches and sends them, dropping the
/// first `skip` samples' worth of batches.
struct Batcher {
    batch: Vec<Sample>,
    size: usize,
    to_skip: u64,
    tx: BatchSender,
}

impl Batcher {
    fn new(opts: &DataOptions, tx: BatchSender) -> Self {
        Batcher {
            batch: Vec::with_capacity(opts.batch.max(1)),
            size: opts.batch.max(1),
            to_skip: opts.skip_samples,
            tx,
        }
    }

    /// Adds a sample; false once nobody listens any more.
    fn push(&mut self, sample: Sample) -> bool {
        self.batch.push(sample);
        if self.batch.len() < self.size {
            return true;
        }
        let full = std::mem::replace(&mut self.batch, Vec::with_capacity(self.size));
        if self.to_skip >= full.len() as u64 {
            self.to_skip -= full.len() as u64;
            return true;
        }
        self.tx.send(Ok(full)).is_ok()
    }

    /// Sends an error (the pipeline ends after it).
    fn fail(&self, e: DataError) {
        let _ = self.tx.send(Err(e));
    }
}

/// Train or validation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Split {
    /// Used for training.
    Train,
    /// Held out, never trained on.
    Validation,
}

/// The split of a scene, decided by its seed alone.
pub fn split_of(scene_seed: u64, validation_percent: u64) -> Split {
    let mut z = scene_seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    if z % 100 < validation_percent {
        Split::Validation
    } else {
        Split::Train
    }
}

/// Applies the configured random crop, flip and grey to one sample.
pub fn augment(s: Sample, opts: &DataOptions, rng: &mut ChaCha8Rng) -> Result<Sample, DataError> {
    let mut s = s;
    if opts.crop > 0 {
        let (w, h) = (s.meta.width as usize, s.meta.height as usize);
        if opts.crop > w || opts.crop > h {
            return Err(DataError::Crop {
                crop: opts.crop,
                key: s.meta.key.clone(),
                width: s.meta.width,
                height: s.meta.height,
            });
        }
        let x0 = rng.random_range(0..=w - opts.crop);
        let y0 = rng.random_range(0..=h - opts.crop);
        s = crop(&s, x0, y0, opts.crop).unwrap_or(s);
    }
    if opts.flip && rng.random::<bool>() {
        s = hflip(&s);
    }
    if rng.random::<f32>() < opts.grey_probability {
        s = grey(&s, rng.random_range(0..3));
    }
    Ok(s)
}

/// Batches of augmented samples from any sample source (e.g. the live renderer),
/// built on a worker thread; ends when the source ends or fails.
pub fn batches_from<I, E>(source: I, opts: DataOptions) -> ShardBatches
where
    I: Iterator<Item = Result<Sample, E>> + Send + 'static,
    E: std::fmt::Display,
{
    let (tx, rx) = crossbeam_channel::bounded(opts.prefetch.max(1));
    std::thread::spawn(move || {
        let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
        let mut out = Batcher::new(&opts, tx);
        for item in source {
            let sample = match item {
                Ok(s) => s,
                Err(e) => return out.fail(DataError::Source(e.to_string())),
            };
            match augment(sample, &opts, &mut rng) {
                Ok(a) => {
                    if !out.push(a) {
                        return;
                    }
                }
                Err(e) => return out.fail(e),
            }
        }
    });
    ShardBatches { rx }
}

/// Endless training batches from a dataset folder, prepared on a worker thread.
pub struct ShardBatches {
    rx: Receiver<Result<Vec<Sample>, DataError>>,
}

impl Iterator for ShardBatches {
    type Item = Result<Vec<Sample>, DataError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.rx.recv().ok()
    }
}

/// Opens `dir` and starts producing training batches, epoch after epoch.
///
/// A damaged shard is read up to the damage and skipped from there, with a
/// warning naming it the first time only (not once per epoch); if a whole
/// epoch yields no training sample, the iterator returns an error and ends.
pub fn train_batches(dir: &Path, opts: DataOptions) -> Result<ShardBatches, DataError> {
    let reader = DatasetReader::open(dir)?;
    let shards = reader.shard_paths().len();
    let (tx, rx) = crossbeam_channel::bounded(opts.prefetch.max(1));
    let dir = dir.to_path_buf();
    std::thread::spawn(move || {
        let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
        let mut buffer: Vec<Sample> = Vec::with_capacity(opts.shuffle_buffer + 1);
        let mut out = Batcher::new(&opts, tx);
        let mut warned = vec![false; shards];
        loop {
            let mut order: Vec<usize> = (0..shards).collect();
            order.shuffle(&mut rng);
            let (mut used, mut skipped) = (0usize, 0usize);
            for i in order {
                let mut stop = false;
                reader.read_shard(i, &mut |r| match r {
                    Ok(s)
                        if split_of(s.meta.scene_seed, opts.validation_percent) == Split::Train =>
                    {
                        used += 1;
                        buffer.push(s);
                        if buffer.len() > opts.shuffle_buffer {
                            let k = rng.random_range(0..buffer.len());
                            let picked = buffer.swap_remove(k);
                            let scene = picked.meta.scene_seed;
                            let mut drawn = vec![picked];
                            if opts.pair_views
                                && let Some(j) =
                                    buffer.iter().position(|s| s.meta.scene_seed == scene)
                            {
                                drawn.push(buffer.swap_remove(j));
                            }
                            for picked in drawn {
                                match augment(picked, &opts, &mut rng) {
                                    Ok(a) => {
                                        if !out.push(a) {
                                            stop = true;
                                            return false;
                                        }
                                    }
                                    Err(e) => {
                                        out.fail(e);
                                        stop = true;
                                        return false;
                                    }
                                }
                            }
                        }
                        true
                    }
                    Ok(_) => true,
                    Err(e) => {
                        if !std::mem::replace(&mut warned[i], true) {
                            tracing::warn!(
                                "skipping the rest of a damaged shard (in every epoch; said once): {e}"
                            );
                        }
                        skipped += 1;
                        true
                    }
                });
                if stop {
                    return;
                }
            }
            if used == 0 {
                return out.fail(DataError::NoSamples {
                    dir: dir.clone(),
                    skipped,
                });
            }
        }
    });
    Ok(ShardBatches { rx })
}

/// Up to `max` held-out validation samples of `dir`, in dataset order, unaugmented
/// (centre-cropped to `crop` when it is non-zero).
pub fn validation_samples(
    dir: &Path,
    validation_percent: u64,
    crop_size: usize,
    max: usize,
) -> Result<Vec<Sample>, DataError> {
    let reader = DatasetReader::open(dir)?;
    let mut out = Vec::new();
    for i in 0..reader.shard_paths().len() {
        reader.read_shard(i, &mut |r| {
            if let Ok(s) = r
                && split_of(s.meta.scene_seed, validation_percent) == Split::Validation
            {
                let (w, h) = (s.meta.width as usize, s.meta.height as usize);
                let s = if crop_size > 0 && crop_size <= w && crop_size <= h {
                    crop(&s, (w - crop_size) / 2, (h - crop_size) / 2, crop_size).unwrap_or(s)
                } else {
                    s
                };
                out.push(s);
            }
            out.len() < max
        });
        if out.len() >= max {
            break;
        }
    }
    Ok(out)
}

/// A training batch as the loop receives it, before it becomes tensors.
pub enum HostBatch {
    /// Rendered frames with labels.
    Samples(Vec<Sample>),
    /// Unlabelled images, `[3, size, size]` each with values in `[0, 1]`.
    Images(Vec<Vec<f32>>),
}

/// Endless training batches of either kind.
pub type TrainBatches = Box<dyn Iterator<Item = Result<HostBatch, DataError>>>;

impl ShardBatches {
    /// As [`TrainBatches`].
    pub fn boxed(self) -> TrainBatches {
        Box::new(self.map(|b| b.map(HostBatch::Samples)))
    }
}

impl HostBatch {
    /// Images in the batch.
    pub fn len(&self) -> usize {
        match self {
            HostBatch::Samples(s) => s.len(),
            HostBatch::Images(i) => i.len(),
        }
    }

    /// True for an empty batch.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The batch as tensors; labels at 1/`label_scale` of `size`-pixel images.
    pub fn to_batch<B: burn::tensor::backend::Backend>(
        &self,
        size: usize,
        label_scale: usize,
        device: &B::Device,
    ) -> Result<crate::batch::Batch<B>, crate::batch::BatchError> {
        Ok(match self {
            HostBatch::Samples(s) => {
                crate::batch::SyntheticBatch::from_samples(s, label_scale, device)?.into()
            }
            HostBatch::Images(i) => {
                crate::batch::Batch::Images(crate::real::to_tensor::<B>(i, size, device))
            }
        })
    }
}
