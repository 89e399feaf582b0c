//! Whole runs through `trainer::run::fit` on a dataset folder: resuming equals
//! an uninterrupted run, a NaN loss keeps the last good checkpoint, the run
//! folder gets its PNGs, and export writes loadable PyTorch-style tensors.

mod common;

use burn::backend::{Autodiff, Flex};
use burn::tensor::Tensor;
use std::path::Path;
use std::sync::Mutex;
use trainer::config::TrainConfig;
use trainer::data::{train_batches, validation_samples};
use trainer::model::BackboneKind;
use trainer::run::{Quiet, Run, RunError, RunSummary, fit};
use trainer::tasks::{TaskContext, TaskOutput};
use trainer::train::{ExtraError, ExtraObjective, MultiTaskModel, NoExtra};

type B = Autodiff<Flex>;

fn config(steps: u64) -> TrainConfig {
    TrainConfig {
        width: 4,
        size: 32,
        batch: 4,
        steps,
        lr_decay_every: 2,
        lr_decay_gamma: 0.5,
        val_every: 3,
        val_samples: 8,
        val_percent: 25,
        checkpoint_every: 3,
        shuffle_buffer: 8,
        ..TrainConfig::default()
    }
}

/// burn's seed is one per process (`Backend::seed`), and the tests of this
/// file run on parallel threads: a run seeded here and initialised while
/// another test draws would start from other weights. Runs take turns.
static ONE_RUN_AT_A_TIME: Mutex<()> = Mutex::new(());

fn train(
    data: &Path,
    dir: &Path,
    c: &TrainConfig,
    resume: bool,
    extra: &mut dyn ExtraObjective<B>,
) -> Result<RunSummary, RunError> {
    let _turn = ONE_RUN_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let val = validation_samples(data, c.val_percent, c.size, c.val_samples).expect("val");
    let run = Run {
        dir,
        config: c,
        source: serde_json::json!({"data": data}),
        resume,
    };
    let mut open = |seen| train_batches(data, c.data_options(seen)).map(|b| b.boxed());
    fit::<B>(
        &run,
        &Default::default(),
        &mut open,
        &val,
        &[],
        extra,
        &mut Quiet,
    )
}

/// Training losses of `metrics.jsonl`, by step.
fn train_losses(dir: &Path) -> Vec<(u64, f64)> {
    std::fs::read_to_string(dir.join("metrics.jsonl"))
        .expect("metrics")
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("json"))
        .filter(|v| v["split"] == "train")
        .map(|v| {
            (
                v["step"].as_u64().expect("step"),
                v["loss"].as_f64().expect("loss"),
            )
        })
        .collect()
}

