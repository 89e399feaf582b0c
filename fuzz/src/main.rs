//! `synthfeat-fuzz`: fuzzes every reader of outside files (or those named)
//! for a given time, prints executions and findings per reader, and writes
//! each finding's input to the output folder.

use anyhow::{Context, Result, bail};
use clap::Parser;
use std::path::PathBuf;
use std::time::Duration;

#[global_allocator]
static ALLOCATOR: fuzz::alloc::Measuring = fuzz::alloc::Measuring;

/// Mutation fuzzing of synthfeat's readers (IDX, CIFAR, npy/npz, PFM, PNG,
/// JPEG, shards, manifests, TOML configs, run folders, OBJ, glTF).
#[derive(Parser)]
struct Args {
    /// Total wall-clock minutes, shared equally by the readers.
    #[arg(long, default_value_t = 1.0)]
    minutes: f64,
    /// Readers to fuzz, comma-separated [default: all].
    #[arg(long, value_delimiter = ',')]
    targets: Option<Vec<String>>,
    /// Seed of the mutations.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Folder for the inputs of findings (and of an abort: `current-<reader>`).
    #[arg(long, default_value = "fuzz-findings")]
    out: PathBuf,
}

fn main() -> Result<()> {
    let a = Args::parse();
    if !(a.minutes > 0.0 && a.minutes.is_finite()) {
        bail!("--minutes must be a positive number, got {}", a.minutes);
    }
    let all = fuzz::targets::all();
    let chosen: Vec<&fuzz::Target> = match &a.targets {
        None => all.iter().collect(),
        Some(names) => {
            let mut v = Vec::new();
            for n in names {
                match all.iter().find(|t| t.name == n) {
                    Some(t) => v.push(t),
                    None => bail!(
                        "--targets: unknown reader `{n}` (known: {})",
                        all.iter().map(|t| t.name).collect::<Vec<_>>().join(", ")
                    ),
                }
            }
            v
        }
    };
    std::fs::create_dir_all(&a.out).with_context(|| format!("creating {}", a.out.display()))?;
    let each = Duration::from_secs_f64(a.minutes * 60.0 / chosen.len() as f64);
    println!(
        "| reader | executions | exec/s | corpus | outcomes | largest allocation | findings |"
    );
    println!("|---|---|---|---|---|---|---|");
    let (mut total, mut found) = (0u64, 0usize);
    for t in chosen {
        let crash = a.out.join(format!("current-{}", t.name));
        let r = fuzz::fuzz(t, fuzz::Budget::Time(each), a.seed, &Some(crash.clone()));
        let _ = std::fs::remove_file(&crash);
        println!(
            "| {} | {} | {:.0} | {} | {} | {:.1} MiB | {} |",
            t.name,
            r.executions,
            r.executions as f64 / each.as_secs_f64(),
            r.corpus,
            r.outcomes,
            r.largest_allocation as f64 / (1 << 20) as f64,
            r.findings.len()
        );
        for (k, f) in r.findings.iter().enumerate() {
            let path = a.out.join(format!("{}-{k}.bin", t.name));
            std::fs::write(&path, &f.input)
                .with_context(|| format!("writing {}", path.display()))?;
            println!("  {}: {} (input: {})", t.name, f.problem, path.display());
        }
        total += r.executions;
        found += r.findings.len();
    }
    println!(
        "{total} executions in {:.1} minutes, {found} findings",
        a.minutes
    );
    if found > 0 {
        std::process::exit(1);
    }
    Ok(())
}
