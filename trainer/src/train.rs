//! The multitask model and one optimisation step over every enabled task.

use burn::config::Config;
use burn::module::{AutodiffModule, Module};
use burn::optim::{GradientsParams, Optimizer};
use burn::tensor::Tensor;
use burn::tensor::backend::{AutodiffBackend, Backend};

use crate::batch::Batch;
use crate::model::head::upsamplings;
use crate::model::{Backbone, BackboneConfig};
use crate::pretext::{PretextConfig, PretextState};
use crate::tasks::{
    ColorizationTask, ContourTask, DenseGeometryTask, DepthTask, InpaintingTask, JigsawTask,
    NextPixelTask, NormalTask, RelativePositionTask, RotationTask, SimclrTask, TASK_NAMES,
    TaskContext, TaskError, TaskOutput, Tasks,
};

/// Errors setting up training.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// A task name nobody registered.
    #[error("unknown task `{0}` (known: {known})", known = TASK_NAMES.join(", "))]
    UnknownTask(String),
    /// No task enabled.
    #[error("no task enabled: name at least one of {}", TASK_NAMES.join(", "))]
    NoTask,
    /// A pretext task's settings do not suit the model.
    #[error(transparent)]
    Pretext(#[from] crate::pretext::PretextError),
    /// A task could not run on a batch.
    #[error(transparent)]
    Task(#[from] TaskError),
}

/// Loss weights per task: the paper's for the synthetic tasks (depth 5,
/// normal 10, contour 1), 1 for each pretext task.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TaskWeights {
    /// Depth loss weight.
    pub depth: f64,
    /// Normal loss weight.
    pub normal: f64,
    /// Contour loss weight.
    pub contour: f64,
    /// Dense-geometry loss weight.
    pub dense_geometry: f64,
    /// Rotation loss weight.
    pub rotation: f64,
    /// Jigsaw loss weight.
    pub jigsaw: f64,
    /// Relative-position loss weight.
    pub relative_position: f64,
    /// Colorization loss weight.
    pub colorization: f64,
    /// Inpainting loss weight.
    pub inpainting: f64,
    /// Next-pixel loss weight.
    pub next_pixel: f64,
    /// SimCLR loss weight.
    pub simclr: f64,
}

impl Default for TaskWeights {
    fn default() -> Self {
        TaskWeights {
            depth: 5.0,
            normal: 10.0,
            contour: 1.0,
            dense_geometry: 1.0,
            rotation: 1.0,
            jigsaw: 1.0,
            relative_position: 1.0,
            colorization: 1.0,
            inpainting: 1.0,
            next_pixel: 1.0,
            simclr: 1.0,
        }
    }
}

impl TaskWeights {
    /// The default weights.
    pub fn new() -> Self {
        Self::default()
    }

    fn slot(&mut self, name: &str) -> Option<&mut f64> {
        Some(match name {
            "depth" => &mut self.depth,
            "normal" => &mut self.normal,
            "contour" => &mut self.contour,
            "dense-geometry" => &mut self.dense_geometry,
            "rotation" => &mut self.rotation,
            "jigsaw" => &mut self.jigsaw,
            "relative-position" => &mut self.relative_position,
            "colorization" => &mut self.colorization,
            "inpainting" => &mut self.inpainting,
            "next-pixel" => &mut self.next_pixel,
            "simclr" => &mut self.simclr,
            _ => return None,
        })
    }

    /// The weight of task `name` (0 for an unknown name).
    pub fn get(&self, name: &str) -> f64 {
        self.clone().slot(name).map(|w| *w).unwrap_or(0.0)
    }

    /// Sets the weight of task `name`; `false` for an unknown name.
    pub fn set(&mut self, name: &str, weight: f64) -> bool {
        match self.slot(name) {
            Some(w) => {
                *w = weight;
                true
            }
            None => false,
        }
    }
}

