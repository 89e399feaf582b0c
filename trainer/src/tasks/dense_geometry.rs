//! Dense geometric contrast: the renderer knows which pixels of two views of
//! one scene show the same 3-D point ([`crate::correspond`]). Each such cell
//! of a feature map is an anchor whose positive is its partner cell in the
//! other view; every other cell of the batch is a negative. A 1×1 projection
//! of the layer's features, L2-normalised, and InfoNCE at a temperature.

use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::activation::log_softmax;
use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor, TensorData};
use rand::seq::SliceRandom;

use super::{Task, TaskContext, TaskError, TaskOutput};
use crate::correspond::correspondences;
use crate::pretext::DenseGeometryConfig;

/// Dense contrast between corresponding cells of two views.
#[derive(Module, Debug)]
pub struct DenseGeometryTask<B: Backend> {
    projection: Linear<B>,
    #[module(skip)]
    config: DenseGeometryConfig,
}

/// Pairs of batch rows showing one scene: each row is paired with the next
/// unpaired row of the same scene.
pub fn view_pairs(scenes: &[u64]) -> Vec<(usize, usize)> {
    let mut used = vec![false; scenes.len()];
    let mut out = Vec::new();
    for i in 0..scenes.len() {
        if used[i] {
            continue;
        }
        if let Some(j) = (i + 1..scenes.len()).find(|&j| !used[j] && scenes[j] == scenes[i]) {
            used[i] = true;
            used[j] = true;
            out.push((i, j));
        }
    }
    out
}

impl<B: Backend> DenseGeometryTask<B> {
    /// A projection head on `channels` channels of the configured layer.
    pub fn new(channels: usize, config: &DenseGeometryConfig, device: &B::Device) -> Self {
        DenseGeometryTask {
            projection: LinearConfig::new(channels, config.projection_dim).init(device),
            config: config.clone(),
        }
    }
}

