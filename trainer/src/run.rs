//! A whole training run in a run folder: config, metrics, validation, PNGs,
//! checkpoints and resuming.
//!
//! `RUN/config.json` holds the [`TrainConfig`] and the data source;
//! `RUN/metrics.jsonl` one line per step (`split: train`) and per validation
//! (`split: val`); `RUN/curves.png` and `RUN/predictions.png` are refreshed at
//! each validation; checkpoints follow [`crate::checkpoint`].

use burn::module::AutodiffModule;
use burn::optim::AdamConfig;

use crate::optim::dense_adam;
use burn::tensor::backend::AutodiffBackend;
use serde_json::json;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::batch::BatchError;
use crate::checkpoint::{self, CheckpointError};
use crate::config::{ConfigError, TrainConfig};
use crate::data::{DataError, TrainBatches};
use crate::pretext::{Image, PretextError, PretextState};
use crate::tasks::TaskError;
use crate::train::{
    ExtraObjective, MultiTaskModel, StepError, StepReport, TrainError, train_step_with,
};
use crate::validate::{Validation, validate};
use engine::Sample;

/// Why a run stopped early.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Bad configuration.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The model cannot be built.
    #[error(transparent)]
    Model(#[from] TrainError),
    /// Checkpoint trouble.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    /// The data pipeline failed.
    #[error(transparent)]
    Data(#[from] DataError),
    /// A batch could not be built.
    #[error(transparent)]
    Batch(#[from] BatchError),
    /// A training step failed (a task, or the extra objective).
    #[error("step {step}: {source}")]
    Step {
        /// The step.
        step: u64,
        /// What failed.
        source: StepError,
    },
    /// A task failed on a validation batch.
    #[error("validation: {0}")]
    Validation(#[from] TaskError),
    /// The pretext tasks' state cannot be learnt, read or written.
    #[error(transparent)]
    Pretext(#[from] PretextError),
    /// The data pipeline ended.
    #[error("the data pipeline stopped before step {step}")]
    DataEnded {
        /// The step that found no batch.
        step: u64,
    },
    /// A run-folder file cannot be written or read.
    #[error("{path}: {message}")]
    File {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The loss became NaN or infinite.
    #[error(
        "the loss became {loss} at step {step}; training stopped. {}",
        match last_good { Some(s) => format!("The last good checkpoint (step {s}) is kept."), None => "No checkpoint had been written yet.".to_string() }
    )]
    NonFinite {
        /// The step.
        step: u64,
        /// The loss value.
        loss: f64,
        /// Step of the checkpoint left in place.
        last_good: Option<u64>,
    },
    /// The folder holds no run (no readable `config.json`).
    #[error("{dir}: not a run folder of `synthfeat train` (config.json: {message})")]
    NotARun {
        /// The folder.
        dir: PathBuf,
        /// Why `config.json` could not be read.
        message: String,
    },
    /// `--resume` with a changed setting.
    #[error(
        "--resume: `{field}` is {now} but the run was started with {then}; resume with the same settings"
    )]
    Mismatch {
        /// The setting.
        field: String,
        /// Asked for now.
        now: String,
        /// Saved in config.json.
        then: String,
    },
}

/// What a run reports as it goes (a progress bar, a log, nothing).
pub trait Progress {
    /// Training is about to run steps `first..=last`.
    fn start(&mut self, first: u64, last: u64);
    /// A step finished.
    fn step(&mut self, step: u64, report: &StepReport, samples_per_s: f64);
    /// A line worth showing (validation results, checkpoints).
    fn note(&mut self, text: &str);
    /// Whether the run should stop after this step (a checkpoint is written
    /// first), e.g. because the job was asked to end.
    fn stop_requested(&mut self) -> bool {
        false
    }
}

/// Shows nothing.
pub struct Quiet;

impl Progress for Quiet {
    fn start(&mut self, _: u64, _: u64) {}
    fn step(&mut self, _: u64, _: &StepReport, _: f64) {}
    fn note(&mut self, _: &str) {}
}

/// How a run ended.
#[derive(Clone, Debug)]
pub struct RunSummary {
    /// Steps done in total (including any before a resume).
    pub steps: u64,
    /// Steps done by this call.
    pub new_steps: u64,
    /// Training samples per second over this call.
    pub samples_per_s: f64,
    /// The last validation, if any ran.
    pub validation: Option<Validation>,
    /// The last domain-gap measurement, if real images were given.
    pub domain_gap: Option<crate::domain_gap::GapReport>,
    /// Stopped early because [`Progress::stop_requested`] said so (its
    /// checkpoint written); `--resume` carries on.
    pub interrupted: bool,
}

/// One training run.
pub struct Run<'a> {
    /// The run folder.
    pub dir: &'a Path,
    /// Hyper-parameters.
    pub config: &'a TrainConfig,
    /// Where the data comes from, recorded in `config.json` (and compared on resume).
    pub source: serde_json::Value,
    /// Continue from the run folder's checkpoint.
    pub resume: bool,
}

