//! `synthfeat compare`: pretrain the same backbone under several task sets
//! (with or without adaptation), probe each on real labelled sets (and score
//! real depth), and write one table. Resumable: finished entries and probes
//! are read back, not redone.

use anyhow::{Context, Result, bail};
use clap::{Args, Parser};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::signals::Stopped;
use trainer::compare::{self, CompareConfig, Metric, RowResult, slug};

/// `synthfeat compare` options.
#[derive(Args)]
pub struct CompareArgs {
    /// The comparison (TOML) [default: the built-in one, `--print-default-config`].
    #[arg(long)]
    config: Option<PathBuf>,
    /// Report folder: runs/, table.md, results.json, comparison.png.
    #[arg(long, required_unless_present = "print_default_config")]
    out: Option<PathBuf>,
    /// Runs per entry (and random-init backbones), seeded seed, seed + 1, …
    /// [default: the config's `seeds`].
    #[arg(long)]
    seeds: Option<u64>,
    /// Print the built-in compare.toml and exit.
    #[arg(long)]
    print_default_config: bool,
}

/// Parses a sub-command's flags as the command line would.
#[derive(Parser)]
struct Sub<T: Args> {
    #[command(flatten)]
    args: T,
}

fn parse<T: Args>(argv: &[String]) -> Result<T> {
    let mut full = vec!["synthfeat".to_string()];
    full.extend_from_slice(argv);
    Ok(Sub::<T>::try_parse_from(full)?.args)
}

fn s(p: &Path) -> String {
    p.to_string_lossy().to_string()
}

/// Marks a run whose training finished its budget.
const DONE: &str = "compare-trained.json";

/// Trains `entry` with `seed` into `dir` unless it finished before (an
/// interrupted entry resumes from its checkpoint).
fn train_entry(c: &CompareConfig, entry: &compare::Entry, seed: u64, dir: &Path) -> Result<()> {
    if dir.join(DONE).is_file()
        && let Ok(state) = trainer::checkpoint::latest(dir)
    {
        eprintln!("{}: trained already (step {})", entry.name, state.step);
        return Ok(());
    }
    let resume = trainer::checkpoint::latest(dir).is_ok();
    let mut argv = vec![
        "--out".into(),
        s(dir),
        "--steps".into(),
        c.steps.to_string(),
        "--seed".into(),
        seed.to_string(),
        "--tasks".into(),
        entry.tasks.join(","),
    ];
    let real = |argv: &mut Vec<String>| {
        for r in &c.real {
            argv.extend(["--real".into(), s(r)]);
        }
    };
    match (entry.source, &c.data, c.live) {
        (compare::Source::Real, _, _) => real(&mut argv),
        (_, _, true) => argv.push("--live".into()),
        (_, Some(d), false) => argv.extend(["--data".into(), s(d)]),
        (_, None, false) => bail!("compare config: no `data` and not `live`"),
    }
    if let Some(da) = &entry.da {
        argv.extend(["--da".into(), da.clone()]);
        if entry.source == compare::Source::Synthetic {
            real(&mut argv);
        }
    }
    if let Some(w) = entry.da_weight {
        argv.extend(["--da-weight".into(), w.to_string()]);
    }
    argv.extend(c.train_args.iter().cloned());
    argv.extend(entry.train_args.iter().cloned());
    if let Some(m) = c.minutes {
        argv.extend(["--max-minutes".into(), m.to_string()]);
    }
    if resume {
        argv.push("--resume".into());
    }
    let budget = match c.minutes {
        Some(m) => format!("{m} minutes, at most {} steps", c.steps),
        None => format!("{} steps", c.steps),
    };
    eprintln!(
        "{} (seed {seed}): training {budget} ({})",
        entry.name,
        entry.tasks.join(", ")
    );
    if let Err(e) = crate::train::run(parse(&argv)?) {
        if e.downcast_ref::<Stopped>().is_some() {
            return Err(stopped(&format!("entry `{}` seed {seed}", entry.name)));
        }
        return Err(e.context(format!("entry `{}` seed {seed}", entry.name)));
    }
    let state = trainer::checkpoint::latest(dir)?;
    let done = serde_json::json!({"step": state.step, "budget": budget});
    crate::write_file::write_file(&dir.join(DONE), (done.to_string() + "\n").as_bytes())?;
    Ok(())
}

