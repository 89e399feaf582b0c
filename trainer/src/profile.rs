//! Where a training step's time goes: every layer of the multitask model timed
//! on its own, forward and backward, on the activations of a real step, next to
//! the whole step (forward, backward, optimizer) timed the same way.
//!
//! Each op runs on a detached copy of its real input, so its backward pass is
//! the op's own (input and parameter gradients), not the graph below it. The
//! backward pass starts from the sum of the op's output; what that seeding
//! costs alone (measured on a leaf of the output's shape) is subtracted. The
//! median over `reps` runs after one untimed run is reported.

use burn::module::AutodiffModule;
use burn::optim::{GradientsParams, Optimizer};
use burn::tensor::Tensor;
use burn::tensor::activation::relu;
use burn::tensor::backend::AutodiffBackend;
use std::time::Instant;

use crate::batch::SyntheticBatch;
use crate::losses::{contour_loss, depth_loss, normal_loss};
use crate::model::conv::{conv_transpose2d_relu, conv2d};
use crate::model::resize::bilinear;
use crate::model::{Backbone, DenseHead};
use crate::train::{MultiTaskModel, TaskWeights, losses, normalise};

/// Why a profile could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// The device failed to finish its queued work.
    #[error("the device failed while profiling: {0}")]
    Device(String),
    /// Nothing to time.
    #[error("the profile needs at least one repetition")]
    NoReps,
    /// A task could not run on the batch.
    #[error(transparent)]
    Task(#[from] crate::tasks::TaskError),
}

/// One op's timing.
#[derive(Clone, Debug)]
pub struct OpTime {
    /// Where in the model (`conv3.bn`, `depth.up2`, `normal.loss`).
    pub op: String,
    /// What kind of op (`conv`, `batch-norm`, `relu`, …), for totals by kind.
    pub kind: &'static str,
    /// Output shape.
    pub output: Vec<usize>,
    /// Median forward seconds.
    pub forward_s: f64,
    /// Median backward seconds (input and parameter gradients of this op alone).
    pub backward_s: f64,
}

/// A whole step, split into its phases.
#[derive(Clone, Copy, Debug, Default)]
pub struct StepTime {
    /// Backbone, heads, losses and metrics.
    pub forward_s: f64,
    /// The backward pass.
    pub backward_s: f64,
    /// The optimizer update.
    pub optimizer_s: f64,
}

/// The profile of one model on one batch.
#[derive(Clone, Debug)]
pub struct Profile {
    /// Every op, in model order.
    pub ops: Vec<OpTime>,
    /// The full step, median over the same repetitions.
    pub step: StepTime,
}

