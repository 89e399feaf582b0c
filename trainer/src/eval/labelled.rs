//! Real labelled image sets for evaluation, in the formats users have:
//! ImageFolder (one sub-folder per class, as torchvision; `train/` and `test/`
//! above the classes when the set has a split), IDX (the MNIST family:
//! `train-images-idx3-ubyte` with `train-labels-idx1-ubyte`, and `t10k-*` for
//! the test split, gzip or not) and the CIFAR-10 binary format
//! (`data_batch_*.bin`, `test_batch.bin`). The train/test split is the data
//! set's own where it has one, else a deterministic stratified split by seed.

use image::RgbImage;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use std::path::{Path, PathBuf};

use crate::real::{decode, idx};

/// Which on-disk format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// `ROOT/<class>/…/*.png|jpg` (or `ROOT/train/<class>`, `ROOT/test/<class>`).
    ImageFolder,
    /// MNIST-family IDX files.
    Idx,
    /// CIFAR-10 binary batches.
    Cifar,
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Format::ImageFolder => "imagefolder",
            Format::Idx => "idx",
            Format::Cifar => "cifar",
        })
    }
}

/// Why a labelled set cannot be used; names the path.
#[derive(Debug, thiserror::Error)]
pub enum LabelledError {
    /// The path does not exist.
    #[error("{0}: no such folder")]
    Missing(PathBuf),
    /// The files are not in the named format.
    #[error("{path}: not a data set in the {format} format ({message})")]
    Format {
        /// The folder.
        path: PathBuf,
        /// The format asked for.
        format: Format,
        /// What is missing or wrong.
        message: String,
    },
    /// A class without images, or fewer than two classes.
    #[error("{path}: {message}")]
    Classes {
        /// The folder.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A file cannot be read.
    #[error("{path}: {message}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },
}

/// Where the pixels live.
enum Store {
    /// One file per image.
    Files(Vec<PathBuf>),
    /// Grey images `rows × cols`, concatenated.
    Grey {
        rows: usize,
        cols: usize,
        pixels: Vec<u8>,
    },
    /// CIFAR records: 32×32, planar R, G, B.
    Planar { pixels: Vec<u8> },
}

/// `(image index, label)` pairs of one split.
pub type Items = Vec<(usize, u32)>;

/// One IDX split: rows, cols, the images' pixels, their labels.
type IdxSplit = (usize, usize, Vec<u8>, Vec<u8>);

/// A labelled image set with its split.
pub struct LabelledSet {
    /// Class names, index = label.
    pub classes: Vec<String>,
    /// Training split: `(image index, label)`.
    pub train: Vec<(usize, u32)>,
    /// Test split: `(image index, label)`.
    pub test: Vec<(usize, u32)>,
    /// True when the split is the data set's own.
    pub own_split: bool,
    /// The format read.
    pub format: Format,
    store: Store,
}

/// Options of [`open`].
#[derive(Clone, Debug)]
pub struct LoadOptions {
    /// The format; `None` detects it from the files.
    pub format: Option<Format>,
    /// Keep at most this many images per class in each split.
    pub limit_per_class: Option<usize>,
    /// Keep at most this many images per class in the test split (instead of
    /// `limit_per_class`).
    pub test_limit_per_class: Option<usize>,
    /// Seed of the stratified split (sets without their own).
    pub seed: u64,
    /// Fraction of each class held out as test (sets without their own split).
    pub test_fraction: f64,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            format: None,
            limit_per_class: None,
            test_limit_per_class: None,
            seed: 0,
            test_fraction: 0.2,
        }
    }
}

impl LabelledSet {
    /// Image `i` as RGB (grey images replicated to three channels).
    pub fn image(&self, i: usize) -> Result<RgbImage, String> {
        match &self.store {
            Store::Files(files) => decode::read_file(&files[i]),
            Store::Grey { rows, cols, pixels } => {
                let n = rows * cols;
                decode::grey(*rows, *cols, &pixels[i * n..(i + 1) * n])
                    .ok_or_else(|| format!("IDX image {i}: bad size"))
            }
            Store::Planar { pixels } => {
                let rec = &pixels[i * 3072..(i + 1) * 3072];
                Ok(RgbImage::from_fn(32, 32, |x, y| {
                    let p = (y * 32 + x) as usize;
                    image::Rgb([rec[p], rec[1024 + p], rec[2048 + p]])
                }))
            }
        }
    }

