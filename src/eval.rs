//! `synthfeat eval`: how the encoder transfers to real, labelled images.

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use std::path::{Path, PathBuf};

use trainer::burn::backend::Flex;
use trainer::burn::tensor::backend::Backend;
use trainer::config::TrainConfig;
use trainer::eval::depth;
use trainer::eval::finetune::{FinetuneConfig, finetune};
use trainer::eval::labelled::{self, Format, LoadOptions};
use trainer::eval::linear::ClassifierConfig;
use trainer::eval::probe::{NormStats, ProbeConfig, probe};
use trainer::model::Backbone;

/// `synthfeat eval` commands.
#[derive(Subcommand)]
pub enum EvalCommand {
    /// Linear probe: the backbone frozen, a linear classifier per layer on pooled features.
    Probe(ProbeArgs),
    /// Fine-tuning: every weight trained, with a new classifier on the pooled top layer.
    Finetune(FinetuneArgs),
    /// Real depth: the depth head on real RGB-D, median-scaled; abs-rel, RMSE, δ<1.25.
    Depth(DepthArgs),
}

/// `synthfeat eval depth` options.
#[derive(Args)]
pub struct DepthArgs {
    /// Run folder of `synthfeat train` (trained with the depth task).
    #[arg(long)]
    run: PathBuf,
    /// Folder of RGB images with depth or disparity (NAME + NAME_depth / NAME_disp,
    /// rgb/ + depth/, Middlebury im0.png + disp0.pfm + calib.txt, or Middlebury
    /// 2001–2006 view1.png + disp1.png with --disparity-scale).
    #[arg(long)]
    data: PathBuf,
    /// Network input size, pixels [default: the run's training size].
    #[arg(long)]
    size: Option<usize>,
    /// Disparity calibration: focal length in pixels (else calib.txt beside each map).
    #[arg(long, requires = "baseline_mm")]
    focal_px: Option<f64>,
    /// Disparity calibration: stereo baseline in millimetres.
    #[arg(long, requires = "focal_px")]
    baseline_mm: Option<f64>,
    /// Disparity calibration: Middlebury's doffs, pixels.
    #[arg(long, default_value_t = 0.0)]
    doffs: f64,
    /// A disparity PNG stores this many times the disparity in pixels
    /// (Middlebury 2005–2006: 1 full size, 2 half, 3 third; 2003 quarter size: 4;
    /// 2001: Tsukuba 16, others 8). 0 stays "unknown".
    #[arg(long, default_value_t = 1.0)]
    disparity_scale: f64,
    /// Seed of the random-init baseline.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Write the results as JSON here [default: RUN/depth-<data folder name>.json].
    #[arg(long)]
    json: Option<PathBuf>,
}

/// Labelled data set format on the command line.
#[derive(Clone, Copy, ValueEnum)]
pub enum FormatArg {
    /// One sub-folder per class (or train/ and test/ above them).
    Imagefolder,
    /// MNIST-family IDX files (train-*/t10k-* images and labels).
    Idx,
    /// CIFAR-10 binary batches.
    Cifar,
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Self {
        match f {
            FormatArg::Imagefolder => Format::ImageFolder,
            FormatArg::Idx => Format::Idx,
            FormatArg::Cifar => Format::Cifar,
        }
    }
}

/// The encoder and the labelled set an evaluation reads.
#[derive(Args)]
pub struct Subject {
    /// Run folder of `synthfeat train`, or `random` for a randomly initialised
    /// backbone of the same architecture (that of --like, or the defaults).
    #[arg(long)]
    run: String,
    /// Labelled data set folder.
    #[arg(long)]
    data: PathBuf,
    /// Its format [default: detected from the files].
    #[arg(long, value_enum)]
    format: Option<FormatArg>,
    /// Keep at most N images per class in each split.
    #[arg(long)]
    limit_per_class: Option<usize>,
    /// Keep at most N images per class in the test split instead (e.g. a
    /// large N for the whole test split, with a small --limit-per-class).
    #[arg(long)]
    test_limit_per_class: Option<usize>,
    /// Seed of the random backbone, the split (sets without one) and the training.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// With `--run random`: take the architecture from this run folder.
    #[arg(long)]
    like: Option<PathBuf>,
    /// Write the results as JSON here [default: RUN/<command>-<data folder name>.json; none for random].
    #[arg(long)]
    json: Option<PathBuf>,
}