fn file_err(path: &Path) -> impl FnOnce(String) -> RunError + '_ {
    move |message| RunError::File {
        path: path.to_path_buf(),
        message,
    }
}

/// One `metrics.jsonl` line: `base` plus every task's loss and metrics.
pub fn metrics_line(base: serde_json::Value, r: &StepReport) -> serde_json::Value {
    let mut m = match base {
        serde_json::Value::Object(m) => m,
        _ => serde_json::Map::new(),
    };
    for t in &r.tasks {
        m.insert(format!("{}_loss", t.name), json!(t.loss));
        for (k, v) in &t.metrics {
            m.insert(format!("{}_{}", t.name, k), json!(v));
        }
    }
    serde_json::Value::Object(m)
}

/// Resident memory of this process in MiB (Linux; `None` elsewhere).
fn rss_mib() -> Option<f64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: f64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some((pages * 4096.0 / 1_048_576.0 * 10.0).round() / 10.0)
}

/// The run folder's `config.json` as JSON.
fn read_run_json(dir: &Path) -> Result<serde_json::Value, RunError> {
    let path = dir.join("config.json");
    let text = std::fs::read_to_string(&path).map_err(|e| RunError::NotARun {
        dir: dir.to_path_buf(),
        message: e.to_string(),
    })?;
    serde_json::from_str(&text).map_err(|e| file_err(&path)(e.to_string()))
}

/// The training config a run folder was started with (for `--resume` and export).
pub fn saved_config(dir: &Path) -> Result<TrainConfig, RunError> {
    let v = read_run_json(dir)?;
    serde_json::from_value(v["train"].clone()).map_err(|e| RunError::File {
        path: dir.join("config.json"),
        message: format!("the `train` section: {e}"),
    })
}

/// Writes `RUN/config.json`, or on resume checks that nothing but `steps`,
/// `val_every` and `checkpoint_every` changed.
fn record_config(run: &Run) -> Result<(), RunError> {
    let path = run.dir.join("config.json");
    let now =
        json!({"train": run.config, "source": run.source, "model": run.config.model_config()});
    if run.resume {
        let then = read_run_json(run.dir)?;
        let may_change = ["steps", "max_minutes", "val_every", "checkpoint_every"];
        let (Some(a), Some(b)) = (now["train"].as_object(), then["train"].as_object()) else {
            return Err(file_err(&path)("no `train` section".into()));
        };
        for (k, v) in a {
            if !may_change.contains(&k.as_str()) && b.get(k) != Some(v) {
                return Err(RunError::Mismatch {
                    field: k.clone(),
                    now: v.to_string(),
                    then: b.get(k).map(|x| x.to_string()).unwrap_or_default(),
                });
            }
        }
        if now["source"] != then["source"] {
            return Err(RunError::Mismatch {
                field: "data source".into(),
                now: now["source"].to_string(),
                then: then["source"].to_string(),
            });
        }
    }
    let tmp = run.dir.join("config.json.tmp");
    let text = serde_json::to_string_pretty(&now).map_err(|e| file_err(&path)(e.to_string()))?;
    std::fs::write(&tmp, text + "\n").map_err(|e| file_err(&tmp)(e.to_string()))?;
    std::fs::rename(&tmp, &path).map_err(|e| file_err(&path)(e.to_string()))
}

