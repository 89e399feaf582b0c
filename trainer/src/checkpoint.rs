//! Checkpoints of a run folder.
//!
//! Each checkpoint is a folder `RUN/checkpoints/step-NNNNNNNN/` holding the
//! model (`model.mpk`) and, for training checkpoints, the optimizer state
//! (`optimizer.mpk`). It is written under a `.partial` name and renamed when
//! complete; `RUN/checkpoint.json` (written to a temporary name and renamed) then
//! points at it, and only after that are older checkpoint folders removed. A
//! crash at any moment therefore leaves the last good checkpoint in place.

use burn::module::Module;
use burn::optim::Optimizer;
use burn::record::{FullPrecisionSettings, NamedMpkFileRecorder, Recorder, RecorderError};
use burn::tensor::backend::{AutodiffBackend, Backend};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

use crate::train::{MultiTaskConfig, MultiTaskModel, TrainError};

/// Checkpoint errors, naming the file.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// The run folder has no checkpoint.
    #[error("{run}: no checkpoint (no checkpoint.json): nothing to resume, export or evaluate")]
    Missing {
        /// The run folder.
        run: PathBuf,
    },
    /// Writing, renaming or reading a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A file is not what it should be.
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

/// Where a run stood when its checkpoint was written (`checkpoint.json`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainState {
    /// Optimisation steps done.
    pub step: u64,
    /// Training samples consumed (the data position).
    pub samples_seen: u64,
    /// Learning rate of the last step.
    pub lr: f64,
    /// The checkpoint folder, relative to the run folder.
    pub dir: String,
}