/// `synthfeat eval probe` options.
#[derive(Args)]
pub struct ProbeArgs {
    #[command(flatten)]
    subject: Subject,
    /// Layers to probe, comma-separated [default: every layer of the backbone].
    #[arg(long, value_delimiter = ',')]
    layers: Option<Vec<String>>,
    /// Values per pooled feature vector, about (Goyal et al.: 9,216).
    #[arg(long, default_value_t = 9216)]
    dims: usize,
    /// Passes of the linear classifier over the training features.
    #[arg(long, default_value_t = 30)]
    epochs: usize,
    /// Batch-norm statistics of the frozen backbone: `trained` (those of
    /// pretraining) or `target` (re-estimated on the probe's training
    /// images first, AdaBN; no labels used; random init likewise).
    #[arg(long, value_enum, default_value_t = NormStatsArg::Trained)]
    norm_stats: NormStatsArg,
}

/// `--norm-stats` values.
#[derive(Clone, Copy, ValueEnum)]
pub enum NormStatsArg {
    /// The running statistics of pretraining.
    Trained,
    /// Re-estimated on the probe's training images (AdaBN).
    Target,
}

/// `synthfeat eval finetune` options.
#[derive(Args)]
pub struct FinetuneArgs {
    #[command(flatten)]
    subject: Subject,
    /// Optimisation steps.
    #[arg(long, default_value_t = 500)]
    steps: usize,
    /// Images per step.
    #[arg(long, default_value_t = 32)]
    batch: usize,
    /// The classifier's Adam learning rate (the backbone's is a tenth of it).
    #[arg(long, default_value_t = 1e-3)]
    lr: f64,
}

/// Runs `synthfeat eval …`.
pub fn run(cmd: EvalCommand) -> Result<()> {
    match cmd {
        EvalCommand::Probe(a) => run_probe(a),
        EvalCommand::Finetune(a) => run_finetune(a),
        EvalCommand::Depth(a) => run_depth(a),
    }
}

/// Says how many images were skipped as undecodable, if any.
fn warn_skipped(skipped: usize) {
    if skipped > 0 {
        eprintln!("warning: {skipped} images could not be decoded and were skipped");
    }
}

impl Subject {
    /// Opens the labelled set of `--data` and says what it holds.
    fn open_set(&self) -> Result<labelled::LabelledSet> {
        let options = LoadOptions {
            format: self.format.map(Into::into),
            limit_per_class: self.limit_per_class,
            test_limit_per_class: self.test_limit_per_class,
            seed: self.seed,
            ..Default::default()
        };
        let set = labelled::open(&self.data, &options).context("--data")?;
        eprintln!("{}: {}", self.data.display(), set.describe());
        Ok(set)
    }
}

/// Where the JSON goes: `--json`, else `RUN/<kind>-<data name>.json` (none for random).
fn json_path(json: &Option<PathBuf>, run: &str, kind: &str, data: &Path) -> Option<PathBuf> {
    json.clone().or_else(|| {
        (run != "random").then(|| {
            let name = data
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_else(|| "data".into());
            Path::new(run).join(format!("{kind}-{name}.json"))
        })
    })
}

fn write_json(path: &Path, value: &serde_json::Value) -> Result<()> {
    std::fs::write(path, serde_json::to_string_pretty(value)? + "\n")
        .with_context(|| format!("writing {}", path.display()))?;
    println!("results: {}", path.display());
    Ok(())
}

