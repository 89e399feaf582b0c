//! `synthfeat bench profile`: where the training step's time goes, op by op,
//! forward and backward, with totals by op kind and the whole step beside them.

use anyhow::{Result, bail};
use burn::optim::AdamConfig;
use burn::tensor::backend::AutodiffBackend;
use clap::Args;
use trainer::optim::dense_adam;

use crate::bench_train::{StepArgs, describe, random_batch};
use crate::train::OnBackend;
use trainer::config::TrainConfig;
use trainer::profile::{Profile, profile_step};

/// `synthfeat bench profile` options.
#[derive(Args)]
pub struct ProfileArgs {
    #[command(flatten)]
    net: StepArgs,
    /// Timed runs of each op (the median is reported).
    #[arg(long, default_value_t = 3)]
    reps: usize,
    /// Also print the profile as JSON lines (for scripts).
    #[arg(long)]
    json: bool,
}

struct Measure<'a> {
    c: &'a TrainConfig,
    reps: usize,
}

impl OnBackend for Measure<'_> {
    type Output = Result<Profile>;

    fn run<B: AutodiffBackend>(self, device: B::Device) -> Result<Profile> {
        B::seed(&device, 0);
        let model = self.c.model_config().init::<B>(&device)?;
        let mut optim = dense_adam(&AdamConfig::new().with_beta_1(0.5).with_beta_2(0.999));
        let batch = random_batch::<B>(self.c, &device);
        Ok(profile_step(
            &model,
            &mut optim,
            &batch,
            &self.c.weights,
            self.reps,
        )?)
    }
}

fn ms(s: f64) -> f64 {
    s * 1e3
}

fn print(p: &Profile) {
    let total: f64 = p.ops.iter().map(|o| o.forward_s + o.backward_s).sum();
    let share = |s: f64| 100.0 * s / total.max(1e-12);
    println!(
        "{:<22} {:<15} {:>20} {:>10} {:>10} {:>6}",
        "op", "kind", "output", "fwd ms", "bwd ms", "%"
    );
    for o in &p.ops {
        let shape = o
            .output
            .iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join("x");
        println!(
            "{:<22} {:<15} {:>20} {:>10.2} {:>10.2} {:>6.1}",
            o.op,
            o.kind,
            shape,
            ms(o.forward_s),
            ms(o.backward_s),
            share(o.forward_s + o.backward_s)
        );
    }
    println!("\nby kind:");
    for (kind, f, b) in p.by_kind() {
        println!(
            "  {kind:<15} fwd {:>9.2} ms  bwd {:>9.2} ms  {:>5.1} %",
            ms(f),
            ms(b),
            share(f + b)
        );
    }
    let s = p.step;
    let step = s.forward_s + s.backward_s + s.optimizer_s;
    println!(
        "\nops alone: {:.1} ms; whole step: {:.1} ms (forward {:.1}, backward {:.1}, optimizer {:.1})",
        ms(total),
        ms(step),
        ms(s.forward_s),
        ms(s.backward_s),
        ms(s.optimizer_s)
    );
}

/// Runs `synthfeat bench profile`.
pub fn run(a: ProfileArgs) -> Result<()> {
    if a.reps == 0 {
        bail!("--reps must be at least 1");
    }
    let c = a.net.config()?;
    let profile = a.net.device.dispatch(Measure {
        c: &c,
        reps: a.reps,
    })?;
    println!(
        "training step profile, {}:",
        describe(&c, a.net.device.name())
    );
    print(&profile);
    if a.json {
        for o in &profile.ops {
            println!(
                "{}",
                serde_json::json!({"op": o.op, "kind": o.kind, "output": o.output,
                    "forward_s": o.forward_s, "backward_s": o.backward_s})
            );
        }
        let s = profile.step;
        println!(
            "{}",
            serde_json::json!({"step": {"forward_s": s.forward_s, "backward_s": s.backward_s,
                "optimizer_s": s.optimizer_s}})
        );
    }
    Ok(())
}
