//! Real, unlabelled images: the other side of domain adaptation (and of the
//! domain-gap measurement). A source is a folder searched recursively for
//! PNG and JPEG files (grey or colour, any size), or an IDX image file of the
//! MNIST family (gzip or not); several sources are mixed, each drawn equally
//! often. Images are scaled so the shorter side is the training size, then
//! cropped square (randomly, with a random flip, for training; centred for
//! the held-out set).
//!
//! Every 20th image of a source of at least 20 is held out for the domain-gap
//! measurement and never trained on. A file that cannot be decoded is skipped
//! with a warning and counted; a source without images is an error.

pub mod decode;
pub mod idx;

use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};
use crossbeam_channel::Receiver;
use image::RgbImage;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// One image of every `HELD_OUT_EVERY` is held out.
pub const HELD_OUT_EVERY: usize = 20;
/// Deepest folder level searched.
const MAX_DEPTH: usize = 32;

/// Why real images cannot be used; names the path.
#[derive(Debug, thiserror::Error)]
pub enum RealError {
    /// The path does not exist.
    #[error("{0}: no such file or folder")]
    Missing(PathBuf),
    /// A folder without a single PNG or JPEG file.
    #[error("{path}: no PNG or JPEG image in this folder or below{hint}")]
    NoImages {
        /// The folder.
        path: PathBuf,
        /// A hint (IDX files seen, which must be named one by one).
        hint: String,
    },
    /// A file that is neither an image nor an IDX image file.
    #[error("{path}: {message}")]
    Unusable {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// Every image left to draw failed to decode.
    #[error("every real image failed to decode ({skipped} skipped); nothing left to train on")]
    Exhausted {
        /// Files skipped.
        skipped: u64,
    },
}

/// Where a source's images come from.
enum Source {
    /// Image files, sorted by path.
    Files { root: PathBuf, files: Vec<PathBuf> },
    /// An IDX array `[count, rows, cols]`.
    Idx {
        path: PathBuf,
        rows: usize,
        cols: usize,
        pixels: Vec<u8>,
    },
}

impl Source {
    fn len(&self) -> usize {
        match self {
            Source::Files { files, .. } => files.len(),
            Source::Idx {
                rows, cols, pixels, ..
            } => pixels.len() / (rows * cols).max(1),
        }
    }

    fn describe(&self) -> String {
        match self {
            Source::Files { root, files } => {
                format!("{}: {} image files", root.display(), files.len())
            }
            Source::Idx {
                path, rows, cols, ..
            } => format!(
                "{}: {} IDX images {rows}x{cols}",
                path.display(),
                self.len()
            ),
        }
    }

    /// Image `i`, or why it cannot be read (naming the file).
    fn load(&self, i: usize) -> Result<RgbImage, String> {
        match self {
            Source::Files { files, .. } => decode::read_file(&files[i]),
            Source::Idx {
                path,
                rows,
                cols,
                pixels,
            } => {
                let n = rows * cols;
                decode::grey(*rows, *cols, &pixels[i * n..(i + 1) * n])
                    .ok_or_else(|| format!("{} image {i}: bad size", path.display()))
            }
        }
    }

    /// How many images are held out.
    fn held_out_count(&self) -> usize {
        if self.len() >= HELD_OUT_EVERY {
            self.len() / HELD_OUT_EVERY
        } else {
            0
        }
    }

    /// Is image `i` held out?
    fn held_out(&self, i: usize) -> bool {
        self.len() >= HELD_OUT_EVERY && i % HELD_OUT_EVERY == HELD_OUT_EVERY - 1
    }
}

/// Real image sources, opened and checked.
pub struct RealImages {
    sources: Vec<Source>,
    size: usize,
}

fn is_image_name(p: &Path) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| matches!(e.to_ascii_lowercase().as_str(), "png" | "jpg" | "jpeg"))
}

/// Image files under `dir` (recursively, following links, sorted), and the
/// names of IDX-looking files seen on the way.
fn walk(dir: &Path, depth: usize, files: &mut Vec<PathBuf>, idx_seen: &mut Vec<String>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            tracing::warn!("skipping folder {}: {e}", dir.display());
            return;
        }
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            if depth < MAX_DEPTH {
                walk(&p, depth + 1, files, idx_seen);
            }
        } else if is_image_name(&p) {
            files.push(p);
        } else if p
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.contains("idx"))
        {
            idx_seen.push(p.display().to_string());
        }
    }
}

/// PNG and JPEG files under `dir`, recursively, sorted.
pub fn image_files(dir: &Path, files: &mut Vec<PathBuf>) {
    walk(dir, 0, files, &mut Vec::new());
}

/// Opens one `--real` path.
fn open_source(path: &Path) -> Result<Source, RealError> {
    if !path.exists() {
        return Err(RealError::Missing(path.to_path_buf()));
    }
    if path.is_dir() {
        let (mut files, mut idx_seen) = (Vec::new(), Vec::new());
        walk(path, 0, &mut files, &mut idx_seen);
        if files.is_empty() {
            let hint = if idx_seen.is_empty() {
                String::new()
            } else {
                format!(
                    " (IDX files are sources of their own: name them one by one, e.g. --real {})",
                    idx_seen[0]
                )
            };
            return Err(RealError::NoImages {
                path: path.to_path_buf(),
                hint,
            });
        }
        return Ok(Source::Files {
            root: path.to_path_buf(),
            files,
        });
    }
    let unusable = |message: String| RealError::Unusable {
        path: path.to_path_buf(),
        message,
    };
    let bytes = idx::read_maybe_gzip(path).map_err(|e| unusable(e.to_string()))?;
    if idx::looks_like_idx(&bytes) {
        let a = idx::parse(&bytes).map_err(|e| unusable(e.to_string()))?;
        let [count, rows, cols] = a.dims[..] else {
            return Err(unusable(format!(
                "an IDX array of dimensions {:?}; images need three (count, rows, cols)",
                a.dims
            )));
        };
        if count == 0 || rows == 0 || cols == 0 {
            return Err(unusable(format!(
                "an IDX file without images ({count}x{rows}x{cols})"
            )));
        }
        return Ok(Source::Idx {
            path: path.to_path_buf(),
            rows,
            cols,
            pixels: a.data,
        });
    }
    decode::decode(&bytes)
        .map_err(|e| unusable(format!("not an IDX file, and as an image: {e}")))?;
    Ok(Source::Files {
        root: path.to_path_buf(),
        files: vec![path.to_path_buf()],
    })
}