fn run_finetune(a: FinetuneArgs) -> Result<()> {
    type B = trainer::burn::backend::Autodiff<Flex>;
    let (backbone, config) =
        backbone::<B>(&a.subject.run, a.subject.like.as_deref(), a.subject.seed)?;
    let set = a.subject.open_set()?;
    let ft = FinetuneConfig {
        steps: a.steps,
        batch: a.batch,
        lr: a.lr,
        backbone_lr_scale: 0.1,
        size: config.size,
        seed: a.subject.seed,
    };
    let bar = crate::progress::bar(
        a.steps as u64,
        "[{elapsed_precise}] {bar:30} {pos}/{len} steps {msg}",
    );
    let channels = config.backbone_config().top_channels();
    let report = finetune(
        backbone,
        channels,
        &set,
        &ft,
        &Default::default(),
        &mut |step, loss| {
            bar.set_position(step as u64);
            bar.set_message(format!("loss {loss:.3}"));
        },
    );
    bar.finish_and_clear();
    warn_skipped(report.skipped);
    println!(
        "fine-tuned {} on {} for {} steps: test top-1 {:.1} % ({} test images; final training loss {:.3})",
        a.subject.run,
        a.subject.data.display(),
        a.steps,
        100.0 * report.test_top1,
        report.test_images,
        report.final_train_loss
    );
    if let Some(path) = json_path(&a.subject.json, &a.subject.run, "finetune", &a.subject.data) {
        write_json(
            &path,
            &serde_json::json!({"run": a.subject.run, "data": a.subject.data, "format": set.format.to_string(),
                "finetune": ft, "result": report}),
        )?;
    }
    Ok(())
}

fn run_depth(a: DepthArgs) -> Result<()> {
    let device = Default::default();
    let run = a.run.to_string_lossy().to_string();
    let config = trainer::run::saved_config(&a.run).context("--run")?;
    if !config.tasks.iter().any(|t| t == "depth") {
        bail!(
            "--run {run}: the run has no depth head (its tasks: {})",
            config.tasks.join(", ")
        );
    }
    let trained = trainer::checkpoint::load::<Flex>(&config.model_config(), &a.run, &device)
        .context("--run")?;
    Flex::seed(&device, a.seed);
    let random = config.model_config().init::<Flex>(&device)?;
    let size = a.size.unwrap_or(config.size);
    config
        .backbone_config()
        .check_size(size)
        .map_err(|e| anyhow::anyhow!("--size: {e}"))?;
    let out = (size / config.label_scale).max(1);
    if !a.data.is_dir() {
        bail!("--data {}: no such folder", a.data.display());
    }
    let pairs = depth::find_pairs(&a.data);
    if pairs.is_empty() {
        bail!(
            "--data {}: no RGB image with a depth or disparity file beside it (NAME.png + \
             NAME_depth.png|npy|npz|pfm or NAME_disp.*, rgb/ + depth/, im0.png + disp0.pfm, or viewN.png|imN.png + dispN.png)",
            a.data.display()
        );
    }
    let calibration = match (a.focal_px, a.baseline_mm) {
        (Some(focal_px), Some(baseline_mm)) => Some(depth::Calibration {
            focal_px,
            baseline_mm,
            doffs_px: a.doffs,
        }),
        _ => None,
    };
    let models = vec![
        (run.clone(), &trained),
        ("random init".to_string(), &random),
    ];
    if !(a.disparity_scale.is_finite() && a.disparity_scale > 0.0) {
        bail!(
            "--disparity-scale must be positive, got {}",
            a.disparity_scale
        );
    }
    let scale = a.disparity_scale;
    let (rows, skipped) = depth::evaluate(&models, &pairs, calibration, scale, size, out, &device)
        .map_err(|e| anyhow::anyhow!("--data {}: {e}", a.data.display()))?;
    if skipped > 0 {
        eprintln!("warning: {skipped} pairs could not be read and were skipped");
    }
    println!(
        "real depth on {} ({} pairs; input {size} px, scored on a {out}x{out} grid, median-scaled):",
        a.data.display(),
        pairs.len() - skipped
    );
    println!("| model | abs-rel | RMSE | δ<1.25 |\n|---|---|---|---|");
    for r in &rows {
        println!(
            "| {} | {:.3} | {:.3} m | {:.1} % |",
            r.name,
            r.metrics.abs_rel,
            r.metrics.rmse_m,
            100.0 * r.metrics.delta1
        );
    }
    if let Some(path) = json_path(&a.json, &run, "depth", &a.data) {
        write_json(
            &path,
            &serde_json::json!({"run": run, "data": a.data, "size": size, "grid": out,
                "calibration": calibration, "pairs": pairs.len() - skipped, "rows": rows}),
        )?;
    }
    Ok(())
}

