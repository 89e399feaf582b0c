//! The `Task` plug-in point: every training objective is a task.
//!
//! A task owns its head (a Burn module, so one optimizer and one checkpoint
//! cover everything), builds what it needs from the batch and the shared
//! backbone, and returns a named loss with metrics. Synthetic tasks (depth,
//! normal, contour) read the batch's labels and share one backbone pass over
//! its images; pretext tasks build their own inputs from the images (rotated
//! copies, tiles, patch pairs, grey or masked images) and run the backbone on
//! them. Tasks live as `Option` fields of [`Tasks`]; adding one is a new file
//! plus a field, a line in [`Tasks::outputs`] and one in `MultiTaskConfig::init`.

mod classifier;
mod colorization;
mod contour;
mod dense_geometry;
mod depth;
mod inpainting;
mod jigsaw;
mod next_pixel;
mod normal;
mod relative_position;
mod rotation;
mod simclr;

pub use classifier::ClassifierHead;
use classifier::classify;
pub use colorization::ColorizationTask;
pub use contour::ContourTask;
pub use dense_geometry::{DenseGeometryTask, view_pairs};
pub use depth::DepthTask;
pub use inpainting::InpaintingTask;
pub use jigsaw::JigsawTask;
pub use next_pixel::NextPixelTask;
pub use normal::NormalTask;
pub use relative_position::RelativePositionTask;
pub use rotation::RotationTask;
pub use simclr::{SimclrTask, nt_xent};

use burn::module::Module;
use burn::tensor::Tensor;
use burn::tensor::backend::Backend;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::cell::OnceCell;

use crate::batch::{Batch, SyntheticBatch};
use crate::model::{Backbone, Features};
use crate::pretext::{Image, PretextError, PretextState};
use crate::train::normalise;

/// Names of the registered tasks, as the command line and configs spell them:
/// the synthetic tasks, then the pretext tasks (the classic six, then contrastive).
pub const TASK_NAMES: [&str; 11] = [
    "depth",
    "normal",
    "contour",
    "dense-geometry",
    "rotation",
    "jigsaw",
    "relative-position",
    "colorization",
    "inpainting",
    "next-pixel",
    "simclr",
];

/// Tasks that learn from rendered labels (and, for dense-geometry, cameras).
pub const SYNTHETIC_NAMES: &[&str] = TASK_NAMES.split_at(4).0;

/// Tasks that learn from images alone (synthetic frames or real photographs).
pub const PRETEXT_NAMES: &[&str] = TASK_NAMES.split_at(4).1;

/// Why a task could not run on a batch.
#[derive(Debug, thiserror::Error)]
pub enum TaskError {
    /// A synthetic task met a batch without labels.
    #[error("task `{0}` needs labelled synthetic frames, and this batch has images only")]
    NeedsLabels(&'static str),
    /// A pretext task's state is missing.
    #[error(transparent)]
    Pretext(#[from] PretextError),
    /// A task reads a layer the backbone lacks.
    #[error("the backbone has no layer `{0}`")]
    NoLayer(String),
    /// A batch of labelled frames without their cameras.
    #[error(
        "task `{0}` needs each frame's camera and depth, and this batch was built without them"
    )]
    NeedsGeometry(&'static str),
}

/// One image of a task's row in `predictions.png`, with a caption.
#[derive(Clone, Debug)]
pub struct SheetCell {
    /// The picture.
    pub image: Image,
    /// Up to a dozen characters drawn under it.
    pub caption: String,
}

/// What the context gives a task: the shared backbone, the batch, the
/// backbone's features of the batch's images (computed once, on first use),
/// the images on the host, and the step's randomness.
pub struct TaskContext<'a, B: Backend> {
    /// The shared encoder (pretext tasks run it on their own inputs).
    pub backbone: &'a Backbone<B>,
    /// The batch.
    pub batch: &'a Batch<B>,
    /// Seed of this step's random choices (rotations are fixed; tiles, patches,
    /// masks and permutations are drawn from it).
    pub seed: u64,
    /// Whether tasks should also draw their row of `predictions.png`.
    pub sheet: bool,
    features: OnceCell<Features<B>>,
    images: OnceCell<Vec<Image>>,
}

impl<'a, B: Backend> TaskContext<'a, B> {
    /// The context of one batch.
    pub fn new(backbone: &'a Backbone<B>, batch: &'a Batch<B>, seed: u64, sheet: bool) -> Self {
        TaskContext {
            backbone,
            batch,
            seed,
            sheet,
            features: OnceCell::new(),
            images: OnceCell::new(),
        }
    }

    /// Backbone features of the batch's images (one pass shared by every task).
    pub fn features(&self) -> &Features<B> {
        self.features
            .get_or_init(|| self.backbone.forward(normalise(self.batch.rgb().clone())))
    }

    /// The batch's images on the host, for building pretext inputs.
    pub fn images(&self) -> &[Image] {
        self.images
            .get_or_init(|| Image::from_tensor(self.batch.rgb()))
    }

    /// The batch's labels, or an error naming `task`.
    pub fn labels(&self, task: &'static str) -> Result<&SyntheticBatch<B>, TaskError> {
        self.batch.labels().ok_or(TaskError::NeedsLabels(task))
    }

    /// Height and width of the dense outputs: the labels' size, or for an
    /// unlabelled batch the images' at `label_scale`.
    pub fn label_size(&self, label_scale: usize) -> [usize; 2] {
        match self.batch.labels() {
            Some(l) => {
                let [_, _, h, w] = l.valid.dims();
                [h, w]
            }
            None => {
                let [_, _, h, w] = self.batch.rgb().dims();
                [h / label_scale.max(1), w / label_scale.max(1)]
            }
        }
    }

