//! `synthfeat generate` and `synthfeat scene`.

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use std::path::PathBuf;

use engine::dataset::Layout;
use engine::plan::Plan;
use scenes::Config;

/// Shard storage on disk.
#[derive(Clone, Copy, ValueEnum)]
pub enum LayoutArg {
    /// WebDataset `.tar` shards.
    Tar,
    /// The same files unpacked, one folder per shard.
    Dir,
}

/// Options shared by commands that build scenes.
#[derive(Args, Clone)]
pub struct SceneConfigArgs {
    /// Scene randomisation config (TOML); unset keys keep their defaults.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// A folder of PNG / JPEG photographs to use as albedo textures (searched
    /// recursively; repeatable; added to `materials.texture_folders`).
    #[arg(long = "textures", value_name = "DIR")]
    pub textures: Vec<PathBuf>,
    /// A folder of glTF (.glb, .gltf) and OBJ meshes to place as furniture and
    /// clutter, a file's category being its first folder's name (searched
    /// recursively; repeatable; added to `assets.folders`).
    #[arg(long = "assets", value_name = "DIR")]
    pub assets: Vec<PathBuf>,
}

impl SceneConfigArgs {
    /// The config file (or the built-in defaults) with its texture and asset libraries scanned.
    pub fn load(&self) -> Result<Config> {
        load_scene_config(self.config.as_deref(), &self.textures, &self.assets)
    }
}

/// Adds each of `extra` to `folders` unless already there.
fn add_folders(folders: &mut Vec<String>, extra: &[PathBuf]) {
    for t in extra {
        let t = t.display().to_string();
        if !folders.contains(&t) {
            folders.push(t);
        }
    }
}

/// Reads a scene config (or the defaults), adds `textures` and `assets` to
/// its texture and asset folders and scans them into its libraries; skipped
/// files are warned about.
pub fn load_scene_config(
    path: Option<&std::path::Path>,
    textures: &[PathBuf],
    assets: &[PathBuf],
) -> Result<Config> {
    let mut config = match path {
        Some(p) => Config::from_file(p)?,
        None => Config::default(),
    };
    add_folders(&mut config.materials.texture_folders, textures);
    add_folders(&mut config.assets.folders, assets);
    scan_assets(&mut config)?;
    if config.materials.texture_folders.is_empty() {
        return Ok(config);
    }
    let folders: Vec<PathBuf> = config
        .materials
        .texture_folders
        .iter()
        .map(PathBuf::from)
        .collect();
    let (library, skipped) =
        engine::textures::scan(&folders).context("materials.texture_folders")?;
    for s in &skipped {
        eprintln!(
            "warning: skipping texture {}: {}",
            s.path.display(),
            s.reason
        );
    }
    eprintln!(
        "textures: {} images from {} folder(s)",
        library.entries.len(),
        folders.len()
    );
    config.texture_library = library;
    Ok(config)
}

/// Scans `config.assets.folders` (if any) into its asset library.
fn scan_assets(config: &mut Config) -> Result<()> {
    if config.assets.folders.is_empty() {
        return Ok(());
    }
    let folders: Vec<PathBuf> = config.assets.folders.iter().map(PathBuf::from).collect();
    let (library, skipped) = engine::assets::scan(&folders).context("assets.folders")?;
    for s in &skipped {
        eprintln!("warning: skipping asset {}: {}", s.path.display(), s.reason);
    }
    let mut categories: Vec<&str> = library
        .entries
        .iter()
        .map(|e| e.category.as_str())
        .collect();
    categories.dedup();
    let furniture = categories
        .iter()
        .filter(|c| config.assets.is_furniture(c))
        .count();
    eprintln!(
        "assets: {} meshes in {} categories ({furniture} placed as furniture) from {} folder(s)",
        library.entries.len(),
        categories.len(),
        folders.len()
    );
    config.asset_library = library;
    Ok(())
}

/// `synthfeat make-assets` options.
#[derive(Args)]
pub struct MakeAssetsArgs {
    /// Folder to write into (`OUT/CATEGORY/CATEGORY_NN.glb`).
    #[arg(long)]
    pub out: PathBuf,
    /// Variants of every category (shape, colour and texture differ).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub variants: u32,
}

/// `synthfeat make-assets`: writes the built-in library of everyday objects.
pub fn make_assets(a: MakeAssetsArgs) -> Result<()> {
    let files = engine::assets::builtin::write_library(&a.out, a.variants)?;
    println!(
        "wrote {} .glb files of {} categories to {} (use: --assets {})",
        files.len(),
        engine::assets::builtin::CATEGORIES.len(),
        a.out.display(),
        a.out.display()
    );
    Ok(())
}

