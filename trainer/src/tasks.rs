//! The `Task` plug-in point: every training objective is a task.
//!
//! A task owns its head (a Burn module, so one optimizer and one checkpoint
//! cover everything), builds what it needs from the batch and the shared
//! backbone, and returns a named loss with metrics. Tasks live as `Option`
//! fields of [`Tasks`]; adding one is a new file plus a field and a line in
//! [`Tasks::outputs`].

mod contour;
mod depth;
mod normal;

pub use contour::ContourTask;
pub use depth::DepthTask;
pub use normal::NormalTask;

use burn::module::Module;
use burn::tensor::Tensor;
use burn::tensor::backend::Backend;

use crate::batch::SyntheticBatch;
use crate::model::{Backbone, Features};

/// Names of the registered tasks, as the command line and configs spell them.
pub const TASK_NAMES: [&str; 3] = ["depth", "normal", "contour"];

/// What a task sees: the shared backbone, the batch and the backbone's features of its RGB.
pub struct TaskContext<'a, B: Backend> {
    /// The shared encoder (tasks with their own inputs run it again).
    pub backbone: &'a Backbone<B>,
    /// The batch.
    pub batch: &'a SyntheticBatch<B>,
    /// Backbone features of `batch.rgb`, computed once for all tasks.
    pub features: &'a Features<B>,
}

/// A task's loss and metrics for one batch.
pub struct TaskOutput<B: Backend> {
    /// Task name (`depth`, `normal`, …).
    pub name: &'static str,
    /// Unweighted loss.
    pub loss: Tensor<B, 1>,
    /// Named metrics (detached one-element tensors, read back together by the
    /// caller, so a step waits on the device once).
    pub metrics: Vec<(&'static str, Tensor<B, 1>)>,
    /// The dense prediction in label units (depth in metres, unit normals,
    /// contour probability), detached, for the prediction sheets.
    pub prediction: Option<Tensor<B, 4>>,
}

/// A training objective.
pub trait Task<B: Backend> {
    /// Name used on the command line and in logs.
    fn name(&self) -> &'static str;
    /// Loss (and metrics) on one batch.
    fn forward(&self, ctx: &TaskContext<B>) -> TaskOutput<B>;
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
}

impl<B: Backend> Tasks<B> {
    /// Outputs of every enabled task.
    pub fn outputs(&self, ctx: &TaskContext<B>) -> Vec<TaskOutput<B>> {
        let mut out = Vec::new();
        if let Some(t) = &self.depth {
            out.push(t.forward(ctx));
        }
        if let Some(t) = &self.normal {
            out.push(t.forward(ctx));
        }
        if let Some(t) = &self.contour {
            out.push(t.forward(ctx));
        }
        out
    }
}

impl<B: Backend> Tasks<B> {
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

impl<B: Backend> TaskContext<'_, B> {
    /// Height and width of the batch's labels, which dense heads must reach.
    pub fn label_size(&self) -> [usize; 2] {
        let [_, _, h, w] = self.batch.valid.dims();
        [h, w]
    }
}
