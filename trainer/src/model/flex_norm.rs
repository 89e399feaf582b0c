//! Training-mode batch norm on `Autodiff<Flex>` (CPU training) as one op with
//! its own backward pass, on host `f32` slices.
//!
//! Built from tensor ops ([`super::norm`]), the forward pass is nine
//! element-wise and reduction passes over the activation and the backward
//! pass as many again. Here the forward is two passes (statistics, then
//! `y = x̂·γ + β`) and the backward two (`Σ dy`, `Σ dy·x̂`, then
//! `dx = γ/σ · (dy − mean(dy) − x̂·mean(dy·x̂))`). Same function, same
//! gradients up to float rounding.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::NoCheckpointing;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::{Autodiff, Flex};
use burn::tensor::ops::FloatTensor;
use burn::tensor::{Tensor, TensorData, TensorPrimitive};

type FlexTensor = FloatTensor<Flex>;
/// A tensor of `Autodiff<Flex>`: burn-flex's tensor and its graph node.
pub type TrainTensor = FloatTensor<Autodiff<Flex>>;

/// What the backward pass keeps.
#[derive(Clone, Debug)]
struct State {
    /// The normalised input `x̂`, `[N, C, H·W]`.
    x_hat: Vec<f32>,
    /// `1/σ` per channel.
    inv_std: Vec<f32>,
    /// γ.
    gamma: Vec<f32>,
    /// `[N, C, H, W]`.
    shape: [usize; 4],
}

#[derive(Debug)]
struct Norm;

impl Backward<Flex, 3> for Norm {
    type State = State;

    fn backward(self, ops: Ops<State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let dy = grads.consume::<Flex>(&ops.node);
        let [px, pg, pb] = ops.parents.map(|p| p.map(|p| p.id));
        let Some(dy) = host::<4>(&dy) else {
            return;
        };
        let s = ops.state;
        let [n, c, h, w] = s.shape;
        let plane = h * w;
        let count = (n * plane).max(1) as f32;
        // Σ dy and Σ dy·x̂ per channel.
        let (mut sum_dy, mut sum_dy_xhat) = (vec![0.0f32; c], vec![0.0f32; c]);
        for (i, (dy, xh)) in dy
            .chunks(plane.max(1))
            .zip(s.x_hat.chunks(plane.max(1)))
            .enumerate()
        {
            let ch = i % c;
            sum_dy[ch] += dy.iter().sum::<f32>();
            sum_dy_xhat[ch] += dy.iter().zip(xh).map(|(d, x)| d * x).sum::<f32>();
        }
        if let Some(px) = px {
            let mut dx = vec![0.0f32; dy.len()];
            for (i, ((dx, dy), xh)) in dx
                .chunks_mut(plane.max(1))
                .zip(dy.chunks(plane.max(1)))
                .zip(s.x_hat.chunks(plane.max(1)))
                .enumerate()
            {
                let ch = i % c;
                let (k, m1, m2) = (
                    s.gamma[ch] * s.inv_std[ch],
                    sum_dy[ch] / count,
                    sum_dy_xhat[ch] / count,
                );
                for ((dx, dy), xh) in dx.iter_mut().zip(dy).zip(xh) {
                    *dx = k * (dy - m1 - xh * m2);
                }
            }
            grads.register::<Flex>(px, primitive(dx, [n, c, h, w]));
        }
        if let Some(pg) = pg {
            grads.register::<Flex>(pg, primitive(sum_dy_xhat, [c]));
        }
        if let Some(pb) = pb {
            grads.register::<Flex>(pb, primitive(sum_dy, [c]));
        }
    }
}

/// The output of [`forward`]: the normalised tensor and the batch statistics
/// (mean and biased variance per channel) for the running ones.
pub struct Normalised {
    /// `(x − mean)/σ · γ + β`.
    pub y: TrainTensor,
    /// Per-channel batch mean.
    pub mean: Vec<f32>,
    /// Per-channel batch variance (biased).
    pub var: Vec<f32>,
}

/// Batch norm of `x` `[N, C, H, W]` with batch statistics, recording its
/// backward pass; `None` when the values are not `f32` or shapes disagree.
pub fn forward(
    x: TrainTensor,
    gamma: TrainTensor,
    beta: TrainTensor,
    epsilon: f64,
) -> Option<Normalised> {
    let [n, c, h, w] =
        Tensor::<Flex, 4>::from_primitive(TensorPrimitive::Float(x.primitive.clone())).dims();
    let (xv, g, b) = (
        host::<4>(&x.primitive)?,
        host::<1>(&gamma.primitive)?,
        host::<1>(&beta.primitive)?,
    );
    if g.len() != c || b.len() != c || xv.len() != n * c * h * w {
        return None;
    }
    let plane = (h * w).max(1);
    let count = (n * h * w).max(1) as f64;
    // Two passes for the variance, in f64 per row: as exact as the reductions
    // of the tensor-op version.
    let (mut mean, mut var) = (vec![0.0f64; c], vec![0.0f64; c]);
    for (i, row) in xv.chunks(plane).enumerate() {
        mean[i % c] += row.iter().map(|v| *v as f64).sum::<f64>();
    }
    mean.iter_mut().for_each(|m| *m /= count);
    for (i, row) in xv.chunks(plane).enumerate() {
        let m = mean[i % c];
        var[i % c] += row.iter().map(|v| (*v as f64 - m).powi(2)).sum::<f64>();
    }
    var.iter_mut().for_each(|v| *v /= count);
    let inv_std: Vec<f32> = var
        .iter()
        .map(|v| (1.0 / (v + epsilon).sqrt()) as f32)
        .collect();
    let mut x_hat = vec![0.0f32; xv.len()];
    let mut y = vec![0.0f32; xv.len()];
    for (i, ((xr, xh), yr)) in xv
        .chunks(plane)
        .zip(x_hat.chunks_mut(plane))
        .zip(y.chunks_mut(plane))
        .enumerate()
    {
        let ch = i % c;
        let (m, s) = (mean[ch] as f32, inv_std[ch]);
        for ((x, xh), y) in xr.iter().zip(xh.iter_mut()).zip(yr.iter_mut()) {
            *xh = (x - m) * s;
            *y = *xh * g[ch] + b[ch];
        }
    }
    let out = primitive(y, [n, c, h, w]);
    let y = match Norm
        .prepare::<NoCheckpointing>([x.node.clone(), gamma.node.clone(), beta.node.clone()])
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(prep) => prep.finish(
            State {
                x_hat,
                inv_std,
                gamma: g,
                shape: [n, c, h, w],
            },
            out,
        ),
        OpsKind::UnTracked(prep) => prep.finish(out),
    };
    Some(Normalised {
        y,
        mean: mean.iter().map(|v| *v as f32).collect(),
        var: var.iter().map(|v| *v as f32).collect(),
    })
}

/// A rank-`D` tensor's values, row-major; `None` unless `f32`.
fn host<const D: usize>(t: &FlexTensor) -> Option<Vec<f32>> {
    Tensor::<Flex, D>::from_primitive(TensorPrimitive::Float(t.clone()))
        .into_data()
        .into_vec::<f32>()
        .ok()
}

/// burn-flex's rank-`D` tensor of `values` with `shape`.
fn primitive<const D: usize>(values: Vec<f32>, shape: [usize; D]) -> FlexTensor {
    Tensor::<Flex, D>::from_data(TensorData::new(values, shape), &Default::default())
        .into_primitive()
        .tensor()
}