impl RealImages {
    /// Opens every path (folder, image file or IDX file) for images of `size × size`.
    pub fn open(paths: &[PathBuf], size: usize) -> Result<Self, RealError> {
        let sources = paths
            .iter()
            .map(|p| open_source(p))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(RealImages { sources, size })
    }

    /// One line per source: path, count, kind.
    pub fn describe(&self) -> Vec<String> {
        self.sources.iter().map(Source::describe).collect()
    }

    /// Images over all sources.
    pub fn len(&self) -> usize {
        self.sources.iter().map(Source::len).sum()
    }

    /// True without sources.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Up to `count` held-out images, centre-cropped, `[3, size, size]` each,
    /// taken from the sources in turn; undecodable files are skipped (and
    /// counted in the second value).
    pub fn held_out(&self, count: usize) -> (Vec<Vec<f32>>, u64) {
        let mut lists: Vec<_> = self
            .sources
            .iter()
            .map(|s| (0..s.len()).filter(move |i| s.held_out(*i)).peekable())
            .collect();
        let (mut out, mut skipped) = (Vec::new(), 0);
        while out.len() < count && lists.iter_mut().any(|l| l.peek().is_some()) {
            for (s, list) in self.sources.iter().zip(&mut lists) {
                let Some(i) = list.next() else { continue };
                if out.len() == count {
                    break;
                }
                match s.load(i) {
                    Ok(img) => out.push(decode::centred(&img, self.size)),
                    Err(e) => {
                        tracing::warn!("skipping real image {e}");
                        skipped += 1;
                    }
                }
            }
        }
        (out, skipped)
    }

    /// Endless random training batches of `batch` images, prepared on a
    /// worker thread `prefetch` batches ahead.
    pub fn stream(self: Arc<Self>, batch: usize, seed: u64, prefetch: usize) -> RealBatches {
        let (tx, rx) = crossbeam_channel::bounded(prefetch.max(1));
        let skipped = Arc::new(AtomicU64::new(0));
        let counter = skipped.clone();
        std::thread::spawn(move || {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let mut bad: Vec<HashSet<usize>> = vec![HashSet::new(); self.sources.len()];
            loop {
                let mut images = Vec::with_capacity(batch);
                while images.len() < batch.max(1) {
                    match self.draw(&mut rng, &mut bad, &counter) {
                        Some(img) => images.push(img),
                        None => {
                            let skipped = counter.load(Ordering::Relaxed);
                            let _ = tx.send(Err(RealError::Exhausted { skipped }));
                            return;
                        }
                    }
                }
                if tx.send(Ok(images)).is_err() {
                    return;
                }
            }
        });
        RealBatches { rx, skipped }
    }

    /// One random training image; `None` once every source is used up by bad files.
    fn draw(
        &self,
        rng: &mut ChaCha8Rng,
        bad: &mut [HashSet<usize>],
        skipped: &AtomicU64,
    ) -> Option<Vec<f32>> {
        loop {
            let live: Vec<usize> = (0..self.sources.len())
                .filter(|&s| {
                    let src = &self.sources[s];
                    src.len() - src.held_out_count() > bad[s].len()
                })
                .collect();
            let &s = live.get(rng.random_range(0..live.len().max(1)))?;
            let src = &self.sources[s];
            let i = rng.random_range(0..src.len());
            if src.held_out(i) || bad[s].contains(&i) {
                continue;
            }
            match src.load(i) {
                Ok(img) => return Some(decode::fit(&img, self.size, Some(rng))),
                Err(e) => {
                    tracing::warn!("skipping real image {e}");
                    skipped.fetch_add(1, Ordering::Relaxed);
                    bad[s].insert(i);
                }
            }
        }
    }
}

/// Training batches of real images from [`RealImages::stream`].
pub struct RealBatches {
    rx: Receiver<Result<Vec<Vec<f32>>, RealError>>,
    skipped: Arc<AtomicU64>,
}

impl RealBatches {
    /// The next batch (waits for the worker).
    pub fn next_batch(&self) -> Result<Vec<Vec<f32>>, RealError> {
        self.rx.recv().unwrap_or_else(|_| {
            Err(RealError::Exhausted {
                skipped: self.skipped(),
            })
        })
    }

    /// Files skipped as undecodable so far.
    pub fn skipped(&self) -> u64 {
        self.skipped.load(Ordering::Relaxed)
    }
}

/// Images `[3, size, size]` (values in `[0, 1]`) as one `[N, 3, size, size]` tensor.
pub fn to_tensor<B: Backend>(images: &[Vec<f32>], size: usize, device: &B::Device) -> Tensor<B, 4> {
    let data: Vec<f32> = images.iter().flatten().copied().collect();
    Tensor::from_data(TensorData::new(data, [images.len(), 3, size, size]), device)
}
