//! The multitask step learns: on 8 fixed samples, 200 steps cut the depth and
//! normal errors well below where they started.

use burn::backend::{Autodiff, Flex};
use burn::optim::AdamConfig;
use engine::Sample;
use engine::sample::{Intrinsics, SampleMeta, sample_key};
use trainer::batch::SyntheticBatch;
use trainer::model::SmallBackboneConfig;
use trainer::train::{MultiTaskConfig, TaskWeights, losses, train_step};

type B = Autodiff<Flex>;

/// A wall (far, facing the camera) above a floor (near, facing up); the horizon
/// row and the colours vary per sample, and the contour runs along the horizon.
fn sample(i: usize, size: usize) -> Sample {
    let horizon = size / 4 + i * size / 16;
    let (mut rgb, mut depth, mut normal, mut instance, mut contour) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for y in 0..size {
        for x in 0..size {
            let wall = y < horizon;
            let shade = (x * 3 + i * 7) as u8;
            if wall {
                rgb.extend_from_slice(&[200, 120 + shade / 4, 60]);
                depth.push(4.0 + 0.2 * i as f32);
                normal.extend_from_slice(&[0.0, 0.0, -1.0]);
                instance.push(2u16);
            } else {
                rgb.extend_from_slice(&[40, 90 + shade / 4, 210]);
                depth.push(1.0 + 3.0 * (size - y) as f32 / size as f32);
                normal.extend_from_slice(&[0.0, -1.0, 0.0]);
                instance.push(1u16);
            }
            contour.push(if y == horizon { 255 } else { 0 });
        }
    }
    Sample {
        meta: SampleMeta {
            key: sample_key(i as u64, 0),
            scene_seed: i as u64,
            view: 0,
            width: size as u32,
            height: size as u32,
            intrinsics: Intrinsics::from_vfov(size as u32, size as u32, 60.0),
            world_from_camera: [
                [1.0, 0.0, 0.0, 0.0],
                [0.0, 1.0, 0.0, 0.0],
                [0.0, 0.0, 1.0, 0.0],
                [0.0, 0.0, 0.0, 1.0],
            ],
            near: 0.05,
            far: 20.0,
            depth_unit: "mm".into(),
            normal_frame: "camera_opencv".into(),
            instances: vec![],
            generator: "test".into(),
            config_hash: "0".into(),
            synthfeat_version: engine::VERSION.into(),
        },
        rgb,
        depth_m: depth,
        normal_camera: normal,
        instance,
        contour,
    }
}

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
        SmallBackboneConfig::new().with_width(8),
        vec!["depth".into(), "normal".into(), "contour".into()],
    );
    let mut model = config.init::<B>(&device).expect("model");
    let mut optim = AdamConfig::new().with_beta_1(0.5).init();
    let weights = TaskWeights::new();
    let (_, before) = losses(&model, &batch, &weights);
    for _ in 0..200 {
        model = train_step(model, &mut optim, &batch, &weights, 1e-3).0;
    }
    let (_, after) = losses(&model, &batch, &weights);
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
    let config = MultiTaskConfig::new(SmallBackboneConfig::new(), vec!["depht".into()]);
    let err = config.init::<Flex>(&device).expect_err("refused");
    assert!(err.to_string().contains("depht"));
    let err = MultiTaskConfig::new(SmallBackboneConfig::new(), vec![])
        .init::<Flex>(&device)
        .expect_err("refused");
    assert!(err.to_string().contains("no task"));
    let mixed = vec![sample(0, 32), sample(1, 16)];
    let err = SyntheticBatch::<Flex>::from_samples(&mixed, 4, &device).expect_err("refused");
    assert!(err.to_string().contains(&sample_key(1, 0)), "{err}");
    let err =
        SyntheticBatch::<Flex>::from_samples(&[sample(0, 32)], 5, &device).expect_err("refused");
    assert!(err.to_string().contains("1/5"), "{err}");
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
        SmallBackboneConfig::new().with_width(4),
        vec!["depth".into(), "normal".into(), "contour".into()],
    );
    let mut model = config.init::<B>(&device).expect("model");
    let mut optim = AdamConfig::new().init();
    for _ in 0..3 {
        model = train_step(model, &mut optim, &batch, &TaskWeights::new(), 1e-3).0;
    }
    let tmp = tempfile::tempdir().expect("tmp");
    let trained = burn::module::AutodiffModule::valid(&model);
    trainer::checkpoint::save(trained.clone(), tmp.path(), 3).expect("save");
    assert!(!tmp.path().join("model-partial.mpk").exists());
    let loaded = trainer::checkpoint::load::<Flex>(&config, tmp.path(), &device).expect("load");
    let inner = SyntheticBatch::<Flex>::from_samples(&samples, 4, &device).expect("batch");
    let weights = TaskWeights::new();
    let (a, _) = losses(&trained, &inner, &weights);
    let (b, _) = losses(&loaded, &inner, &weights);
    assert_eq!(trainer::scalar(a), trainer::scalar(b));
    let err = trainer::checkpoint::load::<Flex>(&config, &tmp.path().join("none"), &device)
        .expect_err("missing");
    assert!(err.to_string().contains("model.mpk"), "{err}");
}
