//! `synthfeat train`: multitask training on dataset shards or a live render stream.

use anyhow::{Context, Result, bail};
use burn::backend::{Autodiff, Flex, Wgpu};
use burn::tensor::backend::AutodiffBackend;
use clap::{Args, ValueEnum};
use std::path::{Path, PathBuf};

use domain_adapt::Method;
use trainer::adapt::DomainObjective;
use trainer::config::{ConfigError, TrainConfig};
use trainer::data::{
    DataError, HostBatch, TrainBatches, batches_from, train_batches, validation_samples,
};
use trainer::model::BackboneKind;
use trainer::real::RealImages;
use trainer::run::{Progress, Run, fit};
use trainer::train::{ExtraObjective, NoExtra, StepReport};

/// Where the math runs.
#[derive(Clone, Copy, ValueEnum)]
pub enum DeviceArg {
    /// The CPU backend (burn-flex).
    Cpu,
    /// Any GPU through wgpu (Vulkan/Metal/DX12; lavapipe on a machine without one).
    Wgpu,
    /// burn-ndarray on the CPU (built with `--features cpu-backends`).
    #[cfg(feature = "cpu-backends")]
    Ndarray,
    /// burn-candle on the CPU (built with `--features cpu-backends`).
    #[cfg(feature = "cpu-backends")]
    Candle,
    /// LibTorch's CPU kernels through burn-tch (built with `--features libtorch`).
    #[cfg(feature = "libtorch")]
    Libtorch,
}

/// Work generic over the training backend, run on the one `--device` names.
pub trait OnBackend {
    /// What the work returns.
    type Output;
    /// Runs on backend `B`.
    fn run<B: AutodiffBackend>(self, device: B::Device) -> Self::Output;
}

impl DeviceArg {
    /// The backend's name, for reports.
    pub fn name(self) -> &'static str {
        match self {
            DeviceArg::Cpu => "cpu (burn-flex)",
            DeviceArg::Wgpu => "wgpu",
            #[cfg(feature = "cpu-backends")]
            DeviceArg::Ndarray => "cpu (burn-ndarray)",
            #[cfg(feature = "cpu-backends")]
            DeviceArg::Candle => "cpu (burn-candle)",
            #[cfg(feature = "libtorch")]
            DeviceArg::Libtorch => "cpu (libtorch)",
        }
    }

    /// Runs `job` on this backend (with autodiff), on its default device.
    pub fn dispatch<J: OnBackend>(self, job: J) -> J::Output {
        match self {
            DeviceArg::Cpu => job.run::<Autodiff<Flex>>(Default::default()),
            DeviceArg::Wgpu => job.run::<Autodiff<Wgpu>>(Default::default()),
            #[cfg(feature = "cpu-backends")]
            DeviceArg::Ndarray => job.run::<Autodiff<burn::backend::NdArray>>(Default::default()),
            #[cfg(feature = "cpu-backends")]
            #[allow(deprecated)]
            DeviceArg::Candle => job.run::<Autodiff<burn::backend::Candle>>(Default::default()),
            #[cfg(feature = "libtorch")]
            DeviceArg::Libtorch => job.run::<Autodiff<burn::backend::LibTorch>>(
                burn::backend::libtorch::LibTorchDevice::Cpu,
            ),
        }
    }
}

/// Encoder choice on the command line.
#[derive(Clone, Copy, ValueEnum)]
pub enum BackboneArg {
    /// Small VGG-style network for CPUs at 64–128 px.
    Small,
    /// The paper's AlexNet (batch norm, dilated fc6) for GPUs at 227 px.
    Alexnet,
}

impl From<BackboneArg> for BackboneKind {
    fn from(b: BackboneArg) -> Self {
        match b {
            BackboneArg::Small => BackboneKind::Small,
            BackboneArg::Alexnet => BackboneKind::Alexnet,
        }
    }
}

