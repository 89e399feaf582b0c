//! `synthfeat stats`: what a data set's frames show, before anyone trains on it.

use anyhow::{Context, Result, bail};
use clap::Args;
use std::path::PathBuf;

use engine::dataset::{DatasetReader, OnError};
use engine::stats::StatsAccumulator;

/// `synthfeat stats` options.
#[derive(Args)]
pub struct StatsArgs {
    /// Dataset folder (shards and manifest.json).
    #[arg(long)]
    data: PathBuf,
    /// Measure at most this many frames (all by default).
    #[arg(long)]
    limit: Option<u64>,
    /// Also write the figures as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
}

/// Runs `synthfeat stats`: per-frame figures over the data set, median and quartiles.
pub fn run(a: StatsArgs) -> Result<()> {
    if a.limit == Some(0) {
        bail!("--limit must be at least 1");
    }
    let reader = DatasetReader::open(&a.data)
        .with_context(|| format!("opening dataset {}", a.data.display()))?;
    let total = reader.expected_samples();
    let limit = a.limit.unwrap_or(u64::MAX);
    let bar = crate::progress::bar(
        total.unwrap_or(0).min(limit),
        "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} frames ({per_sec})",
    );
    let mut acc = StatsAccumulator::default();
    for r in reader.samples(OnError::SkipShard, 4) {
        match r {
            Ok(s) => {
                acc.add(&s);
                bar.inc(1);
            }
            Err(e) => bar.println(format!("warning: {e}")),
        }
        if acc.len() as u64 >= limit {
            break;
        }
    }
    bar.finish_and_clear();
    if acc.is_empty() {
        bail!("{} holds no readable sample", a.data.display());
    }
    let summary = acc.summary();
    println!("{summary}");
    if let Some(path) = &a.json {
        let text = serde_json::to_string_pretty(&summary)?;
        crate::write_file::write_file(path, (text + "\n").as_bytes())?;
    }
    Ok(())
}