    /// The images `items` as network inputs `[3, size, size]` (a random
    /// crop and flip with `rng`, centred without) with their labels;
    /// undecodable images are skipped with a warning and counted.
    pub fn inputs<R: rand::Rng>(
        &self,
        items: &[(usize, u32)],
        size: usize,
        mut rng: Option<&mut R>,
    ) -> (Vec<Vec<f32>>, Vec<u32>, usize) {
        let (mut images, mut labels, mut skipped) = (Vec::new(), Vec::new(), 0);
        for (i, label) in items {
            match self.image(*i) {
                Ok(img) => {
                    images.push(decode::fit(&img, size, rng.as_deref_mut()));
                    labels.push(*label);
                }
                Err(e) => {
                    tracing::warn!("skipping image {e}");
                    skipped += 1;
                }
            }
        }
        (images, labels, skipped)
    }

    /// One line: format, classes, split sizes.
    pub fn describe(&self) -> String {
        format!(
            "{} set, {} classes, {} train / {} test ({})",
            self.format,
            self.classes.len(),
            self.train.len(),
            self.test.len(),
            if self.own_split {
                "its own split"
            } else {
                "stratified split by seed"
            }
        )
    }
}

/// Detects the format of the folder `root`.
fn detect(root: &Path) -> Format {
    let has = |name: &str| root.join(name).exists() || root.join(format!("{name}.gz")).exists();
    if has("train-images-idx3-ubyte") || has("t10k-images-idx3-ubyte") {
        Format::Idx
    } else if root.join("data_batch_1.bin").exists() || root.join("test_batch.bin").exists() {
        Format::Cifar
    } else {
        Format::ImageFolder
    }
}

/// Opens the labelled set at `root`.
pub fn open(root: &Path, options: &LoadOptions) -> Result<LabelledSet, LabelledError> {
    if !root.is_dir() {
        return Err(LabelledError::Missing(root.to_path_buf()));
    }
    let format = options.format.unwrap_or_else(|| detect(root));
    let mut set = match format {
        Format::Idx => open_idx(root)?,
        Format::Cifar => open_cifar(root)?,
        Format::ImageFolder => open_folder(root, options)?,
    };
    let test_limit = options.test_limit_per_class.or(options.limit_per_class);
    for (split, limit) in [
        (&mut set.train, options.limit_per_class),
        (&mut set.test, test_limit),
    ] {
        if let Some(limit) = limit {
            let mut seen = vec![0usize; set.classes.len()];
            split.retain(|(_, c)| {
                let n = &mut seen[*c as usize];
                *n += 1;
                *n <= limit
            });
        }
    }
    for (split, items) in [("training", &set.train), ("test", &set.test)] {
        if items.is_empty() {
            return Err(LabelledError::Classes {
                path: root.to_path_buf(),
                message: format!("no {split} image left (too few images, or --limit-per-class 0)"),
            });
        }
    }
    Ok(set)
}

fn format_err(root: &Path, format: Format, message: String) -> LabelledError {
    LabelledError::Format {
        path: root.to_path_buf(),
        format,
        message,
    }
}

/// Checks that every class has a training image and that there are two classes.
fn check_classes(
    root: &Path,
    classes: &[String],
    train: &[(usize, u32)],
) -> Result<(), LabelledError> {
    if classes.len() < 2 {
        return Err(LabelledError::Classes {
            path: root.to_path_buf(),
            message: format!(
                "{} class(es); a classifier needs at least two",
                classes.len()
            ),
        });
    }
    let mut count = vec![0usize; classes.len()];
    for (_, c) in train {
        count[*c as usize] += 1;
    }
    if let Some(empty) = count.iter().position(|n| *n == 0) {
        return Err(LabelledError::Classes {
            path: root.to_path_buf(),
            message: format!("class `{}` has no training image", classes[empty]),
        });
    }
    Ok(())
}