/// `synthfeat generate` options.
#[derive(Args)]
pub struct GenerateArgs {
    /// Output folder (created; rerun the same command to resume).
    #[arg(long, required_unless_present = "print_default_config")]
    out: Option<PathBuf>,
    /// Number of samples (views) in the whole run.
    #[arg(long, default_value_t = 64)]
    count: u64,
    /// Image width and height, pixels.
    #[arg(long, default_value_t = 256)]
    size: u32,
    /// Views rendered per scene.
    #[arg(long, default_value_t = 4)]
    views: u32,
    /// Base seed of the run.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Samples per shard.
    #[arg(long, default_value_t = 256)]
    shard_size: u64,
    #[command(flatten)]
    scene: SceneConfigArgs,
    /// Shard storage.
    #[arg(long, value_enum, default_value_t = LayoutArg::Tar)]
    layout: LayoutArg,
    /// This job's index among --num-shards jobs (e.g. a Kubernetes or Slurm array index).
    #[arg(long, default_value_t = 0)]
    shard_index: u64,
    /// Number of jobs sharing the run; job I writes shards I, I+K, I+2K, …
    #[arg(long, default_value_t = 1)]
    num_shards: u64,
    /// PNG encoder threads.
    #[arg(long, default_value_t = 2)]
    encode_threads: usize,
    /// Print the built-in scene config (TOML) and exit.
    #[arg(long)]
    print_default_config: bool,
    /// Testing hook: stop after N samples, leaving the current shard unfinished.
    #[arg(long, hide = true)]
    abort_after: Option<u64>,
}

fn check_args(a: &GenerateArgs) -> Result<()> {
    if a.count == 0 {
        bail!("--count must be at least 1");
    }
    if a.size == 0 || a.size > 4096 {
        bail!("--size must be in 1..=4096, got {}", a.size);
    }
    if a.views == 0 || a.views > 256 {
        bail!("--views must be in 1..=256, got {}", a.views);
    }
    if a.shard_size == 0 {
        bail!("--shard-size must be at least 1");
    }
    if a.num_shards == 0 {
        bail!("--num-shards must be at least 1");
    }
    if a.shard_index >= a.num_shards {
        bail!(
            "--shard-index {} must be below --num-shards {}",
            a.shard_index,
            a.num_shards
        );
    }
    Ok(())
}

/// Runs `synthfeat generate`.
pub fn run(a: GenerateArgs) -> Result<()> {
    if a.print_default_config {
        print!("{}", Config::default().to_toml());
        return Ok(());
    }
    check_args(&a)?;
    let config = a.scene.load()?;
    let Some(out) = a.out.clone() else {
        bail!("--out is required")
    };
    let plan = Plan {
        seed: a.seed,
        views: a.views,
        count: a.count,
        shard_size: a.shard_size,
    };
    let settings = engine::RenderSettings::new(a.size, &config);
    let opts = engine::generate::GenerateOptions {
        out: out.clone(),
        layout: match a.layout {
            LayoutArg::Tar => Layout::Tar,
            LayoutArg::Dir => Layout::Dir,
        },
        plan,
        config,
        settings,
        worker: (a.shard_index, a.num_shards),
        encode_threads: a.encode_threads,
        abort_after: a.abort_after,
        stop: Some(|| crate::signals::received().is_some()),
    };
    // From here SIGTERM / SIGINT stop the run after the sample in hand.
    crate::signals::install();
    let bar = crate::progress::bar(
        0,
        "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} samples ({per_sec}, eta {eta}) {msg}",
    );
    let mut first = true;
    let report = engine::generate::generate(&opts, &mut |p| {
        if first {
            bar.set_length(p.total);
            if p.skipped > 0 {
                bar.set_message(format!("({} samples already complete)", p.skipped));
            }
            bar.reset_elapsed();
            first = false;
        }
        bar.set_position(p.done);
    });
    bar.finish_and_clear();
    if let (Err(engine::generate::GenerateError::Stopped(n)), Some(_)) =
        (&report, crate::signals::received())
    {
        return Err(crate::signals::Stopped::new(format!(
            "after {n} samples: complete shards are kept in {}, the one in progress was \
             removed; run the same command again to resume",
            out.display()
        ))
        .into());
    }
    let report = report.with_context(|| format!("generating into {}", out.display()))?;
    // Steady-state rate: from the first written sample to the last, as `bench render` times it.
    let fps = if report.steady_seconds > 0.0 && report.samples > 1 {
        (report.samples - 1) as f64 / report.steady_seconds
    } else {
        0.0
    };
    println!(
        "wrote {} samples in {} shards to {} ({:.2} frames/s after start-up, {:.1} s in all{}); {} shards were already complete; {}",
        report.samples,
        report.shards_written,
        out.display(),
        fps,
        report.seconds,
        if report.adapter.is_empty() {
            String::new()
        } else {
            format!(", adapter {}", report.adapter)
        },
        report.shards_kept,
        crate::rss::peak_rss_text()
    );
    if report.stats.frames > 0 {
        println!("what the frames written now show:\n{}", report.stats);
    }
    Ok(())
}

/// `synthfeat scene` options.
#[derive(Args)]
pub struct SceneArgs {
    /// Scene seed (a run's scene i has seed `scene_seed(run_seed, i)`; see --run-seed).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Treat --seed as a scene index of the run with this base seed.
    #[arg(long)]
    run_seed: Option<u64>,
    /// Views in the scene.
    #[arg(long, default_value_t = 4)]
    views: u32,
    #[command(flatten)]
    scene: SceneConfigArgs,
}

/// Runs `synthfeat scene`: prints the scene's JSON.
pub fn scene(a: SceneArgs) -> Result<()> {
    let config = a.scene.load()?;
    if a.views == 0 {
        bail!("--views must be at least 1");
    }
    let seed = match a.run_seed {
        Some(run) => scenes::scene_seed(run, a.seed),
        None => a.seed,
    };
    println!("{}", scenes::generate(&config, seed, a.views).to_json());
    Ok(())
}