/// Domain-adaptation method on the command line.
#[derive(Clone, Copy, ValueEnum)]
pub enum DaArg {
    /// No adaptation (the domain gap is still measured with --real).
    None,
    /// A patch discriminator on the layer's features, trained against the encoder (Ren & Lee).
    Adversarial,
    /// Gradient reversal into a domain classifier (DANN).
    Grl,
    /// Maximum mean discrepancy of pooled features.
    Mmd,
    /// Covariance alignment of pooled features (CORAL).
    Coral,
}

impl From<DaArg> for Method {
    fn from(d: DaArg) -> Self {
        match d {
            DaArg::None => Method::None,
            DaArg::Adversarial => Method::Adversarial,
            DaArg::Grl => Method::Grl,
            DaArg::Mmd => Method::Mmd,
            DaArg::Coral => Method::Coral,
        }
    }
}

/// `synthfeat train` options. Flags left out take their value from `--config`,
/// or on `--resume` from the run's `config.json`, or else the built-in defaults
/// (`--print-default-config`).
#[derive(Args)]
pub struct TrainArgs {
    /// Run folder: config.json, metrics.jsonl, curves.png, predictions.png, checkpoints.
    #[arg(long, required_unless_present = "print_default_config")]
    out: Option<PathBuf>,
    /// Dataset folder written by `synthfeat generate`.
    #[arg(long, conflicts_with = "live")]
    data: Option<PathBuf>,
    /// Train on frames rendered live in this process (no disk) instead of --data.
    #[arg(long)]
    live: bool,
    /// Training config (TOML); flags override it.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Continue the run in --out from its last checkpoint (same settings; --steps may grow).
    #[arg(long)]
    resume: bool,
    /// Print the default training config as TOML and exit.
    #[arg(long)]
    print_default_config: bool,
    /// Backend.
    #[arg(long, value_enum, default_value_t = DeviceArg::Cpu)]
    device: DeviceArg,
    /// Encoder [default: small].
    #[arg(long, value_enum)]
    backbone: Option<BackboneArg>,
    /// Tasks, comma-separated [default: depth,normal,contour]. Synthetic:
    /// depth, normal, contour; pretext (any images): rotation, jigsaw,
    /// relative-position, colorization, inpainting, next-pixel; contrastive:
    /// simclr ([pretext.simclr] in --config).
    #[arg(long, value_delimiter = ',')]
    tasks: Option<Vec<String>>,
    /// A task's loss weight, `name=w` (repeatable) [default: depth 5, normal
    /// 10, contour 1, each pretext task 1].
    #[arg(long, value_name = "NAME=W")]
    task_weight: Vec<String>,
    /// Training crop size, pixels (small: multiple of 16; alexnet: 32·k+3, e.g. 227) [default: 64].
    #[arg(long)]
    size: Option<usize>,
    /// Samples per batch [default: 8].
    #[arg(long)]
    batch: Option<usize>,
    /// Optimisation steps of the whole run [default: 100].
    #[arg(long)]
    steps: Option<u64>,
    /// Wall-clock budget: stop (validating and checkpointing) after this many
    /// minutes of training in this call, even before --steps.
    #[arg(long)]
    max_minutes: Option<f64>,
    /// Channels of conv1 of the small backbone [default: 16].
    #[arg(long)]
    width: Option<usize>,
    /// Labels at 1/N of the input resolution: 1, 2, 4, 8 or 16 [default: 4].
    #[arg(long)]
    label_scale: Option<usize>,
    /// Adam learning rate [default: 0.001].
    #[arg(long)]
    lr: Option<f64>,
    /// Validate and redraw the PNGs every N steps, and at the end [default: 50].
    #[arg(long)]
    val_every: Option<u64>,
    /// Write a checkpoint every N steps, and at the end [default: 100].
    #[arg(long)]
    checkpoint_every: Option<u64>,
    /// Percentage of scenes held out for validation [default: 10].
    #[arg(long)]
    val_percent: Option<u64>,
    /// Seed of initialisation, shuffling and augmentation (live: also of the scenes) [default: 0].
    #[arg(long)]
    seed: Option<u64>,
    /// Live mode: rendered image size, at least --size [default: 128].
    #[arg(long)]
    render_size: Option<u32>,
    /// Live mode: views per scene [default: 4].
    #[arg(long)]
    views: Option<u32>,
    /// Live mode: held-out validation frames, rendered from another seed first [default: 32].
    #[arg(long)]
    val_frames: Option<u64>,
    /// Live mode: scene randomisation config (TOML).
    #[arg(long)]
    scene_config: Option<PathBuf>,
    /// Live mode: a folder of PNG / JPEG photographs used as albedo textures
    /// (repeatable; e.g. the --real images, for pixel-level randomisation toward them).
    #[arg(long = "textures", value_name = "DIR")]
    textures: Vec<PathBuf>,
    /// Live mode: a folder of glTF / OBJ meshes placed as furniture and clutter
    /// (repeatable; see `generate --assets`).
    #[arg(long = "assets", value_name = "DIR")]
    assets: Vec<PathBuf>,
    /// Real, unlabelled images for domain adaptation and the domain-gap metric,
    /// or without --data and --live the training images of the pretext tasks:
    /// a folder (searched recursively for PNG/JPEG), an image file or an IDX
    /// image file (gzip or not). Repeat to mix sources.
    #[arg(long, value_name = "PATH")]
    real: Vec<PathBuf>,
    /// Domain adaptation toward --real [default: none].
    #[arg(long, value_enum)]
    da: Option<DaArg>,
    /// Backbone layer to adapt and to measure the domain gap at [default: conv5].
    #[arg(long)]
    da_layer: Option<String>,
    /// Weight λ of the adaptation loss [default: adversarial 0.05, grl 0.1 (λ's
    /// final value), mmd 0.1, coral 10].
    #[arg(long)]
    da_weight: Option<f64>,
    /// With --device wgpu: skip the check that one step's gradients on this
    /// model and batch shape match the CPU's.
    #[arg(long)]
    skip_backend_check: bool,
}

