//! `synthfeat eval`: how the encoder transfers to real, labelled images.

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use std::path::{Path, PathBuf};

use trainer::burn::backend::Flex;
use trainer::burn::tensor::backend::Backend;
use trainer::config::TrainConfig;
use trainer::eval::labelled::{self, Format, LoadOptions};
use trainer::eval::linear::ClassifierConfig;
use trainer::eval::probe::{ProbeConfig, probe};
use trainer::model::Backbone;

/// `synthfeat eval` commands.
#[derive(Subcommand)]
pub enum EvalCommand {
    /// Linear probe: the backbone frozen, a linear classifier per layer on pooled features.
    Probe(ProbeArgs),
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

/// `synthfeat eval probe` options.
#[derive(Args)]
pub struct ProbeArgs {
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
    /// Layers to probe, comma-separated [default: every layer of the backbone].
    #[arg(long, value_delimiter = ',')]
    layers: Option<Vec<String>>,
    /// Keep at most N images per class in each split.
    #[arg(long)]
    limit_per_class: Option<usize>,
    /// Values per pooled feature vector, about (Goyal et al.: 9,216).
    #[arg(long, default_value_t = 9216)]
    dims: usize,
    /// Passes of the linear classifier over the training features.
    #[arg(long, default_value_t = 30)]
    epochs: usize,
    /// Seed of the random backbone, the split (sets without one) and the classifier.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// With `--run random`: take the architecture from this run folder.
    #[arg(long)]
    like: Option<PathBuf>,
    /// Write the results as JSON here [default: RUN/probe-<data folder name>.json; none for random].
    #[arg(long)]
    json: Option<PathBuf>,
}

/// Runs `synthfeat eval …`.
pub fn run(cmd: EvalCommand) -> Result<()> {
    match cmd {
        EvalCommand::Probe(a) => run_probe(a),
    }
}

/// The backbone of `run` (a run folder or `random`) with its training config.
fn backbone(run: &str, like: Option<&Path>, seed: u64) -> Result<(Backbone<Flex>, TrainConfig)> {
    let device = Default::default();
    if run == "random" {
        let config = match like {
            Some(dir) => trainer::run::saved_config(dir).context("--like")?,
            None => TrainConfig::default(),
        };
        Flex::seed(&device, seed);
        let model = config.model_config().init::<Flex>(&device)?;
        return Ok((model.backbone, config));
    }
    let dir = Path::new(run);
    let config = trainer::run::saved_config(dir).context("--run")?;
    let model =
        trainer::checkpoint::load::<Flex>(&config.model_config(), dir, &device).context("--run")?;
    Ok((model.backbone, config))
}

fn run_probe(a: ProbeArgs) -> Result<()> {
    let (backbone, config) = backbone(&a.run, a.like.as_deref(), a.seed)?;
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
    let options = LoadOptions {
        format: a.format.map(Into::into),
        limit_per_class: a.limit_per_class,
        seed: a.seed,
        ..Default::default()
    };
    let set = labelled::open(&a.data, &options)
        .with_context(|| format!("--data {}", a.data.display()))?;
    eprintln!("{}: {}", a.data.display(), set.describe());
    let probe_config = ProbeConfig {
        layers,
        dims: a.dims,
        size: config.size,
        batch: 64,
        classifier: ClassifierConfig {
            epochs: a.epochs,
            seed: a.seed,
            ..Default::default()
        },
    };
    let bar = indicatif::ProgressBar::new(1);
    bar.set_style(
        indicatif::ProgressStyle::with_template("[{elapsed_precise}] {bar:30} {pos}/{len} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
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
    if report.skipped > 0 {
        eprintln!(
            "warning: {} images could not be decoded and were skipped",
            report.skipped
        );
    }
    println!(
        "linear probe of {} on {} ({} classes, {} train / {} test images):",
        a.run,
        a.data.display(),
        report.classes,
        report.train_images,
        report.test_images
    );
    print!("{}", report.table());
    let json_path = a.json.clone().or_else(|| {
        (a.run != "random").then(|| {
            let name = a
                .data
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_else(|| "data".into());
            Path::new(&a.run).join(format!("probe-{name}.json"))
        })
    });
    if let Some(path) = json_path {
        let value = serde_json::json!({
            "run": a.run,
            "data": a.data,
            "format": set.format.to_string(),
            "probe": probe_config,
            "result": report,
        });
        std::fs::write(&path, serde_json::to_string_pretty(&value)? + "\n")
            .with_context(|| format!("writing {}", path.display()))?;
        println!("results: {}", path.display());
    }
    Ok(())
}