/// The error of a compare stopped by SIGTERM / SIGINT during `what`.
fn stopped(what: &str) -> anyhow::Error {
    Stopped::new(format!(
        "during {what}: its checkpoint and every finished entry and probe are kept; run the \
         same compare command again to carry on"
    ))
    .into()
}

/// Fails with [`Stopped`] once SIGTERM / SIGINT came.
fn check_stop(what: &str) -> Result<()> {
    match crate::signals::received() {
        Some(_) => Err(stopped(what)),
        None => Ok(()),
    }
}

/// The probe results of one row on one set (`run` a folder or `random`):
/// (linear, k-NN) test top-1 per layer.
fn probe_row(
    set: &compare::ProbeSet,
    run: &str,
    like: &Path,
    json: &Path,
    seed: u64,
) -> Result<BTreeMap<String, (f64, f64)>> {
    if !json.is_file() {
        let mut argv = vec![
            "--run".into(),
            run.into(),
            "--data".into(),
            s(&set.path),
            "--seed".into(),
            seed.to_string(),
            "--json".into(),
            s(json),
        ];
        if run == "random" {
            argv.extend(["--like".into(), s(like)]);
        }
        if let Some(f) = &set.format {
            argv.extend(["--format".into(), f.clone()]);
        }
        if let Some(n) = set.limit_per_class {
            argv.extend(["--limit-per-class".into(), n.to_string()]);
        }
        if let Some(n) = set.test_limit_per_class {
            argv.extend(["--test-limit-per-class".into(), n.to_string()]);
        }
        if let Some(n) = &set.norm_stats {
            argv.extend(["--norm-stats".into(), n.clone()]);
        }
        if let Some(l) = &set.layers {
            argv.extend(["--layers".into(), l.join(",")]);
        }
        crate::eval::run(crate::eval::EvalCommand::Probe(parse(&argv)?))
            .with_context(|| format!("probing {run} on {}", set.name))?;
        check_stop(&format!("the probe of {run} on {}", set.name))?;
    }
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(json)?)
        .with_context(|| format!("reading {}", json.display()))?;
    Ok(v["result"]["layers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|l| {
            Some((
                l["layer"].as_str()?.to_string(),
                (l["top1"]["test"].as_f64()?, l["knn_top1"].as_f64()?),
            ))
        })
        .collect())
}

/// Real depth of a run: (abs-rel, δ<1.25) of the run's row and of the
/// random-init row (initialised with `seed`).
fn depth_rows(
    d: &compare::DepthSet,
    run: &Path,
    json: &Path,
    seed: u64,
) -> Result<((f64, f64), (f64, f64))> {
    if !json.is_file() {
        let mut argv = vec![
            "--run".into(),
            s(run),
            "--data".into(),
            s(&d.path),
            "--seed".into(),
            seed.to_string(),
            "--json".into(),
            s(json),
        ];
        if let (Some(f), Some(b)) = (d.focal_px, d.baseline_mm) {
            argv.extend([
                "--focal-px".into(),
                f.to_string(),
                "--baseline-mm".into(),
                b.to_string(),
            ]);
            argv.extend(["--doffs".into(), d.doffs.unwrap_or(0.0).to_string()]);
        }
        crate::eval::run(crate::eval::EvalCommand::Depth(parse(&argv)?))?;
    }
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(json)?)?;
    let row = |i: usize| -> Option<(f64, f64)> {
        let m = &v["rows"][i]["metrics"];
        Some((m["abs_rel"].as_f64()?, m["delta1"].as_f64()?))
    };
    match (row(0), row(1)) {
        (Some(a), Some(b)) => Ok((a, b)),
        _ => bail!("{}: no depth rows", json.display()),
    }
}