impl TrainArgs {
    /// The base config (saved run, file or defaults) with the flags applied.
    fn config(&self, out: &Path) -> Result<TrainConfig> {
        let mut c = if self.resume {
            trainer::run::saved_config(out).context("--resume")?
        } else if let Some(path) = &self.config {
            TrainConfig::from_toml_file(path)?
        } else {
            TrainConfig::default()
        };
        macro_rules! set {
            ($($field:ident),*) => {$(if let Some(v) = &self.$field { c.$field = v.clone(); })*};
        }
        set!(
            tasks,
            size,
            batch,
            steps,
            width,
            label_scale,
            lr,
            val_every,
            checkpoint_every,
            val_percent,
            seed
        );
        if let Some(b) = self.backbone {
            c.backbone = b.into();
        }
        if self.max_minutes.is_some() {
            c.max_minutes = self.max_minutes;
        }
        if let Some(v) = self.render_size {
            c.live.render_size = v;
        }
        if let Some(v) = self.views {
            c.live.views = v;
        }
        if let Some(v) = self.val_frames {
            c.live.val_frames = v;
        }
        if let Some(v) = self.da {
            c.adapt.method = v.into();
        }
        if let Some(v) = &self.da_layer {
            c.adapt.layer = v.clone();
        }
        if self.da_weight.is_some() {
            c.adapt.weight = self.da_weight;
        }
        for pair in &self.task_weight {
            let (name, w) = pair.split_once('=').with_context(|| {
                format!("--task-weight {pair}: write NAME=WEIGHT, e.g. rotation=0.5")
            })?;
            let w: f64 = w
                .trim()
                .parse()
                .ok()
                .filter(|w: &f64| w.is_finite() && *w >= 0.0)
                .with_context(|| {
                    format!("--task-weight {pair}: `{w}` is not a weight (a number ≥ 0)")
                })?;
            if !c.weights.set(name.trim(), w) {
                bail!(
                    "--task-weight {pair}: unknown task `{name}` (known: {})",
                    trainer::tasks::TASK_NAMES.join(", ")
                );
            }
        }
        c.validate().map_err(flag_error)?;
        if self.live {
            c.validate_live().map_err(flag_error)?;
        }
        Ok(c)
    }
}