#[test]
fn resuming_continues_exactly_like_an_uninterrupted_run() {
    let tmp = tempfile::tempdir().expect("tmp");
    let data = tmp.path().join("data");
    common::write_dataset(&data, 24, 48, 6);
    let whole = tmp.path().join("whole");
    train(&data, &whole, &config(7), false, &mut NoExtra).expect("uninterrupted");
    let parts = tmp.path().join("parts");
    train(&data, &parts, &config(3), false, &mut NoExtra).expect("first part");
    // A crash after step 3's checkpoint may have logged more steps: they are dropped.
    let mut log = std::fs::read_to_string(parts.join("metrics.jsonl")).expect("metrics");
    log.push_str("{\"step\":4,\"split\":\"train\",\"loss\":123.0}\n");
    std::fs::write(parts.join("metrics.jsonl"), log).expect("write");
    let s = train(&data, &parts, &config(7), true, &mut NoExtra).expect("resumed");
    assert_eq!((s.steps, s.new_steps), (7, 4));
    let (a, b) = (train_losses(&whole), train_losses(&parts));
    assert_eq!(a.len(), 7);
    assert_eq!(
        b.iter().map(|x| x.0).collect::<Vec<_>>(),
        (1..=7).collect::<Vec<_>>()
    );
    for ((step, x), (_, y)) in a.iter().zip(&b) {
        assert!(
            (x - y).abs() <= 1e-4 * x.abs().max(1.0),
            "step {step}: {x} vs {y}"
        );
    }
    // The final weights agree too.
    let cfg = config(7).model_config();
    let device = Default::default();
    let m1 = trainer::checkpoint::load::<Flex>(&cfg, &whole, &device).expect("load");
    let m2 = trainer::checkpoint::load::<Flex>(&cfg, &parts, &device).expect("load");
    let x = Tensor::<Flex, 4>::ones([1, 3, 32, 32], &device);
    let (f1, f2) = (m1.backbone.forward(x.clone()), m2.backbone.forward(x));
    let diff: f32 = (f1.top().clone() - f2.top().clone())
        .abs()
        .max()
        .into_scalar();
    assert!(diff < 1e-3, "top features differ by {diff}");
    for png in ["curves.png", "predictions.png"] {
        let img = image::open(parts.join(png)).expect(png);
        assert!(img.width() > 200 && img.height() > 100, "{png}");
    }
    // Changing a setting on resume is refused, naming it.
    let changed = TrainConfig {
        batch: 2,
        ..config(9)
    };
    let err = train(&data, &parts, &changed, true, &mut NoExtra).expect_err("refused");
    assert!(err.to_string().contains("`batch`"), "{err}");
    // Resuming a folder without a checkpoint is a clear error.
    let empty = tmp.path().join("empty");
    let err = train(&data, &empty, &config(2), true, &mut NoExtra).expect_err("refused");
    assert!(err.to_string().contains("no checkpoint"), "{err}");
}

/// Adds a NaN loss at step `at`.
struct NanAt {
    at: u64,
    calls: u64,
}

impl ExtraObjective<B> for NanAt {
    fn loss(
        &mut self,
        _: &MultiTaskModel<B>,
        ctx: &TaskContext<B>,
    ) -> Result<Option<TaskOutput<B>>, ExtraError> {
        self.calls += 1;
        let bad = if self.calls == self.at { f32::NAN } else { 0.0 };
        let loss = ctx.features().top().clone().mean().reshape([1]) * 0.0 + bad;
        Ok(Some(TaskOutput::new("nan_probe", loss, vec![])))
    }
}

#[test]
fn a_nan_loss_stops_training_and_keeps_the_last_good_checkpoint() {
    let tmp = tempfile::tempdir().expect("tmp");
    let data = tmp.path().join("data");
    common::write_dataset(&data, 16, 32, 8);
    let dir = tmp.path().join("run");
    let c = TrainConfig {
        checkpoint_every: 2,
        ..config(6)
    };
    let err = train(&data, &dir, &c, false, &mut NanAt { at: 3, calls: 0 }).expect_err("NaN");
    let text = err.to_string();
    assert!(
        text.contains("step 3") && text.contains("checkpoint (step 2)"),
        "{text}"
    );
    let state = trainer::checkpoint::latest(&dir).expect("kept");
    assert_eq!(state.step, 2);
    assert!(dir.join(&state.dir).join("model.mpk").is_file());
}