/// The images and labels of one IDX split (`train` or `t10k`).
fn idx_split(root: &Path, prefix: &str) -> Result<Option<IdxSplit>, LabelledError> {
    let find = |kind: &str| {
        let name = format!("{prefix}-{kind}");
        [root.join(&name), root.join(format!("{name}.gz"))]
            .into_iter()
            .find(|p| p.is_file())
    };
    let (Some(images), Some(labels)) = (find("images-idx3-ubyte"), find("labels-idx1-ubyte"))
    else {
        return Ok(None);
    };
    let read = |p: &Path| {
        idx::read(p).map_err(|e| LabelledError::Read {
            path: p.to_path_buf(),
            message: e.to_string(),
        })
    };
    let (im, lb) = (read(&images)?, read(&labels)?);
    let [n, rows, cols] = im.dims[..] else {
        return Err(format_err(
            root,
            Format::Idx,
            format!(
                "{}: dimensions {:?}, not [count, rows, cols]",
                images.display(),
                im.dims
            ),
        ));
    };
    if lb.dims != [n] {
        return Err(format_err(
            root,
            Format::Idx,
            format!(
                "{} holds {:?} labels for {n} images",
                labels.display(),
                lb.dims
            ),
        ));
    }
    Ok(Some((rows, cols, im.data, lb.data)))
}

fn open_idx(root: &Path) -> Result<LabelledSet, LabelledError> {
    let train = idx_split(root, "train")?;
    let test = idx_split(root, "t10k")?;
    let (Some((rows, cols, mut pixels, train_labels)), Some((r2, c2, test_pixels, test_labels))) =
        (train, test)
    else {
        return Err(format_err(
            root,
            Format::Idx,
            "needs train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte \
             and t10k-labels-idx1-ubyte (.gz or not)"
                .into(),
        ));
    };
    if (r2, c2) != (rows, cols) {
        return Err(format_err(
            root,
            Format::Idx,
            format!("train images are {rows}x{cols}, test images {r2}x{c2}"),
        ));
    }
    let n_train = train_labels.len();
    pixels.extend_from_slice(&test_pixels);
    let n_classes = train_labels
        .iter()
        .chain(&test_labels)
        .max()
        .map_or(0, |m| *m as usize + 1);
    let classes: Vec<String> = (0..n_classes).map(|c| c.to_string()).collect();
    let train: Vec<(usize, u32)> = train_labels
        .iter()
        .enumerate()
        .map(|(i, l)| (i, u32::from(*l)))
        .collect();
    let test = test_labels
        .iter()
        .enumerate()
        .map(|(i, l)| (n_train + i, u32::from(*l)))
        .collect();
    check_classes(root, &classes, &train)?;
    Ok(LabelledSet {
        classes,
        train,
        test,
        own_split: true,
        format: Format::Idx,
        store: Store::Grey { rows, cols, pixels },
    })
}

fn open_cifar(root: &Path) -> Result<LabelledSet, LabelledError> {
    const RECORD: usize = 1 + 3072;
    let mut pixels = Vec::new();
    let (mut train, mut test) = (Vec::new(), Vec::new());
    let mut files: Vec<(PathBuf, bool)> = (1..=5)
        .map(|i| (root.join(format!("data_batch_{i}.bin")), true))
        .filter(|(p, _)| p.is_file())
        .collect();
    files.push((root.join("test_batch.bin"), false));
    if !files.iter().any(|(_, t)| *t) || !files.iter().any(|(p, t)| !*t && p.is_file()) {
        return Err(format_err(
            root,
            Format::Cifar,
            "needs data_batch_1.bin … and test_batch.bin".into(),
        ));
    }
    for (path, is_train) in files {
        let bytes = std::fs::read(&path).map_err(|e| LabelledError::Read {
            path: path.clone(),
            message: e.to_string(),
        })?;
        if bytes.is_empty() || bytes.len() % RECORD != 0 {
            return Err(LabelledError::Read {
                path,
                message: format!(
                    "{} bytes is not a whole number of {RECORD}-byte CIFAR-10 records",
                    bytes.len()
                ),
            });
        }
        for rec in bytes.chunks(RECORD) {
            let i = pixels.len() / 3072;
            pixels.extend_from_slice(&rec[1..]);
            let item = (i, u32::from(rec[0]));
            if is_train {
                train.push(item)
            } else {
                test.push(item)
            }
        }
    }
    let names = std::fs::read_to_string(root.join("batches.meta.txt")).unwrap_or_default();
    let names: Vec<String> = names
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect();
    let n_classes = train
        .iter()
        .chain(&test)
        .map(|(_, c)| *c as usize + 1)
        .max()
        .unwrap_or(0);
    let classes = (0..n_classes)
        .map(|c| names.get(c).cloned().unwrap_or_else(|| c.to_string()))
        .collect::<Vec<_>>();
    check_classes(root, &classes, &train)?;
    Ok(LabelledSet {
        classes,
        train,
        test,
        own_split: true,
        format: Format::Cifar,
        store: Store::Planar { pixels },
    })
}