/// Opens `metrics.jsonl` for appending; on resume first drops the lines of
/// steps after the checkpoint (they will be run again).
fn open_metrics(path: &Path, keep_through: Option<u64>) -> Result<std::fs::File, RunError> {
    let err = |e: std::io::Error| file_err(path)(e.to_string());
    if let Some(step) = keep_through {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let kept: String = text
            .lines()
            .filter(|l| {
                serde_json::from_str::<serde_json::Value>(l)
                    .ok()
                    .and_then(|v| v["step"].as_u64())
                    .is_some_and(|s| s <= step)
            })
            .map(|l| format!("{l}\n"))
            .collect();
        let tmp = path.with_extension("jsonl.tmp");
        std::fs::write(&tmp, kept).map_err(err)?;
        std::fs::rename(&tmp, path).map_err(err)?;
        std::fs::OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(err)
    } else {
        std::fs::File::create(path).map_err(err)
    }
}

/// Images (at most `count`) to learn the pretext state from: the first
/// training batches, as the run will see them.
fn preparation_images<B: AutodiffBackend>(
    cfg: &TrainConfig,
    data: &mut dyn FnMut(u64) -> Result<TrainBatches, DataError>,
    count: usize,
    device: &B::Device,
) -> Result<Vec<Image>, RunError> {
    let mut images = Vec::new();
    let mut batches = data(0)?;
    while images.len() < count {
        let Some(b) = batches.next() else { break };
        let batch = b?.to_batch::<B::InnerBackend>(cfg.size, cfg.label_scale, device)?;
        images.extend(Image::from_tensor(batch.rgb()));
    }
    images.truncate(count);
    Ok(images)
}

/// The seed of step `step`'s random choices in the pretext tasks.
pub fn step_seed(seed: u64, step: u64) -> u64 {
    seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ step
}

