//! `synthfeat`: headless synthetic data generation and multitask training from the command line.

mod bench;
mod bench_processes;
mod bench_profile;
mod bench_train;
mod compare;
mod eval;
mod export;
mod generate;
mod malloc;
mod preview;
mod progress;
mod rss;
mod signals;
mod stats;
mod train;
mod write_file;

use anyhow::Result;
use clap::{Parser, Subcommand};

/// Learn visual features from synthetic images: render labelled procedural
/// scenes headlessly, write WebDataset shards, preview them.
#[derive(Parser)]
#[command(name = "synthfeat", version, about, long_about = None)]
#[command(after_help = "Examples:
  synthfeat generate --out data --count 64 --size 128
  synthfeat preview --data data --out sheet.png
  synthfeat stats --data data
  synthfeat bench render --size 256 --frames 200
  synthfeat bench train --size 128 --batch 16
  synthfeat bench profile --size 128 --batch 16
  synthfeat scene --seed 3
  synthfeat train --data data --out runs/a --steps 200
  synthfeat train --data data --out runs/a --steps 400 --resume
  synthfeat train --data data --out runs/p --tasks depth,rotation,jigsaw
  synthfeat train --real photos/ --out runs/r --tasks rotation,colorization
  synthfeat export --run runs/a --out encoder.safetensors
  synthfeat eval probe --run runs/a --data /usr/share/datasets/fashion-mnist --limit-per-class 500
  synthfeat compare --config compare.toml --out report")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Render a labelled dataset into WebDataset shards (resumable, fan-out ready).
    Generate(generate::GenerateArgs),
    /// Write a contact sheet of a dataset: RGB | depth | normals | instances | contours.
    Preview(preview::PreviewArgs),
    /// What a dataset's frames show: object pixel share, visible objects, depth range,
    /// contour share and brightness (median and quartiles).
    Stats(stats::StatsArgs),
    /// Measure throughput.
    Bench {
        #[command(subcommand)]
        what: bench::BenchCommand,
    },
    /// Print the scene description (JSON) of one seed.
    Scene(generate::SceneArgs),
    /// Write the built-in mesh library of everyday objects (mugs, bottles, books,
    /// plants, stools, …) as .glb files, for `--assets`.
    MakeAssets(generate::MakeAssetsArgs),
    /// Train the shared encoder on shards, a live render stream or real images: synthetic
    /// tasks (depth, normal, contour) and pretext tasks (rotation, jigsaw, …), optionally
    /// adapting toward real images.
    Train(Box<train::TrainArgs>),
    /// Write a run's encoder as .safetensors with PyTorch-style names (conv1.weight, …).
    Export(export::ExportArgs),
    /// Pretrain under several task sets and compare their transfer in one table.
    Compare(compare::CompareArgs),
    /// Evaluate an encoder on real images (linear probe, fine-tuning, real depth).
    Eval {
        #[command(subcommand)]
        what: eval::EvalCommand,
    },
}

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SYNTHFEAT_LOG").unwrap_or_else(|_| {
                tracing_subscriber::EnvFilter::new("warn,wgpu=error,naga=error")
            }),
        )
        .with_writer(std::io::stderr)
        .init();
    if let Err(e) = run(Cli::parse()) {
        if let Some(stop) = e.downcast_ref::<signals::Stopped>() {
            eprintln!("{stop}");
            std::process::exit(128 + stop.signal);
        }
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Generate(args) => generate::run(args),
        Command::Preview(args) => preview::run(args),
        Command::Stats(args) => stats::run(args),
        Command::Bench { what } => bench::run(what),
        Command::Scene(args) => generate::scene(args),
        Command::MakeAssets(args) => generate::make_assets(args),
        Command::Train(args) => train::run(*args),
        Command::Export(args) => export::run(args),
        Command::Eval { what } => eval::run(what),
        Command::Compare(args) => compare::run(args),
    }
}