/// Hyper-parameters of the model.
#[derive(Config, Debug)]
pub struct MultiTaskConfig {
    /// The encoder.
    pub backbone: BackboneConfig,
    /// Labels are predicted at 1/`label_scale` of the input (1 = full resolution).
    #[config(default = 4)]
    pub label_scale: usize,
    /// Enabled tasks, by name.
    pub tasks: Vec<String>,
    /// Settings of the pretext tasks.
    #[config(default = "PretextConfig::default()")]
    pub pretext: PretextConfig,
    /// Training image size, pixels (sets jigsaw's and relative position's patches).
    #[config(default = 64)]
    pub size: usize,
}

/// The shared encoder and every enabled task's head.
#[derive(Module, Debug)]
pub struct MultiTaskModel<B: Backend> {
    /// Shared encoder.
    pub backbone: Backbone<B>,
    /// Task heads.
    pub tasks: Tasks<B>,
}

impl MultiTaskConfig {
    /// Builds the model, refusing unknown task names.
    pub fn init<B: Backend>(&self, device: &B::Device) -> Result<MultiTaskModel<B>, TrainError> {
        let channels = self.backbone.top_channels();
        let ups = upsamplings(self.backbone.top_stride(), self.label_scale);
        let mut tasks = Tasks::none();
        let (scale, p, bb) = (self.label_scale, &self.pretext, &self.backbone);
        self.pretext.validate(&self.tasks, bb, self.size)?;
        // Validated above: both patch sizes exist when their task is enabled.
        let jigsaw_tile = p.jigsaw_tile(bb, self.size).unwrap_or(0);
        let relative_patch = p.relative_patch(bb, self.size).unwrap_or(0);
        for name in &self.tasks {
            match name.as_str() {
                "depth" => tasks.depth = Some(DepthTask::new(channels, ups, device)),
                "normal" => tasks.normal = Some(NormalTask::new(channels, ups, device)),
                "contour" => tasks.contour = Some(ContourTask::new(channels, ups, device)),
                "dense-geometry" => {
                    // Validated above: the layer exists.
                    let c = bb
                        .layer_channels(&p.dense_geometry.layer)
                        .unwrap_or(channels);
                    tasks.dense_geometry =
                        Some(DenseGeometryTask::new(c, &p.dense_geometry, device));
                }
                "rotation" => tasks.rotation = Some(RotationTask::new(channels, device)),
                "jigsaw" => {
                    let (g, n) = (p.jigsaw.grid, p.jigsaw.permutations);
                    tasks.jigsaw = Some(JigsawTask::new(channels, g, jigsaw_tile, n, device));
                }
                "relative-position" => {
                    tasks.relative_position = Some(RelativePositionTask::new(
                        channels,
                        relative_patch,
                        p.relative_position.aberration,
                        device,
                    ))
                }
                "colorization" => {
                    tasks.colorization = Some(ColorizationTask::new(
                        channels,
                        ups,
                        scale,
                        &p.colorization,
                        device,
                    ))
                }
                "inpainting" => {
                    tasks.inpainting = Some(InpaintingTask::new(
                        channels,
                        ups,
                        scale,
                        &p.inpainting,
                        device,
                    ))
                }
                "next-pixel" => {
                    tasks.next_pixel =
                        Some(NextPixelTask::new(channels, ups, &p.next_pixel, device))
                }
                "simclr" => tasks.simclr = Some(SimclrTask::new(channels, &p.simclr, device)),
                other => return Err(TrainError::UnknownTask(other.to_string())),
            }
        }
        if self.tasks.is_empty() {
            return Err(TrainError::NoTask);
        }
        Ok(MultiTaskModel {
            backbone: self.backbone.init(device),
            tasks,
        })
    }
}