/// A config error that names the flag too (`batch` → `--batch (batch)`), since
/// the value may have come from either.
fn flag_error(e: ConfigError) -> anyhow::Error {
    match e {
        ConfigError::Invalid { field, message } if field.starts_with("pretext.") => {
            anyhow::anyhow!("`{field}` (in the training config) {message}")
        }
        ConfigError::Invalid { field, message } => {
            let flag = match field {
                "adapt.layer" => "da-layer".to_string(),
                "adapt.weight" => "da-weight".to_string(),
                f => f.trim_start_matches("live.").replace('_', "-"),
            };
            anyhow::anyhow!("--{flag} (`{field}` in the config) {message}")
        }
        other => other.into(),
    }
}

/// Runs `synthfeat train`.
pub fn run(a: TrainArgs) -> Result<()> {
    if a.print_default_config {
        print!("{}", TrainConfig::default().to_toml());
        return Ok(());
    }
    // From here SIGTERM / SIGINT end the run after a checkpoint of the step in hand.
    crate::signals::install();
    let Some(out) = a.out.clone() else {
        bail!("--out is required");
    };
    if a.data.is_none() && !a.live && a.real.is_empty() {
        bail!(
            "give --data DIR (shards from `synthfeat generate`), --live, or --real PATH (real \
             images alone, for the pretext tasks)"
        );
    }
    let config = a.config(&out)?;
    let real_only = a.data.is_none() && !a.live;
    if real_only {
        let synthetic: Vec<&str> = config
            .tasks
            .iter()
            .map(String::as_str)
            .filter(|t| trainer::tasks::SYNTHETIC_NAMES.contains(t))
            .collect();
        if !synthetic.is_empty() {
            bail!(
                "--tasks {}: {} need labelled synthetic frames (--data or --live); with --real \
                 alone only the pretext tasks train: {}",
                config.tasks.join(","),
                synthetic.join(", "),
                trainer::tasks::PRETEXT_NAMES.join(", ")
            );
        }
        if config.adapt.method != Method::None {
            bail!(
                "--da {} adapts synthetic training toward --real; with --real alone there is \
                 nothing to adapt (add --data or --live)",
                config.adapt.method
            );
        }
    }
    if config.adapt.method != Method::None && a.real.is_empty() {
        bail!(
            "--da {} adapts toward real images: give them with --real PATH (a folder of PNG/JPEG \
             files or an IDX image file)",
            config.adapt.method
        );
    }
    if matches!(a.device, DeviceArg::Wgpu) && !a.skip_backend_check {
        check_wgpu(&config)?;
    }
    a.device.dispatch(TrainJob {
        a: &a,
        out: &out,
        config: &config,
    })
}

/// Refuses to train on wgpu when one step of this model and batch shape gives
/// other gradients than the CPU (burn 0.21's wgpu convolution weight gradients
/// are wrong at some batch × map sizes), and warns when they differ by more
/// than float32 summation order explains on lavapipe.
fn check_wgpu(config: &TrainConfig) -> Result<()> {
    // Differences past this are a wrong kernel: the known defects measured
    // 3.4e-1 (a weight gradient) and 20–70 % (single sums).
    const REFUSE: f64 = 1e-2;
    // lavapipe agrees within this at every shape the tests run (the CPU
    // against itself on a reversed batch: 1.5e-6); a GPU's own reduction
    // order and matmul precision may exceed it (an H200: 3.56e-3).
    const WARN: f64 = 1e-3;
    eprintln!(
        "checking one training step on wgpu against the CPU (--skip-backend-check skips this)"
    );
    let (what, error) = trainer::agreement::compare::<Autodiff<Flex>, Autodiff<Wgpu>>(
        &config.model_config(),
        config.batch,
        config.size,
        &Default::default(),
        &Default::default(),
    )?;
    let shape = format!(
        "--batch {}, --size {}, --label-scale {}",
        config.batch, config.size, config.label_scale
    );
    if error > REFUSE {
        bail!(
            "--device wgpu computes a training step that disagrees with the CPU for this model and \
             batch shape ({shape}): {what} is off by {error:.2e} (relative; refused above \
             {REFUSE:.0e}), a defect of burn 0.21's wgpu backend at some sizes. Use --device \
             cpu, or another --batch, --size or --label-scale"
        );
    }
    if error > WARN {
        eprintln!(
            "warning: on wgpu, {what} differs from the CPU's by {error:.2e} (relative) for this \
             batch shape ({shape}): more than float32 summation order gives on lavapipe \
             ({WARN:.0e}), less than a wrong kernel ({REFUSE:.0e}); training goes on"
        );
    }
    Ok(())
}