/// Image files per class folder under `dir`, classes sorted by name.
fn class_folders(dir: &Path) -> Result<Vec<(String, Vec<PathBuf>)>, LabelledError> {
    let read = |p: &Path| {
        std::fs::read_dir(p).map_err(|e| LabelledError::Read {
            path: p.to_path_buf(),
            message: e.to_string(),
        })
    };
    let mut classes: Vec<PathBuf> = read(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    classes.sort();
    let mut out = Vec::new();
    for c in classes {
        let name = c
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        let mut files = Vec::new();
        crate::real::image_files(&c, &mut files);
        out.push((name, files));
    }
    Ok(out)
}

fn open_folder(root: &Path, options: &LoadOptions) -> Result<LabelledSet, LabelledError> {
    let (train_dir, test_dir) = (root.join("train"), root.join("test"));
    let own_split = train_dir.is_dir() && test_dir.is_dir();
    // (class folder name, its image files, into the training split?)
    let mut groups: Vec<(String, Vec<PathBuf>, bool)> = Vec::new();
    if own_split {
        for (dir, into_train) in [(&train_dir, true), (&test_dir, false)] {
            groups.extend(
                class_folders(dir)?
                    .into_iter()
                    .map(|(n, l)| (n, l, into_train)),
            );
        }
    } else {
        for (name, list) in class_folders(root)? {
            if list.is_empty() {
                return Err(LabelledError::Classes {
                    path: root.join(&name),
                    message: "a class folder without a PNG or JPEG image".into(),
                });
            }
            groups.push((name, list, true));
        }
    }
    let mut classes: Vec<String> = Vec::new();
    let (mut files, mut train, mut test) = (Vec::new(), Vec::new(), Vec::new());
    for (name, list, into_train) in groups {
        let c = classes.iter().position(|n| *n == name).unwrap_or_else(|| {
            classes.push(name);
            classes.len() - 1
        }) as u32;
        for f in list {
            let split = if into_train { &mut train } else { &mut test };
            split.push((files.len(), c));
            files.push(f);
        }
    }
    if classes.is_empty() {
        return Err(format_err(
            root,
            Format::ImageFolder,
            "no class sub-folders".into(),
        ));
    }
    if !own_split {
        (train, test) =
            stratified_split(&train, classes.len(), options.test_fraction, options.seed);
    }
    check_classes(root, &classes, &train)?;
    Ok(LabelledSet {
        classes,
        train,
        test,
        own_split,
        format: Format::ImageFolder,
        store: Store::Files(files),
    })
}

/// Splits `items` per class: a `fraction` of each class (at least one image
/// of a class with two or more) goes to test, chosen by `seed`.
pub fn stratified_split(
    items: &[(usize, u32)],
    classes: usize,
    fraction: f64,
    seed: u64,
) -> (Items, Items) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (mut train, mut test) = (Vec::new(), Vec::new());
    for c in 0..classes as u32 {
        let mut of_class: Vec<(usize, u32)> =
            items.iter().copied().filter(|(_, l)| *l == c).collect();
        of_class.shuffle(&mut rng);
        let n = of_class.len();
        let k = if n >= 2 {
            ((n as f64 * fraction).round() as usize).clamp(1, n - 1)
        } else {
            0
        };
        test.extend_from_slice(&of_class[..k]);
        train.extend_from_slice(&of_class[k..]);
    }
    train.sort();
    test.sort();
    (train, test)
}