impl<B: Backend> Task<B> for DenseGeometryTask<B> {
    fn name(&self) -> &'static str {
        "dense-geometry"
    }

    fn forward(&self, ctx: &TaskContext<B>) -> Result<TaskOutput<B>, TaskError> {
        let labels = ctx.labels(self.name())?;
        let views = &labels.views;
        let device = ctx.device();
        let Some(features) = ctx.features().layer(&self.config.layer) else {
            return Err(TaskError::NoLayer(self.config.layer.clone()));
        };
        let [n, c, h, w] = features.dims();
        if views.len() != n {
            return Err(TaskError::NeedsGeometry(self.name()));
        }
        let scenes: Vec<u64> = views.iter().map(|v| v.scene_seed).collect();
        let pairs = view_pairs(&scenes);
        let cells = h * w;
        let mut matches: Vec<(i64, i64)> = Vec::new();
        for &(i, j) in &pairs {
            for (a, b, from, to) in [(i, j, &views[i], &views[j]), (j, i, &views[j], &views[i])] {
                for (ca, cb) in correspondences(from, to, [h, w], self.config.tolerance) {
                    matches.push(((a * cells + ca) as i64, (b * cells + cb) as i64));
                }
            }
        }
        let count = |v: usize| Tensor::<B, 1>::from_floats([v as f32], &device);
        if matches.is_empty() {
            // No two views of one scene (or no shared point): nothing to learn this step.
            let zero = features.clone().sum().reshape([1]) * 0.0;
            return Ok(TaskOutput::new(
                self.name(),
                zero,
                vec![("matches", count(0)), ("accuracy", count(0))],
            ));
        }
        let mut rng = ctx.rng(self.name());
        matches.shuffle(&mut rng);
        matches.truncate(self.config.max_anchors.max(1));
        let m = matches.len();
        let rows = features
            .clone()
            .permute([0, 2, 3, 1])
            .reshape([n * cells, c]);
        let z = self.projection.forward(rows);
        let z = z.clone() / (z.clone() * z).sum_dim(1).sqrt().clamp_min(1e-8);
        let index = |v: Vec<i64>| Tensor::<B, 1, Int>::from_data(TensorData::new(v, [m]), &device);
        let anchors = index(matches.iter().map(|p| p.0).collect());
        let positives = index(matches.iter().map(|p| p.1).collect());
        let a = z.clone().select(0, anchors.clone());
        let sim = a.matmul(z.transpose()) / self.config.temperature;
        // An anchor is not its own negative.
        let sim = sim - anchors.one_hot::<2>(n * cells).float() * 1e4;
        let found = sim
            .clone()
            .detach()
            .argmax(1)
            .reshape([m])
            .equal(positives.clone())
            .float()
            .mean();
        let loss = (log_softmax(sim, 1) * positives.one_hot::<2>(n * cells).float())
            .sum_dim(1)
            .mean()
            .neg();
        Ok(TaskOutput::new(
            self.name(),
            loss,
            vec![("matches", count(m)), ("accuracy", found)],
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::batch::{Batch, SyntheticBatch};
    use crate::model::BackboneConfig;
    use crate::train::{MultiTaskConfig, TaskWeights, losses};
    use burn::backend::Flex;
    use engine::Sample;
    use engine::sample::{Intrinsics, SampleMeta};

    /// A 32×32 view of a wall 2 m ahead, from `x` metres along the world's x,
    /// of scene `scene`.
    fn wall(scene: u64, x: f64) -> Sample {
        let (w, h) = (32u32, 32u32);
        let n = (w * h) as usize;
        Sample {
            meta: SampleMeta {
                key: format!("{scene:016x}-00"),
                scene_seed: scene,
                view: 0,
                width: w,
                height: h,
                intrinsics: Intrinsics {
                    fx: 32.0,
                    fy: 32.0,
                    cx: 15.5,
                    cy: 15.5,
                },
                world_from_camera: [
                    [1.0, 0.0, 0.0, x],
                    [0.0, 1.0, 0.0, 0.0],
                    [0.0, 0.0, 1.0, 0.0],
                    [0.0, 0.0, 0.0, 1.0],
                ],
                near: 0.1,
                far: 10.0,
                depth_unit: "mm".into(),
                normal_frame: "camera_opencv".into(),
                instances: vec![],
                generator: "test".into(),
                config_hash: "0".into(),
                shading_profile: "full".into(),
                synthfeat_version: "0".into(),
            },
            rgb: (0..3 * n).map(|i| (i * 7 % 251) as u8).collect(),
            depth_m: vec![2.0; n],
            normal_camera: (0..n).flat_map(|_| [0.0, 0.0, -1.0]).collect(),
            instance: vec![1; n],
            contour: vec![0; n],
        }
    }

    #[test]
    fn two_views_of_a_scene_give_matches_and_a_finite_loss_others_none() {
        let device = Default::default();
        let config = MultiTaskConfig::new(
            BackboneConfig::new().with_width(4),
            vec!["dense-geometry".into()],
        )
        .with_size(32);
        let model = config.init::<Flex>(&device).unwrap();
        let report = |samples: &[Sample]| {
            let batch = SyntheticBatch::<Flex>::from_samples(samples, 4, &device).unwrap();
            let (loss, report) =
                losses(&model, Batch::from(batch), &TaskWeights::new(), 0).unwrap();
            let t = &report.tasks[0];
            let matches = t.metrics.iter().find(|m| m.0 == "matches").unwrap().1;
            (crate::scalar(loss), matches)
        };
        // conv3 of 32 px is a 4×4 grid; a 0.5 m step at 2 m moves it one cell: 12 + 12 matches.
        let (loss, matches) = report(&[wall(1, 0.0), wall(1, 0.5)]);
        assert!(loss.is_finite() && loss > 0.0, "{loss}");
        assert_eq!(matches, 24.0);
        // Two scenes, one view each: nothing to contrast, a zero loss.
        let (loss, matches) = report(&[wall(1, 0.0), wall(2, 0.5)]);
        assert_eq!((loss, matches), (0.0, 0.0));
    }

    #[test]
    fn views_of_one_scene_pair_up_in_order() {
        assert_eq!(view_pairs(&[5, 5, 7, 7, 7, 9]), vec![(0, 1), (2, 3)]);
        assert_eq!(view_pairs(&[1, 2, 1, 2]), vec![(0, 2), (1, 3)]);
        assert!(view_pairs(&[1, 2, 3]).is_empty());
    }
}