/// `synthfeat train` once the config is known, on any backend.
struct TrainJob<'a> {
    a: &'a TrainArgs,
    out: &'a Path,
    config: &'a TrainConfig,
}

impl OnBackend for TrainJob<'_> {
    type Output = Result<()>;

    fn run<B: AutodiffBackend>(self, device: B::Device) -> Result<()> {
        train::<B>(self.a, self.out, self.config, device)
    }
}

/// Progress bar with steps/s, samples/s and each task's loss.
struct Bar(indicatif::ProgressBar);

impl Progress for Bar {
    fn start(&mut self, first: u64, last: u64) {
        self.0.set_length(last);
        self.0.set_position(first.saturating_sub(1));
        self.0.reset_eta();
    }

    fn step(&mut self, step: u64, r: &StepReport, samples_per_s: f64) {
        let tasks: Vec<String> = r
            .tasks
            .iter()
            .map(|t| format!("{} {:.3}", t.name, t.loss))
            .collect();
        self.0.set_message(format!(
            "{samples_per_s:.1} samples/s, loss {:.3} ({})",
            r.loss,
            tasks.join(", ")
        ));
        self.0.set_position(step);
    }

    fn note(&mut self, text: &str) {
        self.0.println(text);
    }

    fn stop_requested(&mut self) -> bool {
        crate::signals::received().is_some()
    }
}

/// Held-out frames for live training: rendered from another seed, centre-cropped.
fn live_validation(c: &TrainConfig, scene: &scenes::Config) -> Result<Vec<engine::Sample>> {
    let settings = engine::RenderSettings::new(c.live.render_size, scene);
    let n = c.live.val_frames;
    let plan = engine::plan::Plan {
        seed: c.seed ^ 0x5EED_0F0A_11DA_7A00,
        views: c.live.views,
        count: n,
        shard_size: n.max(1),
    };
    let job = engine::render::RenderJob::generated(scene.clone(), plan, settings, 0..n);
    let mut val = Vec::new();
    for s in engine::render::render(job)? {
        let s = s?;
        let (w, h, k) = (s.meta.width as usize, s.meta.height as usize, c.size);
        val.push(trainer::augment::crop(&s, (w - k) / 2, (h - k) / 2, k).unwrap_or(s));
    }
    Ok(val)
}

