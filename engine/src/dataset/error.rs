//! Dataset errors, each naming the file (and member) at fault.

use std::path::PathBuf;

/// What can go wrong reading or writing a dataset.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    /// A file or folder could not be read, written or renamed.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A shard is truncated or not a valid tar / folder.
    #[error("corrupt shard {shard} (after member `{member}`): {message}")]
    CorruptShard {
        /// The shard.
        shard: PathBuf,
        /// Last member read successfully before the damage (empty at the start).
        member: String,
        /// What was wrong.
        message: String,
    },
    /// One member of a sample could not be decoded.
    #[error("corrupt member `{member}` in {shard}: {message}")]
    CorruptMember {
        /// The shard.
        shard: PathBuf,
        /// The member's name (`KEY.depth.png`, …).
        member: String,
        /// What was wrong.
        message: String,
    },
    /// The manifest is unreadable or does not match the data.
    #[error("manifest {path}: {message}")]
    Manifest {
        /// The manifest file.
        path: PathBuf,
        /// What was wrong.
        message: String,
    },
    /// The output folder holds a different dataset (other config, seed, size or layout).
    #[error(
        "{path} already holds a dataset made with a different {field}: {existing} (this run: {requested}); choose another --out or delete it"
    )]
    Mismatch {
        /// The manifest.
        path: PathBuf,
        /// The differing setting.
        field: String,
        /// Its value in the existing dataset.
        existing: String,
        /// Its value in this run.
        requested: String,
    },
    /// The path given as an output folder is not a folder.
    #[error("output path {0} exists and is not a folder")]
    NotAFolder(PathBuf),
    /// No shard was found.
    #[error("no shards (shard-*.tar or shard-* folders) in {0}")]
    Empty(PathBuf),
    /// A sample's buffers do not match its size.
    #[error("sample {key} is malformed: {message}")]
    BadSample {
        /// Its key.
        key: String,
        /// What was wrong.
        message: String,
    },
}

/// Shorthand for `DatasetError::Io`.
pub fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> DatasetError {
    let path = path.into();
    move |source| DatasetError::Io { path, source }
}