/// The backbone of `run` (a run folder or `random`) with its training config.
fn backbone<B: Backend>(
    run: &str,
    like: Option<&Path>,
    seed: u64,
) -> Result<(Backbone<B>, TrainConfig)> {
    let device = Default::default();
    if run == "random" {
        let config = match like {
            Some(dir) => trainer::run::saved_config(dir).context("--like")?,
            None => TrainConfig::default(),
        };
        B::seed(&device, seed);
        let model = config.model_config().init::<B>(&device)?;
        return Ok((model.backbone, config));
    }
    let dir = Path::new(run);
    let config = trainer::run::saved_config(dir).context("--run")?;
    let model =
        trainer::checkpoint::load::<B>(&config.model_config(), dir, &device).context("--run")?;
    Ok((model.backbone, config))
}

fn run_probe(a: ProbeArgs) -> Result<()> {
    let (backbone, config) =
        backbone::<Flex>(&a.subject.run, a.subject.like.as_deref(), a.subject.seed)?;
    let names = config.backbone_config().layer_names();
    let layers = a
        .layers
        .clone()
        .unwrap_or_else(|| names.iter().map(|s| s.to_string()).collect());
    if let Some(bad) = layers.iter().find(|l| !names.contains(&l.as_str())) {
        bail!(
            "--layers: `{bad}` is not a layer of the {} backbone (its layers: {})",
            config.backbone,
            names.join(", ")
        );
    }
    let set = a.subject.open_set()?;
    let probe_config = ProbeConfig {
        layers,
        dims: a.dims,
        size: config.size,
        batch: 64,
        classifier: ClassifierConfig {
            epochs: a.epochs,
            seed: a.subject.seed,
            ..Default::default()
        },
        norm_stats: match a.norm_stats {
            NormStatsArg::Trained => NormStats::Trained,
            NormStatsArg::Target => NormStats::Target,
        },
    };
    let bar = crate::progress::bar(1, "[{elapsed_precise}] {bar:30} {pos}/{len} {msg}");
    let report = probe(
        &backbone,
        &set,
        &probe_config,
        &Default::default(),
        &mut |what, done, total| {
            bar.set_message(what.to_string());
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        },
    );
    bar.finish_and_clear();
    let report = report.with_context(|| format!("probing on {}", a.subject.data.display()))?;
    warn_skipped(report.skipped);
    println!(
        "linear probe of {} on {} ({} classes, {} train / {} test images):",
        a.subject.run,
        a.subject.data.display(),
        report.classes,
        report.train_images,
        report.test_images
    );
    print!("{}", report.table());
    if let Some(path) = json_path(&a.subject.json, &a.subject.run, "probe", &a.subject.data) {
        write_json(
            &path,
            &serde_json::json!({"run": a.subject.run, "data": a.subject.data, "format": set.format.to_string(),
                "probe": probe_config, "result": report}),
        )?;
    }
    Ok(())
}
