//! `synthfeat export`: a run's encoder as safetensors with PyTorch-style names.

use anyhow::Result;
use clap::Args;
use std::collections::BTreeMap;
use std::path::PathBuf;

use trainer::burn::backend::Flex;

/// `synthfeat export` options.
#[derive(Args)]
pub struct ExportArgs {
    /// Run folder written by `synthfeat train`.
    #[arg(long)]
    run: PathBuf,
    /// Output file, e.g. encoder.safetensors.
    #[arg(long)]
    out: PathBuf,
}

/// Runs `synthfeat export`.
pub fn run(a: ExportArgs) -> Result<()> {
    let config = trainer::run::saved_config(&a.run)?;
    let state = trainer::checkpoint::latest(&a.run)?;
    let model =
        trainer::checkpoint::load::<Flex>(&config.model_config(), &a.run, &Default::default())?;
    let tensors = trainer::export::tensors(&model.backbone)?;
    let bc = config.backbone_config();
    let metadata = BTreeMap::from([
        ("format".to_string(), "pt".to_string()),
        ("backbone".to_string(), config.backbone.to_string()),
        ("layers".to_string(), bc.layer_names().join(",")),
        ("step".to_string(), state.step.to_string()),
        (
            "input".to_string(),
            "RGB in [0,1], NCHW, normalised as (x - 0.5) * 4".to_string(),
        ),
        ("config".to_string(), serde_json::to_string(&config)?),
    ]);
    trainer::export::write_safetensors(&a.out, &tensors, &metadata)?;
    let params: usize = tensors.iter().map(|t| t.values.len()).sum();
    println!(
        "exported {} tensors ({params} values) of the {} backbone at step {} to {}",
        tensors.len(),
        config.backbone,
        state.step,
        a.out.display()
    );
    Ok(())
}