/// Trains as `run` says. `data(samples_seen)` opens the training batches
/// positioned after the first `samples_seen` samples; `val` are held-out
/// samples at the training size; `real_val` held-out real images
/// (`[3, size, size]` each, may be empty) for the domain gap, or for
/// validation when there are no samples (training on real images alone);
/// `extra` adds an objective to every step.
#[allow(clippy::too_many_arguments)]
pub fn fit<B: AutodiffBackend>(
    run: &Run,
    device: &B::Device,
    data: &mut dyn FnMut(u64) -> Result<TrainBatches, DataError>,
    val: &[Sample],
    real_val: &[Vec<f32>],
    extra: &mut dyn ExtraObjective<B>,
    progress: &mut dyn Progress,
) -> Result<RunSummary, RunError> {
    let cfg = run.config;
    cfg.validate()?;
    std::fs::create_dir_all(run.dir).map_err(|e| file_err(run.dir)(e.to_string()))?;
    B::seed(device, cfg.seed);
    let model_cfg = cfg.model_config();
    let mut model: MultiTaskModel<B> = model_cfg.init(device)?;
    let mut optim = dense_adam(
        &AdamConfig::new()
            .with_beta_1(cfg.beta1 as f32)
            .with_beta_2(cfg.beta2 as f32),
    );
    let (mut step, mut seen) = (0u64, 0u64);
    if run.resume {
        let state = checkpoint::latest(run.dir)?;
        model = checkpoint::load(&model_cfg, run.dir, device)?;
        optim = checkpoint::load_optimizer(optim, run.dir, device)?;
        let dir = run.dir.join(&state.dir);
        extra.load(&dir).map_err(|e| CheckpointError::Record {
            path: dir.clone(),
            message: e.to_string(),
        })?;
        (step, seen) = (state.step, state.samples_seen);
        progress.note(&format!("resuming at step {step} ({seen} samples seen)"));
    }
    record_config(run)?;
    let state_file = run.dir.join(crate::pretext::STATE_FILE);
    let state = if run.resume && (state_file.exists() || PretextState::needs_images(&cfg.tasks)) {
        PretextState::load(run.dir)?
    } else {
        // A fresh run, or one resumed from before pretext.json existed whose
        // tasks learn nothing from images (the permutation set follows the seed).
        let images = if PretextState::needs_images(&cfg.tasks) {
            progress.note(
                "learning the pretext tasks' palette and colour prior from 64 training images",
            );
            preparation_images::<B>(cfg, data, 64, device)?
        } else {
            Vec::new()
        };
        let state = PretextState::prepare(&cfg.pretext, &cfg.tasks, &images, cfg.seed)?;
        state.save(run.dir)?;
        state
    };
    model.tasks.prepare(&state)?;
    let metrics_path = run.dir.join("metrics.jsonl");
    let mut metrics = open_metrics(&metrics_path, run.resume.then_some(step))?;
    let mut log = |line: serde_json::Value| {
        writeln!(metrics, "{line}").map_err(|e| file_err(&metrics_path)(e.to_string()))
    };
    let mut batches = data(seen)?;
    let labelled_val = crate::validate::batches::<B::InnerBackend>(val, cfg, device)?;
    let real_batches = crate::validate::image_batches::<B::InnerBackend>(real_val, cfg, device);
    // Without synthetic samples (real images alone), validate on the held-out real images.
    let (val_batches, gap_real) = if labelled_val.is_empty() {
        (real_batches, Vec::new())
    } else {
        (labelled_val, real_batches)
    };
    let mut last_val = None;
    let mut last_gap = None;
    let first = step + 1;
    progress.start(first, cfg.steps);
    let start = Instant::now();
    let mut interrupted = false;
    let budget = cfg
        .max_minutes
        .map(|m| std::time::Duration::from_secs_f64(m * 60.0));
    while step < cfg.steps {
        step += 1;
        let samples = batches.next().ok_or(RunError::DataEnded { step })??;
        let batch = samples.to_batch::<B>(cfg.size, cfg.label_scale, device)?;
        let lr = cfg.lr_at(step);
        let seed = step_seed(cfg.seed, step);
        let (m, report) = train_step_with(model, &mut optim, &batch, &cfg.weights, lr, seed, extra)
            .map_err(|source| RunError::Step { step, source })?;
        model = m;
        if !report.loss.is_finite() {
            return Err(RunError::NonFinite {
                step,
                loss: report.loss,
                last_good: checkpoint::latest(run.dir).ok().map(|s| s.step),
            });
        }
        seen += samples.len() as u64;
        let sps = ((step - first + 1) * cfg.batch as u64) as f64 / start.elapsed().as_secs_f64();
        let mut base = json!({"step": step, "split": "train", "loss": report.loss, "lr": lr, "samples_per_s": sps});
        if let Some(rss) = rss_mib() {
            base["rss_mib"] = json!(rss);
        }
        log(metrics_line(base, &report))?;
        progress.step(step, &report, sps);
        let stop = progress.stop_requested();
        let last = step == cfg.steps || budget.is_some_and(|b| start.elapsed() >= b) || stop;
        // Asked to stop, only the checkpoint is worth the grace period.
        if (step % cfg.val_every.max(1) == 0 || last) && !stop {
            let eval = model.valid();
            if !val_batches.is_empty() {
                let v = validate(&eval, &val_batches, &cfg.weights)?;
                let mut base = json!({"step": step, "split": "val", "loss": v.report.loss});
                let mut line = format!("step {step}: validation {}", v.summary());
                match crate::domain_gap::measure(&eval, &val_batches, &gap_real, &cfg.adapt.layer) {
                    Some(Ok(g)) => {
                        base["domain_accuracy"] = json!(g.accuracy);
                        base["domain_proxy_a"] = json!(g.proxy_a_distance);
                        base["domain_mmd"] = json!(g.mmd);
                        line += &format!("; domain gap at {}: {}", cfg.adapt.layer, g.summary());
                        last_gap = Some(g);
                    }
                    Some(Err(e)) => line += &format!("; domain gap not measured: {e}"),
                    None => {}
                }
                log(metrics_line(base, &v.report))?;
                progress.note(&line);
                last_val = Some(v);
            }
            crate::plots::refresh(run.dir, &eval, &val_batches)
                .map_err(|e| file_err(run.dir)(e.to_string()))?;
        }
        if step % cfg.checkpoint_every.max(1) == 0 || last {
            checkpoint::save(run.dir, &model, Some(&optim), Some(&*extra), step, seen, lr)?;
        }
        if last {
            interrupted = stop && step < cfg.steps;
            break;
        }
    }
    let new_steps = step.saturating_sub(first - 1);
    Ok(RunSummary {
        steps: step,
        new_steps,
        samples_per_s: (new_steps * cfg.batch as u64) as f64
            / start.elapsed().as_secs_f64().max(1e-9),
        validation: last_val,
        domain_gap: last_gap,
        interrupted,
    })
}
