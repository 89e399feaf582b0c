//! `synthfeat bench train`: samples/s of the multitask training step
//! (forward, backward and Adam over every task named by `--tasks`) on a fixed synthetic batch, so
//! the figure is the trainer's alone (no data loading).

use anyhow::{Result, bail};
use burn::optim::AdamConfig;
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{Distribution, Tensor};
use clap::Args;
use std::time::Instant;
use trainer::optim::dense_adam;

use crate::train::{BackboneArg, DeviceArg, OnBackend};
use trainer::batch::SyntheticBatch;
use trainer::config::TrainConfig;
use trainer::train::train_step;

/// The network and batch a training bench measures (shared by `bench train`
/// and `bench profile`).
#[derive(Args)]
pub struct StepArgs {
    /// Encoder.
    #[arg(long, value_enum, default_value_t = BackboneArg::Small)]
    backbone: BackboneArg,
    /// Input size, pixels.
    #[arg(long, default_value_t = 128)]
    size: usize,
    /// Samples per batch.
    #[arg(long, default_value_t = 16)]
    pub batch: usize,
    /// Small backbone: channels of conv1 (32 gives 32→256 channels).
    #[arg(long, default_value_t = 32)]
    width: usize,
    /// Labels at 1/N of the input (1 = full-resolution heads).
    #[arg(long, default_value_t = 1)]
    label_scale: usize,
    /// Backend.
    #[arg(long, value_enum, default_value_t = DeviceArg::Cpu)]
    pub device: DeviceArg,
    /// Tasks, comma-separated (any of `train --tasks`; `bench profile` times the dense heads).
    #[arg(long, value_delimiter = ',', default_value = "depth,normal,contour")]
    tasks: Vec<String>,
}

impl StepArgs {
    /// The training configuration these options describe.
    pub fn config(&self) -> Result<TrainConfig> {
        let c = TrainConfig {
            backbone: self.backbone.into(),
            width: self.width,
            size: self.size,
            batch: self.batch,
            label_scale: self.label_scale,
            tasks: self.tasks.clone(),
            ..TrainConfig::default()
        };
        c.validate()?;
        Ok(c)
    }
}

/// The network, batch and backend a bench ran, for its report's first line.
pub fn describe(c: &TrainConfig, device_name: &str) -> String {
    format!(
        "{} backbone (width {}), {}x{} input, batch {}, labels 1/{}, tasks {}, {device_name}",
        c.backbone,
        c.width,
        c.size,
        c.size,
        c.batch,
        c.label_scale,
        c.tasks.join("+")
    )
}

/// `synthfeat bench train` options.
#[derive(Args)]
pub struct TrainBenchArgs {
    #[command(flatten)]
    net: StepArgs,
    /// Timed steps (the median is reported).
    #[arg(long, default_value_t = 10)]
    steps: usize,
    /// Untimed steps first.
    #[arg(long, default_value_t = 2)]
    warmup: usize,
    /// Also print one JSON line (for scripts).
    #[arg(long)]
    json: bool,
}

/// A batch of random images and plausible labels.
pub fn random_batch<B: AutodiffBackend>(c: &TrainConfig, device: &B::Device) -> SyntheticBatch<B> {
    let (n, s) = (c.batch, c.size);
    let l = s / c.label_scale;
    let normal = Tensor::<B, 4>::random([n, 3, l, l], Distribution::Normal(0.0, 1.0), device);
    let norm = normal.clone().square().sum_dim(1).sqrt().clamp_min(1e-6);
    SyntheticBatch {
        rgb: Tensor::random([n, 3, s, s], Distribution::Uniform(0.0, 1.0), device),
        depth_m: Tensor::random([n, 1, l, l], Distribution::Uniform(0.5, 8.0), device),
        normal: normal / norm,
        valid: Tensor::ones([n, 1, l, l], device),
        contour: Tensor::random([n, 1, l, l], Distribution::Bernoulli(0.1), device),
        views: Vec::new(),
    }
}

fn measure<B: AutodiffBackend>(
    a: &TrainBenchArgs,
    c: &TrainConfig,
    device: B::Device,
) -> Result<Vec<f64>> {
    B::seed(&device, 0);
    let mut model = c.model_config().init::<B>(&device)?;
    let mut optim = dense_adam(&AdamConfig::new().with_beta_1(0.5).with_beta_2(0.999));
    let batch = random_batch::<B>(c, &device);
    // Pretext tasks learn their palette and colour prior from the batch itself.
    let images = trainer::pretext::Image::from_tensor(&batch.rgb);
    c.model_config().prepare(&mut model, &images, 0)?;
    let mut times = Vec::new();
    for i in 0..a.warmup + a.steps {
        let t = Instant::now();
        // The step reads its losses back, so it has finished when this returns.
        let (m, report) = train_step(model, &mut optim, &batch, &c.weights, c.lr, i as u64)?;
        model = m;
        if !report.loss.is_finite() {
            bail!("the loss became {} at step {}", report.loss, i + 1);
        }
        if i >= a.warmup {
            times.push(t.elapsed().as_secs_f64());
        }
    }
    Ok(times)
}

/// The timing loop, on any backend.
struct Measure<'a> {
    a: &'a TrainBenchArgs,
    c: &'a TrainConfig,
}

impl OnBackend for Measure<'_> {
    type Output = Result<Vec<f64>>;

    fn run<B: AutodiffBackend>(self, device: B::Device) -> Result<Vec<f64>> {
        measure::<B>(self.a, self.c, device)
    }
}

/// Runs `synthfeat bench train`.
pub fn run(a: TrainBenchArgs) -> Result<()> {
    if a.steps == 0 {
        bail!("--steps must be at least 1");
    }
    let c = a.net.config()?;
    let device_name = a.net.device.name();
    let mut times = a.net.device.dispatch(Measure { a: &a, c: &c })?;
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    let sps = c.batch as f64 / median;
    println!("train step, {}:", describe(&c, device_name));
    println!(
        "  median {median:.3} s/step over {} steps (min {:.3}, max {:.3}): {sps:.2} samples/s",
        times.len(),
        times[0],
        times[times.len() - 1]
    );
    if a.json {
        println!(
            "{}",
            serde_json::json!({"impl": "burn", "device": device_name, "median_s_per_step": median, "samples_per_s": sps})
        );
    }
    Ok(())
}
