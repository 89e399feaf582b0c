//! The multitask step learns: on 8 fixed samples, 200 steps cut the depth and
//! normal errors well below where they started.

use burn::backend::{Autodiff, Flex};
use burn::optim::AdamConfig;
mod common;

use common::sample;
use engine::Sample;
use engine::sample::sample_key;
use trainer::batch::SyntheticBatch;
use trainer::model::BackboneConfig;
use trainer::train::{MultiTaskConfig, TaskWeights, losses, train_step};

type B = Autodiff<Flex>;

fn metric(report: &trainer::train::StepReport, task: &str, name: &str) -> f64 {
    report
        .tasks
        .iter()
        .find(|t| t.name == task)
        .and_then(|t| t.metrics.iter().find(|m| m.0 == name))
        .map(|m| m.1)
        .expect("metric present")
}

#[test]
fn two_hundred_steps_cut_depth_and_normal_errors() {
    let device = Default::default();
    let samples: Vec<Sample> = (0..8).map(|i| sample(i, 32)).collect();
    let batch = SyntheticBatch::<B>::from_samples(&samples, 4, &device).expect("batch");
    let config = MultiTaskConfig::new(
        BackboneConfig::new().with_width(8),
        vec!["depth".into(), "normal".into(), "contour".into()],
    );
    let mut model = config.init::<B>(&device).expect("model");
    let mut optim = AdamConfig::new().with_beta_1(0.5).init();
    let weights = TaskWeights::new();
    let (_, before) = losses(&model, &batch, &weights, 0).expect("losses");
    for _ in 0..200 {
        model = train_step(model, &mut optim, &batch, &weights, 1e-3, 0)
            .expect("step")
            .0;
    }
    let (_, after) = losses(&model, &batch, &weights, 0).expect("losses");
    let (d0, d1) = (
        metric(&before, "depth", "abs_rel"),
        metric(&after, "depth", "abs_rel"),
    );
    let (n0, n1) = (
        metric(&before, "normal", "angle_deg"),
        metric(&after, "normal", "angle_deg"),
    );
    println!(
        "depth abs-rel {d0:.3} -> {d1:.3}; normal error {n0:.1}° -> {n1:.1}°; loss {:.3} -> {:.3}",
        before.loss, after.loss
    );
    assert!(d1 < 0.3 * d0, "depth abs-rel {d0} -> {d1}");
    assert!(n1 < 0.3 * n0, "normal error {n0} -> {n1}");
    assert!(after.loss < before.loss);
}

#[test]
fn unknown_tasks_and_mismatched_samples_are_errors() {
    let device = Default::default();
    let config = MultiTaskConfig::new(BackboneConfig::new(), vec!["depht".into()]);
    let err = config.init::<Flex>(&device).expect_err("refused");
    assert!(err.to_string().contains("depht"));
    let err = MultiTaskConfig::new(BackboneConfig::new(), vec![])
        .init::<Flex>(&device)
        .expect_err("refused");
    assert!(err.to_string().contains("no task"));
    let mixed = vec![sample(0, 32), sample(1, 16)];
    let err = SyntheticBatch::<Flex>::from_samples(&mixed, 4, &device).expect_err("refused");
    assert!(err.to_string().contains(&sample_key(1, 0)), "{err}");
}

#[test]
fn quarter_resolution_labels_keep_centres_and_every_contour() {
    let device = Default::default();
    let s = sample(3, 32);
    let b =
        SyntheticBatch::<Flex>::from_samples(std::slice::from_ref(&s), 4, &device).expect("batch");
    assert_eq!(b.depth_m.dims(), [1, 1, 8, 8]);
    let depth: Vec<f32> = b.depth_m.to_data().to_vec().expect("f32");
    // Label pixel (y, x) takes the source pixel (4y + 2, 4x + 2).
    assert_eq!(depth[8 + 3], s.depth_m[6 * 32 + 14]);
    let contour: Vec<f32> = b.contour.to_data().to_vec().expect("f32");
    let horizon = 32 / 4 + 3 * 32 / 16;
    let rows: Vec<usize> = (0..8).filter(|&y| contour[y * 8] > 0.5).collect();
    assert_eq!(rows, vec![horizon / 4], "the horizon survives downsampling");
}

#[test]
fn a_checkpoint_loads_back_to_identical_outputs() {
    let device = Default::default();
    let samples: Vec<Sample> = (0..2).map(|i| sample(i, 32)).collect();
    let batch = SyntheticBatch::<B>::from_samples(&samples, 4, &device).expect("batch");
    let config = MultiTaskConfig::new(
        BackboneConfig::new().with_width(4),
        vec!["depth".into(), "normal".into(), "contour".into()],
    );
    let mut model = config.init::<B>(&device).expect("model");
    let mut optim = AdamConfig::new().init();
    for _ in 0..3 {
        model = train_step(model, &mut optim, &batch, &TaskWeights::new(), 1e-3, 0)
            .expect("step")
            .0;
    }
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = trainer::checkpoint::save(tmp.path(), &model, Some(&optim), None, 3, 6, 1e-3)
        .expect("save");
    assert!(dir.join("model.mpk").is_file() && dir.join("optimizer.mpk").is_file());
    let leftovers: Vec<String> = std::fs::read_dir(tmp.path().join("checkpoints"))
        .expect("checkpoints")
        .map(|e| e.expect("entry").file_name().to_string_lossy().to_string())
        .collect();
    assert_eq!(
        leftovers,
        ["step-00000003"],
        "no partial folder left behind"
    );
    let state = trainer::checkpoint::latest(tmp.path()).expect("state");
    assert_eq!((state.step, state.samples_seen), (3, 6));
    let trained = burn::module::AutodiffModule::valid(&model);
    let loaded = trainer::checkpoint::load::<Flex>(&config, tmp.path(), &device).expect("load");
    let inner = SyntheticBatch::<Flex>::from_samples(&samples, 4, &device).expect("batch");
    let weights = TaskWeights::new();
    let (a, _) = losses(&trained, &inner, &weights, 0).expect("losses");
    let (b, _) = losses(&loaded, &inner, &weights, 0).expect("losses");
    assert_eq!(trainer::scalar(a), trainer::scalar(b));
    let err = trainer::checkpoint::load::<Flex>(&config, &tmp.path().join("none"), &device)
        .expect_err("missing");
    assert!(err.to_string().contains("no checkpoint"), "{err}");
}