/// Runs `synthfeat compare`.
pub fn run(a: CompareArgs) -> Result<()> {
    if a.print_default_config {
        print!("{}", compare::DEFAULT_CONFIG);
        return Ok(());
    }
    let Some(out) = a.out else {
        bail!("--out is required")
    };
    let mut c = match &a.config {
        Some(p) => CompareConfig::from_file(p)?,
        None => CompareConfig::parse(
            compare::DEFAULT_CONFIG,
            Path::new("(built-in compare.toml)"),
            Path::new("."),
        )?,
    };
    if let Some(n) = a.seeds {
        if n == 0 {
            bail!("--seeds must be at least 1, got 0");
        }
        c.seeds = n;
    }
    for set in &c.probe {
        if !set.path.is_dir() {
            bail!(
                "probe set `{}`: {}: no such folder",
                set.name,
                set.path.display()
            );
        }
    }
    let runs = out.join("runs");
    std::fs::create_dir_all(&runs).with_context(|| format!("creating {}", runs.display()))?;
    crate::write_file::write_file(
        &out.join("compare.json"),
        (serde_json::to_string_pretty(&c)? + "\n").as_bytes(),
    )?;
    // From here SIGTERM / SIGINT stop after the step or probe in hand.
    crate::signals::install();
    let seeds: Vec<u64> = (0..c.seeds).map(|k| c.seed + k).collect();
    let mut random_probes = vec![BTreeMap::new(); seeds.len()];
    let mut random_depth = Vec::new();
    let mut rows = Vec::new();
    for (k, entry) in c.entry.iter().enumerate() {
        eprintln!("== entry {}/{}: {}", k + 1, c.entry.len(), entry.name);
        let mut probes = Vec::new();
        let mut depth = Vec::new();
        for (i, &seed) in seeds.iter().enumerate() {
            let dir = runs.join(slug(&entry.name)).join(format!("seed-{seed}"));
            train_entry(&c, entry, seed, &dir)?;
            let mut probe = BTreeMap::new();
            for set in &c.probe {
                let json = dir.join(format!("probe-{}.json", slug(&set.name)));
                probe.insert(
                    set.name.clone(),
                    probe_row(set, &s(&dir), &dir, &json, seed)?,
                );
                if k == 0 {
                    let json = runs
                        .join("random")
                        .join(format!("seed-{seed}"))
                        .join(format!("probe-{}.json", slug(&set.name)));
                    std::fs::create_dir_all(json.parent().unwrap_or(&runs))?;
                    random_probes[i].insert(
                        set.name.clone(),
                        probe_row(set, "random", &dir, &json, seed)?,
                    );
                }
            }
            probes.push(probe);
            if let Some(d) = &c.depth
                && entry.tasks.iter().any(|t| t == "depth")
            {
                let (mine, random) = depth_rows(d, &dir, &dir.join("depth-real.json"), seed)?;
                check_stop(&format!("the depth scoring of {}", dir.display()))?;
                depth.push(mine);
                if random_depth.len() < seeds.len() {
                    random_depth.push(random);
                }
            }
        }
        rows.push(RowResult::from_seeds(&entry.name, &probes, &depth));
    }
    rows.insert(
        0,
        RowResult::from_seeds("random init", &random_probes, &random_depth),
    );
    let sets: Vec<(String, Vec<String>)> = c
        .probe
        .iter()
        .map(|p| {
            let mut layers: Vec<String> = rows
                .iter()
                .flat_map(|r| {
                    r.probe
                        .get(&p.name)
                        .into_iter()
                        .flat_map(|m| m.keys().cloned())
                })
                .collect();
            layers.sort();
            layers.dedup();
            (p.name.clone(), layers)
        })
        .collect();
    let linear = compare::table(&rows, &sets, Metric::Linear);
    let knn = compare::table(&rows, &sets, Metric::Knn);
    let summary = compare::summary(&rows, &sets);
    let header = format!(
        "# Comparison\n\nEvery entry: {}, {} ({}), {}. Cells: test top-1, mean ± standard \
         deviation over the seeds; best mean per column in bold; ° marks a difference from \
         random init within the two spreads.\n\n{summary}\n## Linear probe\n\n",
        match c.minutes {
            Some(m) => format!("{m} minutes of training (at most {} steps)", c.steps),
            None => format!("{} training steps", c.steps),
        },
        if seeds.len() == 1 {
            "1 seed".to_string()
        } else {
            format!("{} seeds", seeds.len())
        },
        seeds
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(", "),
        if c.live {
            "live frames".to_string()
        } else {
            format!("data {}", c.data.as_deref().map(s).unwrap_or_default())
        }
    );
    let text = format!("{header}{linear}\n## k-NN probe (cosine, k = 20)\n\n{knn}");
    crate::write_file::write_file(&out.join("table.md"), text.as_bytes())?;
    crate::write_file::write_file(
        &out.join("results.json"),
        (serde_json::to_string_pretty(&rows)? + "\n").as_bytes(),
    )?;
    compare::chart(&rows, &sets, &out.join("comparison.png")).map_err(|e| anyhow::anyhow!(e))?;
    print!("{summary}\n{linear}");
    println!(
        "report: {} (table.md, results.json, comparison.png, runs/)",
        out.display()
    );
    Ok(())
}