impl MultiTaskConfig {
    /// Learns what the pretext tasks need from `images` (the palette, the
    /// colour prior, the permutation set) and hands it to `model`'s tasks;
    /// returns it, for a run to save.
    pub fn prepare<B: Backend>(
        &self,
        model: &mut MultiTaskModel<B>,
        images: &[crate::pretext::Image],
        seed: u64,
    ) -> Result<PretextState, crate::pretext::PretextError> {
        let state = PretextState::prepare(&self.pretext, &self.tasks, images, seed)?;
        model.tasks.prepare(&state)?;
        Ok(state)
    }
}

/// One task's numbers after a step.
#[derive(Clone, Debug)]
pub struct TaskReport {
    /// Task name.
    pub name: &'static str,
    /// Unweighted loss.
    pub loss: f64,
    /// Named metrics.
    pub metrics: Vec<(&'static str, f64)>,
}

/// What a step measured.
#[derive(Clone, Debug)]
pub struct StepReport {
    /// Weighted sum of the task losses.
    pub loss: f64,
    /// Per task.
    pub tasks: Vec<TaskReport>,
}

/// Input normalisation: `[0, 1]` RGB to roughly zero mean, unit spread.
pub fn normalise<B: Backend>(rgb: Tensor<B, 4>) -> Tensor<B, 4> {
    (rgb - 0.5) * 4.0
}

/// Why an [`ExtraObjective`] could not give its loss (e.g. its real images ran out).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ExtraError(pub String);

/// A further objective on the shared encoder, added to the task losses of every
/// training step: the hook domain adaptation uses to bring its own (real) batch.
pub trait ExtraObjective<B: AutodiffBackend> {
    /// The objective's output (its loss joins the total with weight 1, its
    /// metrics the report), given the model and the step's task context (whose
    /// `features()` are the backbone's features of the training batch);
    /// `None` to skip this step.
    fn loss(
        &mut self,
        model: &MultiTaskModel<B>,
        batch: &TaskContext<B>,
    ) -> Result<Option<TaskOutput<B>>, ExtraError>;

    /// Called after the step's backward pass, before the model's optimizer
    /// takes its gradients: an objective with parameters of its own (a domain
    /// classifier) takes and applies theirs here.
    fn after_backward(&mut self, _grads: &mut B::Gradients) {}

    /// Writes the objective's own state (a critic and its optimizer) into
    /// the checkpoint folder being written.
    fn save(&self, _dir: &std::path::Path) -> Result<(), ExtraError> {
        Ok(())
    }

