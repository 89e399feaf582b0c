//! `synthfeat bench`: throughput measurements.

use anyhow::{Result, bail};
use clap::{Args, Subcommand};
use std::time::Instant;

use crate::generate::SceneConfigArgs;
use engine::RenderSettings;
use engine::plan::Plan;
use engine::render::{RenderJob, render};
use scenes::Config;

/// What to measure.
#[derive(Subcommand)]
pub enum BenchCommand {
    /// Frames/s of RGB only and of RGB + all labels, measured in one run, and their ratio.
    Render(RenderBenchArgs),
    /// Samples/s of the training step of the tasks named (forward, backward, Adam).
    Train(crate::bench_train::TrainBenchArgs),
    /// Where the training step's time goes: every op's forward and backward, by kind.
    Profile(crate::bench_profile::ProfileArgs),
}

/// Labels of the report lines that carry a rate (RGB only, RGB + labels,
/// RGB + labels + shards), which `bench_processes` reads back from its children.
pub const RATE_LABELS: [&str; 3] = ["rgb only:", "rgb + labels:", "rgb + labels + shards:"];

/// Prints a report line with the rate `fps` under `label` (one of [`RATE_LABELS`]).
pub fn print_rate(label: &str, fps: f64, note: &str) {
    println!("{label:<22} {fps:8.2} frames/s{note}");
}

/// Which render modes a bench measures.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    /// RGB only, then RGB + labels, and their ratio.
    Both,
    /// RGB only.
    Rgb,
    /// RGB + all labels.
    Labels,
    /// RGB + labels, then the same with PNG encoding and shard writing (as `generate`).
    Write,
    /// All three.
    All,
}

/// `synthfeat bench render` options.
#[derive(Args)]
pub struct RenderBenchArgs {
    /// Image width and height, pixels.
    #[arg(long, default_value_t = 256)]
    size: u32,
    /// Frames timed per mode (after a warm-up).
    #[arg(long, default_value_t = 200)]
    frames: u64,
    /// Views per scene.
    #[arg(long, default_value_t = 4)]
    views: u32,
    /// Which modes to measure.
    #[arg(long, value_enum, default_value_t = Mode::Both)]
    mode: Mode,
    /// Frames rendered before timing starts.
    #[arg(long, default_value_t = 10)]
    warmup: u64,
    /// Frames of one scene per render pass (overrides `render.views_per_pass`).
    #[arg(long)]
    views_per_pass: Option<u32>,
    /// Shading profile, `full` or `fast` (overrides `render.profile`).
    #[arg(long)]
    profile: Option<scenes::ShadingProfile>,
    /// Base scene seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Renderer processes run at once (on a GPU, several fill it; each gets
    /// seed `--seed + i`); prints each one's rates and their sum.
    #[arg(long, default_value_t = 1)]
    processes: u32,
    #[command(flatten)]
    scene: SceneConfigArgs,
}

impl RenderBenchArgs {
    /// The scene config with the command line's overrides.
    fn config(&self) -> Result<Config> {
        let mut config = self.scene.load()?;
        if let Some(k) = self.views_per_pass {
            config.render.views_per_pass = k;
        }
        if let Some(p) = self.profile {
            config.render.profile = p;
        }
        config.validate()?;
        Ok(config)
    }
}

/// Frames/s of one mode: renders `warmup + frames` samples, times the last `frames`.
fn measure(a: &RenderBenchArgs, config: &Config, labels: bool) -> Result<(f64, String)> {
    let config = config.clone();
    let mut settings = RenderSettings::new(a.size, &config);
    settings.labels = labels;
    let plan = Plan {
        seed: a.seed,
        views: a.views,
        count: u64::MAX,
        shard_size: u64::MAX,
    };
    let total = a.warmup + a.frames;
    let stream = render(RenderJob::generated(config, plan, settings, 0..total))?;
    let adapter = stream.adapter().to_string();
    let mut start = Instant::now();
    let mut n = 0u64;
    for s in stream {
        s?;
        n += 1;
        if n == a.warmup {
            start = Instant::now();
        }
    }
    if n != total {
        bail!("renderer stopped after {n} of {total} frames");
    }
    Ok((a.frames as f64 / start.elapsed().as_secs_f64(), adapter))
}

/// Frames/s of `generate` (render, encode, write shards) into a temporary folder,
/// timed from the first written sample, like `measure`.
fn measure_writing(a: &RenderBenchArgs, config: &Config) -> Result<f64> {
    let config = config.clone();
    let settings = RenderSettings::new(a.size, &config);
    let tmp = tempfile::tempdir()?;
    let opts = engine::generate::GenerateOptions {
        out: tmp.path().join("data"),
        layout: engine::dataset::Layout::Tar,
        plan: Plan {
            seed: a.seed,
            views: a.views,
            count: a.warmup + a.frames,
            shard_size: 256,
        },
        config,
        settings,
        worker: (0, 1),
        encode_threads: 2,
        abort_after: None,
        stop: None,
    };
    let report = engine::generate::generate(&opts, &mut |_| {})?;
    Ok((report.samples.saturating_sub(1)) as f64 / report.steady_seconds.max(1e-9))
}

/// Runs a bench.
pub fn run(cmd: BenchCommand) -> Result<()> {
    match cmd {
        BenchCommand::Train(a) => crate::bench_train::run(a),
        BenchCommand::Profile(a) => crate::bench_profile::run(a),
        BenchCommand::Render(a) => {
            if a.frames == 0 || a.size == 0 || a.views == 0 || a.processes == 0 {
                bail!("--frames, --size, --views and --processes must be at least 1");
            }
            let config = a.config()?;
            println!(
                "size {0}x{0}, {1} frames per mode, {2} views per scene, {3} per pass, {4} shading",
                a.size,
                a.frames,
                a.views,
                config.render.views_per_pass,
                config.render.profile.name()
            );
            if a.processes > 1 {
                return crate::bench_processes::run(a.processes, a.seed);
            }
            let wants = |m: Mode| {
                a.mode == m || a.mode == Mode::All || (a.mode == Mode::Both && m != Mode::Write)
            };
            let mut rgb = None;
            let mut labels = None;
            if wants(Mode::Rgb) {
                let (fps, adapter) = measure(&a, &config, false)?;
                println!("adapter: {adapter}");
                print_rate(RATE_LABELS[0], fps, "");
                rgb = Some(fps);
            }
            if wants(Mode::Labels) || a.mode == Mode::Write {
                let (fps, adapter) = measure(&a, &config, true)?;
                if rgb.is_none() {
                    println!("adapter: {adapter}");
                }
                print_rate(RATE_LABELS[1], fps, "");
                labels = Some(fps);
            }
            if let (Some(rgb), Some(all)) = (rgb, labels) {
                println!(
                    "labels cost:           {:8.3}x the time of rgb only",
                    rgb / all
                );
            }
            if wants(Mode::Write) {
                let fps = measure_writing(&a, &config)?;
                print_rate(
                    RATE_LABELS[2],
                    fps,
                    " (PNG encoding and tar writing, as generate)",
                );
                if let Some(all) = labels {
                    println!(
                        "writing keeps:         {:8.3} of the render-only rate",
                        fps / all
                    );
                }
            }
            println!("{}", crate::rss::peak_rss_text());
            Ok(())
        }
    }
}
