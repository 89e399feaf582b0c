//! `synthfeat train`: multitask training on dataset shards.

use anyhow::{Context, Result, bail};
use burn::backend::{Autodiff, Flex, Wgpu};
use burn::module::AutodiffModule;
use burn::optim::AdamConfig;
use burn::tensor::backend::AutodiffBackend;
use clap::{Args, ValueEnum};
use serde_json::json;
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use trainer::batch::SyntheticBatch;
use trainer::burn;
use trainer::data::{DataOptions, ShardBatches, batches_from, train_batches, validation_samples};
use trainer::model::{SmallBackbone, SmallBackboneConfig};
use trainer::train::{MultiTaskConfig, StepReport, TaskWeights, losses, train_step};

/// Where the math runs.
#[derive(Clone, Copy, ValueEnum)]
pub enum DeviceArg {
    /// The CPU backend (burn-flex).
    Cpu,
    /// Any GPU through wgpu (Vulkan/Metal/DX12; lavapipe on a machine without one).
    Wgpu,
}

/// `synthfeat train` options.
#[derive(Args)]
pub struct TrainArgs {
    /// Run folder: config.json, metrics.jsonl and the checkpoint go here.
    #[arg(long)]
    out: PathBuf,
    /// Dataset folder written by `synthfeat generate`.
    #[arg(long, required_unless_present = "live", conflicts_with = "live")]
    data: Option<PathBuf>,
    /// Train on frames rendered live in this process (no disk) instead of --data.
    #[arg(long)]
    live: bool,
    /// Live mode: rendered image size (at least --size).
    #[arg(long, default_value_t = 128)]
    render_size: u32,
    /// Live mode: views per scene.
    #[arg(long, default_value_t = 4)]
    views: u32,
    /// Live mode: held-out validation frames, rendered from another seed before training.
    #[arg(long, default_value_t = 32)]
    val_frames: u64,
    #[command(flatten)]
    scene: crate::generate::SceneConfigArgs,
    /// Tasks, comma-separated (depth, normal, contour).
    #[arg(long, value_delimiter = ',', default_value = "depth,normal,contour")]
    tasks: Vec<String>,
    /// Training crop size, pixels (a multiple of 16, at most the dataset's image size).
    #[arg(long, default_value_t = 64)]
    size: usize,
    /// Samples per batch.
    #[arg(long, default_value_t = 8)]
    batch: usize,
    /// Optimisation steps.
    #[arg(long, default_value_t = 100)]
    steps: u64,
    /// Backend.
    #[arg(long, value_enum, default_value_t = DeviceArg::Cpu)]
    device: DeviceArg,
    /// Channels of conv1 of the small backbone.
    #[arg(long, default_value_t = 16)]
    width: usize,
    /// Labels at 1/N of the input resolution (1, 2, 4, 8 or 16).
    #[arg(long, default_value_t = 4)]
    label_scale: usize,
    /// Adam learning rate.
    #[arg(long, default_value_t = 1e-3)]
    lr: f64,
    /// Validate every N steps (and at the end).
    #[arg(long, default_value_t = 50)]
    val_every: u64,
    /// Write the checkpoint every N steps (and at the end).
    #[arg(long, default_value_t = 100)]
    checkpoint_every: u64,
    /// Percentage of scenes held out for validation.
    #[arg(long, default_value_t = 10)]
    val_percent: u64,
    /// Seed of initialisation, shuffling and augmentation.
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

fn check(a: &TrainArgs) -> Result<()> {
    if a.batch == 0 {
        bail!("--batch must be at least 1");
    }
    if a.steps == 0 {
        bail!("--steps must be at least 1");
    }
    if a.size == 0 || !a.size.is_multiple_of(SmallBackbone::<Flex>::STRIDE) {
        bail!(
            "--size {} must be a multiple of {} (the backbone's stride)",
            a.size,
            SmallBackbone::<Flex>::STRIDE
        );
    }
    if ![1, 2, 4, 8, 16].contains(&a.label_scale) {
        bail!(
            "--label-scale must be 1, 2, 4, 8 or 16, got {}",
            a.label_scale
        );
    }
    if a.live && (a.render_size as usize) < a.size {
        bail!(
            "--render-size {} must be at least --size {}",
            a.render_size,
            a.size
        );
    }
    if a.val_percent >= 100 {
        bail!("--val-percent must be below 100");
    }
    Ok(())
}

/// Runs `synthfeat train`.
pub fn run(a: TrainArgs) -> Result<()> {
    check(&a)?;
    match a.device {
        DeviceArg::Cpu => train::<Autodiff<Flex>>(&a, Default::default()),
        DeviceArg::Wgpu => train::<Autodiff<Wgpu>>(&a, Default::default()),
    }
}

/// One `metrics.jsonl` line: `base` plus every task's loss and metrics.
fn metrics_line(base: serde_json::Value, r: &StepReport) -> serde_json::Value {
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

/// Live data: held-out validation frames rendered first (from another seed),
/// then an endless stream from the renderer running in this process.
fn live_data(a: &TrainArgs, opts: DataOptions) -> Result<(ShardBatches, Vec<engine::Sample>)> {
    let config = a.scene.load()?;
    let settings = engine::RenderSettings::new(a.render_size, &config);
    let val_seed = a.seed ^ 0x5EED_0F0A_11DA_7A00;
    let plan = engine::plan::Plan {
        seed: val_seed,
        views: a.views,
        count: a.val_frames,
        shard_size: a.val_frames.max(1),
    };
    let job = engine::render::RenderJob::generated(
        config.clone(),
        plan,
        settings.clone(),
        0..a.val_frames,
    );
    let mut val = Vec::new();
    for s in engine::render::render(job)? {
        let s = s?;
        let (w, h) = (s.meta.width as usize, s.meta.height as usize);
        let c = a.size;
        val.push(trainer::augment::crop(&s, (w - c) / 2, (h - c) / 2, c).unwrap_or(s));
    }
    let stream = engine::stream(config, a.seed, a.views, settings)?;
    Ok((batches_from(stream, opts), val))
}

fn train<B: AutodiffBackend>(a: &TrainArgs, device: B::Device) -> Result<()> {
    B::seed(&device, a.seed);
    let config = MultiTaskConfig::new(
        SmallBackboneConfig::new().with_width(a.width),
        a.tasks.clone(),
    )
    .with_label_scale(a.label_scale);
    let mut model = config.init::<B>(&device)?;
    std::fs::create_dir_all(&a.out)
        .with_context(|| format!("creating run folder {}", a.out.display()))?;
    let cfg_path = a.out.join("config.json");
    std::fs::write(
        &cfg_path,
        serde_json::to_vec_pretty(&json!({
            "model": serde_json::to_value(&config)?,
            "data": a.data, "live": a.live, "size": a.size, "batch": a.batch, "steps": a.steps, "lr": a.lr,
            "seed": a.seed, "val_percent": a.val_percent, "weights": serde_json::to_value(TaskWeights::new())?,
        }))?,
    )
    .with_context(|| format!("writing {}", cfg_path.display()))?;
    let opts = DataOptions {
        batch: a.batch,
        crop: a.size,
        flip: true,
        grey_probability: 0.1,
        shuffle_buffer: 256,
        seed: a.seed,
        validation_percent: a.val_percent,
        prefetch: 4,
    };
    let (mut batches, val) = match &a.data {
        Some(dir) => (
            train_batches(dir, opts).with_context(|| format!("reading {}", dir.display()))?,
            validation_samples(dir, a.val_percent, a.size, 64)?,
        ),
        None => live_data(a, opts)?,
    };
    let val_inner = if val.is_empty() {
        eprintln!(
            "warning: no validation samples (--val-percent {})",
            a.val_percent
        );
        None
    } else {
        Some(SyntheticBatch::<B::InnerBackend>::from_samples(
            &val,
            a.label_scale,
            &device,
        )?)
    };
    let weights = TaskWeights::new();
    let mut optim = AdamConfig::new().with_beta_1(0.5).with_beta_2(0.999).init();
    let metrics_path = a.out.join("metrics.jsonl");
    let mut metrics = std::fs::File::create(&metrics_path)
        .with_context(|| format!("creating {}", metrics_path.display()))?;
    let bar = indicatif::ProgressBar::new(a.steps);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "[{elapsed_precise}] {bar:30} {pos}/{len} steps ({per_sec}) {msg}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let start = Instant::now();
    for step in 1..=a.steps {
        let samples = batches.next().context("the data pipeline stopped")??;
        let batch = SyntheticBatch::<B>::from_samples(&samples, a.label_scale, &device)?;
        let (m, report) = train_step(model, &mut optim, &batch, &weights, a.lr);
        model = m;
        if !report.loss.is_finite() {
            bail!(
                "loss became {} at step {step}; stopping (no checkpoint written for this step)",
                report.loss
            );
        }
        let sps = (step as f64 * a.batch as f64) / start.elapsed().as_secs_f64();
        let line = metrics_line(
            json!({"step": step, "split": "train", "loss": report.loss, "lr": a.lr, "samples_per_s": sps}),
            &report,
        );
        writeln!(metrics, "{line}")
            .with_context(|| format!("writing {}", metrics_path.display()))?;
        if step % a.checkpoint_every.max(1) == 0 && step < a.steps {
            trainer::checkpoint::save(model.valid(), &a.out, step)?;
        }
        bar.set_message(format!("loss {:.3}", report.loss));
        bar.inc(1);
        if let Some(vb) = &val_inner
            && (step % a.val_every.max(1) == 0 || step == a.steps)
        {
            let (_, vr) = losses(&model.valid(), vb, &weights);
            let line = metrics_line(json!({"step": step, "split": "val", "loss": vr.loss}), &vr);
            writeln!(metrics, "{line}")
                .with_context(|| format!("writing {}", metrics_path.display()))?;
            bar.println(format!("step {step}: validation {line}"));
        }
    }
    bar.finish_and_clear();
    let ckpt = trainer::checkpoint::save(model.valid(), &a.out, a.steps)?;
    println!(
        "trained {} steps in {:.1} s ({:.1} samples/s); metrics in {}, checkpoint {}",
        a.steps,
        start.elapsed().as_secs_f64(),
        a.steps as f64 * a.batch as f64 / start.elapsed().as_secs_f64(),
        metrics_path.display(),
        ckpt.display()
    );
    Ok(())
}