impl Profile {
    /// Forward and backward seconds summed per op kind, largest first.
    pub fn by_kind(&self) -> Vec<(&'static str, f64, f64)> {
        let mut kinds: Vec<(&'static str, f64, f64)> = Vec::new();
        for o in &self.ops {
            match kinds.iter_mut().find(|(k, _, _)| *k == o.kind) {
                Some(k) => {
                    k.1 += o.forward_s;
                    k.2 += o.backward_s;
                }
                None => kinds.push((o.kind, o.forward_s, o.backward_s)),
            }
        }
        kinds.sort_by(|a, b| (b.1 + b.2).total_cmp(&(a.1 + a.2)));
        kinds
    }
}

fn sync<B: AutodiffBackend>(device: &B::Device) -> Result<(), ProfileError> {
    B::sync(device).map_err(|e| ProfileError::Device(format!("{e:?}")))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

/// Times ops one by one.
struct Timer<B: AutodiffBackend> {
    reps: usize,
    device: B::Device,
    ops: Vec<OpTime>,
}

impl<B: AutodiffBackend> Timer<B> {
    /// Times `f` on `x` (forward, then backward of the sum of its output) and
    /// returns its detached output for the next op.
    fn op<const D: usize>(
        &mut self,
        op: String,
        kind: &'static str,
        x: &Tensor<B, 4>,
        f: impl Fn(Tensor<B, 4>) -> Tensor<B, D>,
    ) -> Result<Tensor<B, D>, ProfileError> {
        let (mut fwd, mut bwd) = (Vec::new(), Vec::new());
        let mut out = None;
        for rep in 0..=self.reps {
            let input = x.clone().detach().require_grad();
            sync::<B>(&self.device)?;
            let t = Instant::now();
            let y = f(input);
            sync::<B>(&self.device)?;
            let forward = t.elapsed().as_secs_f64();
            let probe = y.clone().sum();
            sync::<B>(&self.device)?;
            let t = Instant::now();
            let grads = probe.backward();
            sync::<B>(&self.device)?;
            let backward = t.elapsed().as_secs_f64();
            drop(grads);
            if rep > 0 {
                fwd.push(forward);
                bwd.push(backward);
            }
            out = Some(y.detach());
        }
        let out = out.ok_or(ProfileError::NoReps)?;
        let seed = self.seed_cost(&out)?;
        self.ops.push(OpTime {
            op,
            kind,
            output: out.dims().to_vec(),
            forward_s: median(fwd),
            backward_s: (median(bwd) - seed).max(0.0),
        });
        Ok(out)
    }

    /// Seconds the backward pass of `leaf.sum()` takes for a leaf shaped like `y`.
    fn seed_cost<const D: usize>(&self, y: &Tensor<B, D>) -> Result<f64, ProfileError> {
        let mut times = Vec::new();
        for rep in 0..=self.reps {
            let leaf = y.clone().detach().require_grad();
            let probe = leaf.sum();
            sync::<B>(&self.device)?;
            let t = Instant::now();
            let grads = probe.backward();
            sync::<B>(&self.device)?;
            if rep > 0 {
                times.push(t.elapsed().as_secs_f64());
            }
            drop(grads);
        }
        Ok(median(times))
    }

    fn backbone(
        &mut self,
        net: &Backbone<B>,
        x: Tensor<B, 4>,
    ) -> Result<Tensor<B, 4>, ProfileError> {
        let mut h = x;
        for (name, block) in net.blocks() {
            if let Some(pool) = net.pool_before(name) {
                h = self.op(format!("{name}.pool"), "max-pool", &h, |x| pool.forward(x))?;
            }
            h = self.op(format!("{name}.conv"), "conv", &h, |x| {
                conv2d(&block.conv, x)
            })?;
            h = self.op(format!("{name}.bn"), "batch-norm", &h, |x| {
                block.norm.forward(x)
            })?;
            h = self.op(format!("{name}.relu"), "relu", &h, relu)?;
        }
        Ok(h)
    }

    fn head(
        &mut self,
        task: &str,
        head: &DenseHead<B>,
        top: &Tensor<B, 4>,
        size: [usize; 2],
    ) -> Result<Tensor<B, 4>, ProfileError> {
        let mut h = self.op(format!("{task}.reduce"), "conv", top, |x| {
            conv2d(&head.reduce, x)
        })?;
        h = self.op(format!("{task}.reduce.relu"), "relu", &h, relu)?;
        for (i, up) in head.ups.iter().enumerate() {
            // With its ReLU: one op on CPU training.
            h = self.op(format!("{task}.up{}", i + 1), "conv-transpose", &h, |x| {
                conv_transpose2d_relu(up, x)
            })?;
        }
        let [_, _, hh, hw] = h.dims();
        if [hh, hw] != size {
            h = self.op(format!("{task}.resize"), "resize", &h, |x| {
                bilinear(x, size)
            })?;
        }
        self.op(format!("{task}.out"), "conv", &h, |x| conv2d(&head.out, x))
    }
}

/// Profiles one training step of `model` on `batch`: every op alone, then the
/// whole step with an optimizer, each the median of `reps` runs.
pub fn profile_step<B, O>(
    model: &MultiTaskModel<B>,
    optimizer: &mut O,
    batch: &SyntheticBatch<B>,
    weights: &TaskWeights,
    reps: usize,
) -> Result<Profile, ProfileError>
where
    B: AutodiffBackend,
    O: Optimizer<MultiTaskModel<B>, B>,
    MultiTaskModel<B>: AutodiffModule<B>,
{
    if reps == 0 {
        return Err(ProfileError::NoReps);
    }
    let device = batch.rgb.device();
    let mut timer = Timer::<B> {
        reps,
        device: device.clone(),
        ops: Vec::new(),
    };
    let x = timer.op("input".into(), "normalise", &batch.rgb, normalise)?;
    let top = timer.backbone(&model.backbone, x)?;
    let [_, _, lh, lw] = batch.valid.dims();
    for (task, head) in model.tasks.heads() {
        let pred = timer.head(task, head, &top, [lh, lw])?;
        let loss_name = format!("{task}.loss");
        match task {
            "depth" => {
                timer.op(loss_name, "loss", &pred, |p| {
                    depth_loss(p, batch.depth_m.clone())
                })?;
            }
            "normal" => {
                timer.op(loss_name, "loss", &pred, |p| {
                    normal_loss(p, batch.normal.clone(), batch.valid.clone())
                })?;
            }
            "contour" => {
                timer.op(loss_name, "loss", &pred, |p| {
                    contour_loss(p, batch.contour.clone())
                })?;
            }
            // A head without a loss here still counts in the whole step.
            _ => {}
        }
    }
    let step = time_step(model, optimizer, batch, weights, reps, &device)?;
    Ok(Profile {
        ops: timer.ops,
        step,
    })
}

fn time_step<B, O>(
    model: &MultiTaskModel<B>,
    optimizer: &mut O,
    batch: &SyntheticBatch<B>,
    weights: &TaskWeights,
    reps: usize,
    device: &B::Device,
) -> Result<StepTime, ProfileError>
where
    B: AutodiffBackend,
    O: Optimizer<MultiTaskModel<B>, B>,
    MultiTaskModel<B>: AutodiffModule<B>,
{
    let mut model = model.clone();
    let (mut fwd, mut bwd, mut opt) = (Vec::new(), Vec::new(), Vec::new());
    for rep in 0..=reps {
        sync::<B>(device)?;
        let t = Instant::now();
        // `losses` reads its numbers back, so the forward pass has finished.
        let (loss, _) = losses(&model, batch, weights, rep as u64)?;
        let forward = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        sync::<B>(device)?;
        let backward = t.elapsed().as_secs_f64();
        let t = Instant::now();
        model = optimizer.step(1e-4, model, grads);
        sync::<B>(device)?;
        let update = t.elapsed().as_secs_f64();
        if rep > 0 {
            fwd.push(forward);
            bwd.push(backward);
            opt.push(update);
        }
    }
    Ok(StepTime {
        forward_s: median(fwd),
        backward_s: median(bwd),
        optimizer_s: median(opt),
    })
}