fn train<B: AutodiffBackend>(
    a: &TrainArgs,
    out: &Path,
    c: &TrainConfig,
    device: B::Device,
) -> Result<()> {
    let scene =
        crate::generate::load_scene_config(a.scene_config.as_deref(), &a.textures, &a.assets)?;
    // Real images first: their errors are cheap to find.
    let real = if a.real.is_empty() {
        None
    } else {
        let images = RealImages::open(&a.real, c.size).context("--real")?;
        for line in images.describe() {
            eprintln!("real images: {line}");
        }
        let canonical: Vec<PathBuf> = a
            .real
            .iter()
            .map(|p| p.canonicalize().unwrap_or_else(|_| p.clone()))
            .collect();
        Some((std::sync::Arc::new(images), canonical))
    };
    let (mut source, val) = match &a.data {
        None if !a.live => (serde_json::json!({}), Vec::new()),
        Some(dir) => {
            let canonical = dir
                .canonicalize()
                .with_context(|| format!("--data {}", dir.display()))?;
            let val = validation_samples(dir, c.val_percent, c.size, c.val_samples)
                .with_context(|| format!("reading {}", dir.display()))?;
            (serde_json::json!({"data": canonical}), val)
        }
        None => (
            serde_json::json!({"live": {"scene_config": a.scene_config, "scene_config_hash": scene.hash_hex()}}),
            live_validation(c, &scene)?,
        ),
    };
    if val.is_empty() && (a.data.is_some() || a.live) {
        eprintln!("warning: no validation samples (raise --val-percent or generate more scenes)");
    }
    if let Some((_, paths)) = &real {
        source["real"] = serde_json::json!(paths);
    }
    let real = real.map(|(images, _)| images);
    let (real_val, real_val_skipped) = match &real {
        Some(r) => r.held_out(c.val_samples),
        None => (Vec::new(), 0),
    };
    if real_val_skipped > 0 {
        eprintln!(
            "warning: {real_val_skipped} held-out real images could not be decoded and were skipped"
        );
    }
    let mut data = |seen: u64| -> Result<TrainBatches, DataError> {
        match (&a.data, a.live, &real) {
            (Some(dir), _, _) => train_batches(dir, c.data_options(seen)).map(|b| b.boxed()),
            (None, true, _) => {
                let settings = engine::RenderSettings::new(c.live.render_size, &scene);
                engine::stream_from(scene.clone(), c.seed, c.live.views, settings, seen)
                    .map(|s| batches_from(s, c.data_options(0)).boxed())
                    .map_err(|e| DataError::Source(e.to_string()))
            }
            (None, false, Some(images)) => {
                let stream = images.clone().stream(c.batch, c.seed ^ seen, 4);
                Ok(Box::new(std::iter::from_fn(move || {
                    Some(
                        stream
                            .next_batch()
                            .map(HostBatch::Images)
                            .map_err(|e| DataError::Source(e.to_string())),
                    )
                })))
            }
            (None, false, None) => Err(DataError::Source("no training images".into())),
        }
    };
    let run = Run {
        dir: out,
        config: c,
        source,
        resume: a.resume,
    };
    let bar = crate::progress::bar(
        c.steps,
        "[{elapsed_precise}] {bar:30} {pos}/{len} steps ({per_sec}) {msg}",
    );
    let mut progress = Bar(bar.clone());
    let mut extra: Box<dyn ExtraObjective<B>> = match (&real, c.adapt.method) {
        (Some(images), method) if method != Method::None => {
            let done = if a.resume {
                trainer::checkpoint::latest(out)
                    .map(|s| s.step)
                    .unwrap_or(0)
            } else {
                0
            };
            let channels = c
                .backbone_config()
                .layer_channels(&c.adapt.layer)
                .with_context(|| format!("--da-layer {}", c.adapt.layer))?;
            let stream = images.clone().stream(c.batch, c.seed ^ done, 4);
            Box::new(DomainObjective::<B>::new(
                &c.adapt,
                channels,
                stream,
                c.size,
                (done, c.steps),
                c.seed,
                &device,
            )?)
        }
        _ => Box::new(NoExtra),
    };
    let summary = fit::<B>(
        &run,
        &device,
        &mut data,
        &val,
        &real_val,
        extra.as_mut(),
        &mut progress,
    );
    bar.finish_and_clear();
    let summary = summary.with_context(|| format!("training run {}", out.display()))?;
    if summary.interrupted && crate::signals::received().is_some() {
        return Err(crate::signals::Stopped::new(format!(
            "after step {}: its checkpoint is in {}; run the same command with --resume to carry on",
            summary.steps,
            out.display()
        ))
        .into());
    }
    println!(
        "trained to step {} ({} new steps, {:.1} samples/s); run folder {}",
        summary.steps,
        summary.new_steps,
        summary.samples_per_s,
        out.display()
    );
    if let Some(v) = summary.validation {
        println!("validation ({} samples): {}", v.samples, v.summary());
    }
    if let Some(g) = summary.domain_gap {
        println!(
            "domain gap at {} ({} real images held out): {}",
            c.adapt.layer,
            real_val.len(),
            g.summary()
        );
    }
    Ok(())
}