fn recorder() -> NamedMpkFileRecorder<FullPrecisionSettings> {
    NamedMpkFileRecorder::new()
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> CheckpointError + '_ {
    move |source| CheckpointError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn record_err(path: &Path) -> impl FnOnce(RecorderError) -> CheckpointError + '_ {
    move |e| CheckpointError::Record {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

fn save_err(path: &Path) -> impl FnOnce(RecorderError) -> CheckpointError + '_ {
    move |e| CheckpointError::Record {
        path: path.to_path_buf(),
        message: with_io_cause(path, e.to_string()),
    }
}

/// `message`, with the file system's own reason where a small write beside
/// `path` fails too: the recorder's messages hide it ("error while writing
/// multi-byte MessagePack value" for a full disk).
fn with_io_cause(path: &Path, message: String) -> String {
    let probe = path.with_extension("probe");
    let cause = match std::fs::write(&probe, [0u8; 64 * 1024]) {
        Err(e) => format!("{message} ({e})"),
        Ok(()) => message,
    };
    let _ = std::fs::remove_file(&probe);
    cause
}

const INFO: &str = "checkpoint.json";

/// Writes the model, optimizer and extra state into the folder `partial`.
fn write_parts<B, O>(
    partial: &Path,
    model: &MultiTaskModel<B>,
    optimizer: Option<&O>,
    extra: Option<&dyn crate::train::ExtraObjective<B>>,
) -> Result<(), CheckpointError>
where
    B: AutodiffBackend,
    O: Optimizer<MultiTaskModel<B>, B>,
{
    // The recorder adds the extension itself.
    let weights = partial.join("model");
    model
        .clone()
        .save_file(&weights, &recorder())
        .map_err(save_err(&weights))?;
    if let Some(o) = optimizer {
        let path = partial.join("optimizer");
        Recorder::<B>::record(&recorder(), o.to_record(), path.clone()).map_err(save_err(&path))?;
    }
    if let Some(e) = extra {
        e.save(partial).map_err(|e| CheckpointError::Record {
            path: partial.to_path_buf(),
            message: with_io_cause(partial, e.to_string()),
        })?;
    }
    Ok(())
}

/// Writes a checkpoint of `model` (and `optimizer` and the `extra`
/// objective's state, when given) at `state.step` and makes it the run's
/// current one; returns its folder.
pub fn save<B, O>(
    run: &Path,
    model: &MultiTaskModel<B>,
    optimizer: Option<&O>,
    extra: Option<&dyn crate::train::ExtraObjective<B>>,
    step: u64,
    samples_seen: u64,
    lr: f64,
) -> Result<PathBuf, CheckpointError>
where
    B: AutodiffBackend,
    O: Optimizer<MultiTaskModel<B>, B>,
{
    let name = format!("step-{step:08}");
    let root = run.join("checkpoints");
    let partial = root.join(format!("{name}.partial"));
    if partial.exists() {
        std::fs::remove_dir_all(&partial).map_err(io(&partial))?;
    }
    std::fs::create_dir_all(&partial).map_err(io(&partial))?;
    let written = write_parts(&partial, model, optimizer, extra);
    if written.is_err() {
        // A failed checkpoint leaves nothing behind to fill the disk further.
        let _ = std::fs::remove_dir_all(&partial);
    }
    written?;
    let done = root.join(&name);
    let current = latest(run).ok().map(|s| s.dir);
    let rel = format!("checkpoints/{name}");
    if done.exists() {
        if current.as_deref() == Some(rel.as_str()) {
            // Already the committed checkpoint of this step: keep it.
            std::fs::remove_dir_all(&partial).map_err(io(&partial))?;
            return Ok(done);
        }
        std::fs::remove_dir_all(&done).map_err(io(&done))?;
    }
    std::fs::rename(&partial, &done).map_err(io(&done))?;
    let state = TrainState {
        step,
        samples_seen,
        lr,
        dir: rel,
    };
    let info = run.join(INFO);
    let tmp = run.join("checkpoint.json.tmp");
    let text = serde_json::to_string_pretty(&state).unwrap_or_default();
    std::fs::write(&tmp, text + "\n").map_err(io(&tmp))?;
    std::fs::rename(&tmp, &info).map_err(io(&info))?;
    // Older checkpoints go only once the new one is committed.
    if let Ok(entries) = std::fs::read_dir(&root) {
        for e in entries.flatten() {
            let n = e.file_name().to_string_lossy().to_string();
            if n.starts_with("step-") && n != name {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
    Ok(done)
}

/// The run's current checkpoint, from `RUN/checkpoint.json`.
pub fn latest(run: &Path) -> Result<TrainState, CheckpointError> {
    let info = run.join(INFO);
    if !info.is_file() {
        return Err(CheckpointError::Missing {
            run: run.to_path_buf(),
        });
    }
    let text = std::fs::read_to_string(&info).map_err(io(&info))?;
    serde_json::from_str(&text).map_err(|e| CheckpointError::Record {
        path: info.clone(),
        message: e.to_string(),
    })
}

/// Builds the model `config` describes with the weights of the run's current checkpoint.
pub fn load<B: Backend>(
    config: &MultiTaskConfig,
    run: &Path,
    device: &B::Device,
) -> Result<MultiTaskModel<B>, CheckpointError> {
    let state = latest(run)?;
    let path = run.join(&state.dir).join("model.mpk");
    if !path.is_file() {
        return Err(CheckpointError::Record {
            path,
            message: "the checkpoint's weights are missing".into(),
        });
    }
    let model = config.init::<B>(device)?;
    model
        .load_file(&path, &recorder(), device)
        .map_err(record_err(&path))
}

/// Restores the optimizer state of the run's current checkpoint into `optimizer`.
pub fn load_optimizer<B, O>(
    optimizer: O,
    run: &Path,
    device: &B::Device,
) -> Result<O, CheckpointError>
where
    B: AutodiffBackend,
    O: Optimizer<MultiTaskModel<B>, B>,
{
    let state = latest(run)?;
    let path = run.join(&state.dir).join("optimizer.mpk");
    if !path.is_file() {
        return Err(CheckpointError::Record {
            path,
            message: "the checkpoint has no optimizer state (it cannot be resumed)".into(),
        });
    }
    let record = Recorder::<B>::load::<O::Record>(&recorder(), path.clone(), device)
        .map_err(record_err(&path))?;
    Ok(optimizer.load_record(record))
}
