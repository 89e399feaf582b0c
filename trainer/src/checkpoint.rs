//! Checkpoints: the model's weights (`model.mpk`) and `checkpoint.json`, each
//! written under a temporary name and renamed, so a crash never leaves a
//! half-written checkpoint and the last good one stays.

use burn::module::Module;
use burn::record::{FullPrecisionSettings, NamedMpkFileRecorder, RecorderError};
use burn::tensor::backend::Backend;
use std::path::{Path, PathBuf};

use crate::train::{MultiTaskConfig, MultiTaskModel, TrainError};

/// Checkpoint errors, naming the file.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// Writing, renaming or reading a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The recorder failed.
    #[error("{path}: {message}")]
    Record {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The model described by the config cannot be built.
    #[error(transparent)]
    Model(#[from] TrainError),
}

fn recorder() -> NamedMpkFileRecorder<FullPrecisionSettings> {
    NamedMpkFileRecorder::new()
}

fn record_err(path: &Path) -> impl FnOnce(RecorderError) -> CheckpointError + '_ {
    move |e| CheckpointError::Record {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// Writes `dir/model.mpk` and `dir/checkpoint.json` (holding `step`) atomically.
pub fn save<B: Backend>(
    model: MultiTaskModel<B>,
    dir: &Path,
    step: u64,
) -> Result<PathBuf, CheckpointError> {
    // The recorder sets the extension itself: a stem without a dot keeps the name.
    let partial = dir.join("model-partial");
    model
        .save_file(&partial, &recorder())
        .map_err(record_err(&partial))?;
    let done = dir.join("model.mpk");
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| CheckpointError::Io { path, source }
    };
    std::fs::rename(dir.join("model-partial.mpk"), &done).map_err(io(&done))?;
    let info = dir.join("checkpoint.json");
    let info_tmp = dir.join("checkpoint.json.tmp");
    let text = format!("{{\n  \"step\": {step},\n  \"weights\": \"model.mpk\"\n}}\n");
    std::fs::write(&info_tmp, text).map_err(io(&info_tmp))?;
    std::fs::rename(&info_tmp, &info).map_err(io(&info))?;
    Ok(done)
}

/// Builds the model `config` describes and loads the weights of `dir/model.mpk`.
pub fn load<B: Backend>(
    config: &MultiTaskConfig,
    dir: &Path,
    device: &B::Device,
) -> Result<MultiTaskModel<B>, CheckpointError> {
    let path = dir.join("model.mpk");
    if !path.is_file() {
        return Err(CheckpointError::Io {
            path,
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no checkpoint"),
        });
    }
    let model = config.init::<B>(device)?;
    model
        .load_file(&path, &recorder(), device)
        .map_err(record_err(&path))
}