    /// Restores what [`ExtraObjective::save`] wrote, on resume.
    fn load(&mut self, _dir: &std::path::Path) -> Result<(), ExtraError> {
        Ok(())
    }
}

/// No further objective.
pub struct NoExtra;

impl<B: AutodiffBackend> ExtraObjective<B> for NoExtra {
    fn loss(
        &mut self,
        _: &MultiTaskModel<B>,
        _: &TaskContext<B>,
    ) -> Result<Option<TaskOutput<B>>, ExtraError> {
        Ok(None)
    }
}

/// Every enabled task's output on `batch` (synthetic tasks share one
/// backbone pass); `seed` drives the pretext tasks' random choices and
/// `sheet` asks them for their rows of `predictions.png`.
pub fn task_outputs<B: Backend>(
    model: &MultiTaskModel<B>,
    batch: &Batch<B>,
    seed: u64,
    sheet: bool,
) -> Result<Vec<TaskOutput<B>>, TaskError> {
    let ctx = TaskContext::new(&model.backbone, batch, seed, sheet);
    model.tasks.outputs(&ctx)
}

/// Every task's loss on `batch`, weighted and summed, with the per-task report.
pub fn losses<B: Backend>(
    model: &MultiTaskModel<B>,
    batch: impl Into<Batch<B>>,
    weights: &TaskWeights,
    seed: u64,
) -> Result<(Tensor<B, 1>, StepReport), TaskError> {
    let batch = batch.into();
    let outputs = task_outputs(model, &batch, seed, false)?;
    Ok(combine(outputs, weights, None, &batch.rgb().device()))
}

/// The weighted total of the task outputs plus `extra` (weight 1), with the
/// report read back from the device in one transfer.
fn combine<B: Backend>(
    mut outputs: Vec<TaskOutput<B>>,
    weights: &TaskWeights,
    extra: Option<TaskOutput<B>>,
    device: &B::Device,
) -> (Tensor<B, 1>, StepReport) {
    let mut weighted: Vec<Tensor<B, 1>> = outputs
        .iter()
        .map(|o| o.loss.clone() * weights.get(o.name))
        .collect();
    if let Some(o) = extra {
        weighted.push(o.loss.clone());
        outputs.push(o);
    }
    let total = weighted
        .into_iter()
        .reduce(|a, b| a + b)
        .unwrap_or_else(|| Tensor::zeros([1], device));
    // Every number of the report in one read-back, so the step waits on the device once.
    let mut numbers = vec![total.clone().detach()];
    for o in &outputs {
        numbers.push(o.loss.clone().detach());
        numbers.extend(o.metrics.iter().map(|(_, m)| m.clone().reshape([1])));
    }
    let values: Vec<f64> = Tensor::cat(numbers, 0)
        .into_data()
        .convert::<f64>()
        .to_vec()
        .unwrap_or_default();
    let mut at = values.iter().copied().chain(std::iter::repeat(f64::NAN));
    let loss = at.next().unwrap_or(f64::NAN);
    let tasks = outputs
        .iter()
        .map(|o| TaskReport {
            name: o.name,
            loss: at.next().unwrap_or(f64::NAN),
            metrics: o
                .metrics
                .iter()
                .map(|(k, _)| (*k, at.next().unwrap_or(f64::NAN)))
                .collect(),
        })
        .collect();
    (total, StepReport { loss, tasks })
}

/// Why a training step failed.
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    /// A task could not run on the batch.
    #[error(transparent)]
    Task(#[from] TaskError),
    /// The extra objective (domain adaptation) failed.
    #[error(transparent)]
    Extra(#[from] ExtraError),
}

/// One optimisation step of every enabled task; returns the updated model.
/// `seed` drives the pretext tasks' random choices (vary it per step).
pub fn train_step<B, O>(
    model: MultiTaskModel<B>,
    optimizer: &mut O,
    batch: impl Into<Batch<B>>,
    weights: &TaskWeights,
    lr: f64,
    seed: u64,
) -> Result<(MultiTaskModel<B>, StepReport), StepError>
where
    B: AutodiffBackend,
    O: Optimizer<MultiTaskModel<B>, B>,
    MultiTaskModel<B>: AutodiffModule<B>,
{
    train_step_with(
        model,
        optimizer,
        &batch.into(),
        weights,
        lr,
        seed,
        &mut NoExtra,
    )
}

/// [`train_step`] with an [`ExtraObjective`] on the shared encoder.
pub fn train_step_with<B, O>(
    model: MultiTaskModel<B>,
    optimizer: &mut O,
    batch: &Batch<B>,
    weights: &TaskWeights,
    lr: f64,
    seed: u64,
    extra: &mut dyn ExtraObjective<B>,
) -> Result<(MultiTaskModel<B>, StepReport), StepError>
where
    B: AutodiffBackend,
    O: Optimizer<MultiTaskModel<B>, B>,
    MultiTaskModel<B>: AutodiffModule<B>,
{
    let ctx = TaskContext::new(&model.backbone, batch, seed, false);
    let outputs = model.tasks.outputs(&ctx)?;
    let more = extra.loss(&model, &ctx)?;
    drop(ctx);
    let (total, report) = combine(outputs, weights, more, &batch.rgb().device());
    let mut grads = total.backward();
    extra.after_backward(&mut grads);
    let grads = GradientsParams::from_grads(grads, &model);
    Ok((optimizer.step(lr, model, grads), report))
}
