//! `synthfeat bench`: throughput measurements.

use anyhow::{Result, bail};
use clap::{Args, Subcommand};
use std::time::Instant;

use crate::generate::SceneConfigArgs;
use engine::RenderSettings;
use engine::plan::Plan;
use engine::render::{RenderJob, render};

/// What to measure.
#[derive(Subcommand)]
pub enum BenchCommand {
    /// Frames/s of RGB only and of RGB + all labels, measured in one run, and their ratio.
    Render(RenderBenchArgs),
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
    #[command(flatten)]
    scene: SceneConfigArgs,
}

/// Frames/s of one mode: renders `warmup + frames` samples, times the last `frames`.
fn measure(a: &RenderBenchArgs, labels: bool) -> Result<(f64, String)> {
    let config = a.scene.load()?;
    let mut settings = RenderSettings::new(a.size, &config);
    settings.labels = labels;
    let plan = Plan {
        seed: 0,
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

/// Runs a bench.
pub fn run(cmd: BenchCommand) -> Result<()> {
    match cmd {
        BenchCommand::Render(a) => {
            if a.frames == 0 || a.size == 0 || a.views == 0 {
                bail!("--frames, --size and --views must be at least 1");
            }
            println!(
                "size {0}x{0}, {1} frames per mode, {2} views per scene",
                a.size, a.frames, a.views
            );
            let mut rgb = None;
            if a.mode != Mode::Labels {
                let (fps, adapter) = measure(&a, false)?;
                println!("adapter: {adapter}");
                println!("rgb only:     {fps:8.2} frames/s");
                rgb = Some(fps);
            }
            if a.mode != Mode::Rgb {
                let (all, adapter) = measure(&a, true)?;
                if rgb.is_none() {
                    println!("adapter: {adapter}");
                }
                println!("rgb + labels: {all:8.2} frames/s");
                if let Some(rgb) = rgb {
                    println!("labels cost:  {:8.3}x the time of rgb only", rgb / all);
                }
            }
            println!("{}", crate::rss::peak_rss_text());
            Ok(())
        }
    }
}