    /// This step's random generator for the task called `name`.
    pub fn rng(&self, name: &str) -> ChaCha8Rng {
        let salt = name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        });
        ChaCha8Rng::seed_from_u64(self.seed ^ salt)
    }

    /// The device of the batch.
    pub fn device(&self) -> B::Device {
        self.batch.rgb().device()
    }
}

/// A task's loss and metrics for one batch.
pub struct TaskOutput<B: Backend> {
    /// Task name (`depth`, `rotation`, …).
    pub name: &'static str,
    /// Unweighted loss.
    pub loss: Tensor<B, 1>,
    /// Named metrics (detached one-element tensors, read back together by the
    /// caller, so a step waits on the device once).
    pub metrics: Vec<(&'static str, Tensor<B, 1>)>,
    /// A synthetic task's dense prediction in label units (depth in metres,
    /// unit normals, contour probability), detached, for the prediction sheets.
    pub prediction: Option<Tensor<B, 4>>,
    /// A pretext task's row of inputs and outputs, when the context asks for one.
    pub sheet: Option<Vec<SheetCell>>,
}

impl<B: Backend> TaskOutput<B> {
    /// An output with a loss and metrics only.
    pub fn new(
        name: &'static str,
        loss: Tensor<B, 1>,
        metrics: Vec<(&'static str, Tensor<B, 1>)>,
    ) -> Self {
        TaskOutput {
            name,
            loss,
            metrics,
            prediction: None,
            sheet: None,
        }
    }
}

/// A training objective.
pub trait Task<B: Backend> {
    /// Name used on the command line and in logs.
    fn name(&self) -> &'static str;
    /// Loss (and metrics) on one batch.
    fn forward(&self, ctx: &TaskContext<B>) -> Result<TaskOutput<B>, TaskError>;
}

/// Every task a run may enable, each with its head.
#[derive(Module, Debug)]
pub struct Tasks<B: Backend> {
    /// Depth prediction.
    pub depth: Option<DepthTask<B>>,
    /// Surface-normal prediction.
    pub normal: Option<NormalTask<B>>,
    /// Instance-contour prediction.
    pub contour: Option<ContourTask<B>>,
    /// Dense contrast between corresponding pixels of two views.
    pub dense_geometry: Option<DenseGeometryTask<B>>,
    /// Rotation prediction.
    pub rotation: Option<RotationTask<B>>,
    /// Jigsaw puzzles.
    pub jigsaw: Option<JigsawTask<B>>,
    /// Relative patch position.
    pub relative_position: Option<RelativePositionTask<B>>,
    /// Colorization.
    pub colorization: Option<ColorizationTask<B>>,
    /// Inpainting (context encoder).
    pub inpainting: Option<InpaintingTask<B>>,
    /// Next / masked pixel prediction.
    pub next_pixel: Option<NextPixelTask<B>>,
    /// Contrastive learning between two views (SimCLR).
    pub simclr: Option<SimclrTask<B>>,
}

impl<B: Backend> Tasks<B> {
    /// No task.
    pub fn none() -> Self {
        Tasks {
            depth: None,
            normal: None,
            contour: None,
            dense_geometry: None,
            rotation: None,
            jigsaw: None,
            relative_position: None,
            colorization: None,
            inpainting: None,
            next_pixel: None,
            simclr: None,
        }
    }

    /// Every enabled task, in the order of [`TASK_NAMES`].
    fn enabled(&self) -> Vec<&dyn Task<B>> {
        let mut out: Vec<&dyn Task<B>> = Vec::new();
        macro_rules! push {
            ($($f:ident),*) => {$(if let Some(t) = &self.$f { out.push(t); })*};
        }
        push!(
            depth,
            normal,
            contour,
            dense_geometry,
            rotation,
            jigsaw,
            relative_position,
            colorization,
            inpainting,
            next_pixel,
            simclr
        );
        out
    }

    /// Outputs of every enabled task.
    pub fn outputs(&self, ctx: &TaskContext<B>) -> Result<Vec<TaskOutput<B>>, TaskError> {
        self.enabled().into_iter().map(|t| t.forward(ctx)).collect()
    }

    /// Hands the pretext tasks what was learnt before training.
    pub fn prepare(&mut self, state: &PretextState) -> Result<(), PretextError> {
        if let Some(t) = &mut self.jigsaw {
            t.prepare(state)?;
        }
        if let Some(t) = &mut self.colorization {
            t.prepare(state)?;
        }
        if let Some(t) = &mut self.next_pixel {
            t.prepare(state)?;
        }
        Ok(())
    }

    /// Every enabled dense task's name and head.
    pub fn heads(&self) -> Vec<(&'static str, &crate::model::DenseHead<B>)> {
        let mut out = Vec::new();
        if let Some(t) = &self.depth {
            out.push(("depth", t.head()));
        }
        if let Some(t) = &self.normal {
            out.push(("normal", t.head()));
        }
        if let Some(t) = &self.contour {
            out.push(("contour", t.head()));
        }
        out
    }
}

/// Height and width of a labelled batch's labels.
pub(crate) fn label_size<B: Backend>(labels: &SyntheticBatch<B>) -> [usize; 2] {
    let [_, _, h, w] = labels.valid.dims();
    [h, w]
}