#[test]
fn export_writes_pytorch_names_that_load_back_with_the_same_values() {
    let device = Default::default();
    for (kind, names) in [
        (BackboneKind::Small, vec!["conv1", "conv5"]),
        (BackboneKind::Alexnet, vec!["conv1", "fc6", "fc7"]),
    ] {
        let c = TrainConfig {
            backbone: kind,
            alexnet_divisor: 64,
            ..config(1)
        };
        let model = c.model_config().init::<Flex>(&device).expect("model");
        let tensors = trainer::export::tensors(&model.backbone).expect("tensors");
        let tmp = tempfile::tempdir().expect("tmp");
        let path = tmp.path().join("encoder.safetensors");
        let meta = [("backbone".to_string(), kind.to_string())].into();
        trainer::export::write_safetensors(&path, &tensors, &meta).expect("write");
        let bytes = std::fs::read(&path).expect("read");
        let st = safetensors::SafeTensors::deserialize(&bytes).expect("valid safetensors");
        for layer in names {
            let digits: String = layer.chars().filter(|c| c.is_ascii_digit()).collect();
            for n in [
                format!("{layer}.weight"),
                format!("bn{digits}.bias"),
                format!("bn{digits}.running_var"),
            ] {
                assert!(st.tensor(&n).is_ok(), "{kind}: {n} missing");
            }
            // Batch norm follows every convolution, so they carry no bias.
            assert!(
                st.tensor(&format!("{layer}.bias")).is_err(),
                "{kind}: {layer}.bias"
            );
        }
        assert_eq!(st.len(), tensors.len());
        for t in &tensors {
            let v = st.tensor(&t.name).expect("tensor");
            assert_eq!(v.dtype(), safetensors::Dtype::F32);
            assert_eq!(v.shape(), t.shape.as_slice(), "{}", t.name);
            let back: Vec<f32> = v
                .data()
                .chunks(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
            assert_eq!(back, t.values, "{}", t.name);
        }
        // conv1 weights are [out, in, kh, kw] as in PyTorch.
        let w = st.tensor("conv1.weight").expect("conv1");
        assert_eq!(w.shape()[1], 3);
    }
}

#[test]
fn damaged_shards_are_skipped_and_an_all_damaged_dataset_is_an_error() {
    let tmp = tempfile::tempdir().expect("tmp");
    let data = tmp.path().join("data");
    common::write_dataset(&data, 16, 32, 4);
    let c = TrainConfig {
        val_percent: 0,
        ..config(2)
    };
    let mut shards: Vec<_> = std::fs::read_dir(&data)
        .expect("dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "tar"))
        .collect();
    shards.sort();
    assert_eq!(shards.len(), 4);
    std::fs::write(&shards[0], b"not a tar file at all").expect("damage");
    let mut b = train_batches(&data, c.data_options(0)).expect("open");
    for _ in 0..5 {
        assert_eq!(b.next().expect("batch").expect("ok").len(), 4);
    }
    for s in &shards[1..] {
        std::fs::write(s, b"garbage").expect("damage");
    }
    let err = train_batches(&data, c.data_options(0))
        .expect("open")
        .find_map(|r| r.err())
        .expect("an error once nothing is left");
    assert!(
        err.to_string().contains("no usable training sample"),
        "{err}"
    );
}

#[test]
fn alexnet_trains_through_the_same_loop_with_resized_heads() {
    let tmp = tempfile::tempdir().expect("tmp");
    let data = tmp.path().join("data");
    common::write_dataset(&data, 8, 112, 8);
    let dir = tmp.path().join("run");
    let c = TrainConfig {
        backbone: BackboneKind::Alexnet,
        alexnet_divisor: 32,
        size: 99,
        batch: 2,
        val_percent: 30,
        val_every: 2,
        ..config(2)
    };
    let s = train(&data, &dir, &c, false, &mut NoExtra).expect("alexnet run");
    assert_eq!(s.steps, 2);
    let v = s.validation.expect("validated");
    assert!(v.metric("depth", "abs_rel").is_some_and(f64::is_finite));
    assert!(dir.join("predictions.png").is_file());
}

#[test]
fn a_wall_clock_budget_stops_early_with_a_checkpoint_and_validation() {
    let tmp = tempfile::tempdir().expect("tmp");
    let data = tmp.path().join("data");
    common::write_dataset(&data, 16, 32, 8);
    let dir = tmp.path().join("run");
    let c = TrainConfig {
        max_minutes: Some(0.0005),
        val_every: 1000,
        checkpoint_every: 1000,
        ..config(1000)
    };
    let s = train(&data, &dir, &c, false, &mut NoExtra).expect("budgeted run");
    assert!(
        s.steps >= 1 && s.steps < 1000,
        "stopped at step {}",
        s.steps
    );
    assert_eq!(s.new_steps, s.steps);
    assert!(s.validation.is_some(), "the last step validates");
    let state = trainer::checkpoint::latest(&dir).expect("checkpoint");
    assert_eq!(state.step, s.steps);
}
