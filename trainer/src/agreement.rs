//! Do two backends compute the same training step? One forward and backward
//! pass of the multitask model, from identical deterministic weights and a
//! deterministic batch, on each backend; every task loss and every parameter
//! gradient compared by relative L2 error.
//!
//! burn 0.21's wgpu backend computes wrong convolution weight gradients at
//! some batch × map sizes, so `synthfeat train --device wgpu` runs this check
//! against the CPU on the run's own shapes before training.

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{Tensor, TensorData};

use crate::batch::SyntheticBatch;
use crate::train::{MultiTaskConfig, TaskWeights, TrainError, losses};

/// Named arrays a computation produced (losses, gradients), in a fixed order.
pub type Outcome = Vec<(String, Vec<f32>)>;

/// Deterministic values in `[-scale, scale]`, the same on every backend.
pub fn values(count: usize, salt: usize, scale: f32) -> Vec<f32> {
    (0..count)
        .map(|i| scale * ((i * 7919 + salt * 104_729) as f32 * 0.618_034).sin())
        .collect()
}

/// A tensor of [`values`].
pub fn tensor<B: Backend, const D: usize>(
    dims: [usize; D],
    salt: usize,
    scale: f32,
    device: &B::Device,
) -> Tensor<B, D> {
    let count = dims.iter().product();
    Tensor::from_data(TensorData::new(values(count, salt, scale), dims), device)
}

/// A module mapper that replaces every float parameter with deterministic
/// values scaled by its fan-in.
pub struct Fill {
    salt: usize,
}

impl Fill {
    /// Starts the parameter count at 0, so the same module gets the same values.
    pub fn new() -> Self {
        Fill { salt: 0 }
    }
}

impl Default for Fill {
    fn default() -> Self {
        Fill::new()
    }
}

impl<B: Backend> ModuleMapper<B> for Fill {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
        self.salt += 1;
        let salt = self.salt;
        param.map(|t| {
            let dims = t.dims();
            let fan_in: usize = dims.iter().skip(1).product::<usize>().max(1);
            let scale = 1.5 / (fan_in as f32).sqrt();
            let grad = t.is_require_grad();
            let fresh = tensor::<B, D>(dims, salt, scale, &t.device());
            if grad { fresh.require_grad() } else { fresh }
        })
    }
}

/// Collects every parameter's gradient, in module order.
pub struct Grads<'a, B: AutodiffBackend> {
    grads: &'a B::Gradients,
    /// The gradients found so far.
    pub out: Vec<Vec<f32>>,
}

impl<'a, B: AutodiffBackend> Grads<'a, B> {
    /// A visitor reading from `grads`.
    pub fn new(grads: &'a B::Gradients) -> Self {
        Grads {
            grads,
            out: Vec::new(),
        }
    }
}

impl<B: AutodiffBackend> ModuleVisitor<B> for Grads<'_, B> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        if let Some(g) = param.grad(self.grads) {
            self.out
                .push(g.into_data().convert::<f32>().to_vec().unwrap_or_default());
        }
    }
}

/// A deterministic textured batch of `images` × `size`² with labels at 1/`label_scale`.
pub fn batch<B: Backend>(
    images: usize,
    size: usize,
    label_scale: usize,
    device: &B::Device,
) -> SyntheticBatch<B> {
    let l = (size / label_scale.max(1)).max(1);
    let normal = tensor::<B, 4>([images, 3, l, l], 11, 1.0, device) + 0.05;
    let norm = normal.clone().square().sum_dim(1).sqrt().clamp_min(1e-6);
    SyntheticBatch {
        // Textured: flat images give max-pool windows exact ties, routed freely.
        rgb: tensor::<B, 4>([images, 3, size, size], 10, 0.5, device) + 0.5,
        depth_m: tensor::<B, 4>([images, 1, l, l], 12, 3.0, device) + 4.0,
        normal: normal / norm,
        valid: Tensor::ones([images, 1, l, l], device),
        contour: tensor::<B, 4>([images, 1, l, l], 13, 1.0, device)
            .greater_elem(0.6)
            .float(),
        views: Vec::new(),
    }
}

/// One step of `config`'s model (deterministic weights) on `batch`: each
/// task's loss, then every parameter's gradient.
pub fn step_outcome<B: AutodiffBackend>(
    config: &MultiTaskConfig,
    batch: &SyntheticBatch<B>,
    device: &B::Device,
) -> Result<Outcome, TrainError> {
    let mut model = config.init::<B>(device)?.map(&mut Fill::new());
    // Pretext tasks learn their palette and colour prior from the batch itself.
    let images = crate::pretext::Image::from_tensor(&batch.rgb);
    config.prepare(&mut model, &images, 0)?;
    let (total, report) = losses(&model, batch, &TaskWeights::new(), 0)?;
    let mut out: Outcome = report
        .tasks
        .iter()
        .map(|t| (format!("{} loss", t.name), vec![t.loss as f32]))
        .collect();
    let grads = total.backward();
    let mut visitor = Grads::<B>::new(&grads);
    model.visit(&mut visitor);
    out.extend(
        visitor
            .out
            .into_iter()
            .enumerate()
            .map(|(i, g)| (format!("parameter {i} gradient"), g)),
    );
    Ok(out)
}

/// Relative L2 distance of `b` from `a`.
pub fn relative_error(a: &[f32], b: &[f32]) -> f64 {
    if a.len() != b.len() {
        return f64::INFINITY;
    }
    let diff: f64 = a
        .iter()
        .zip(b)
        .map(|(x, y)| (*x as f64 - *y as f64).powi(2))
        .sum();
    let norm: f64 = a.iter().map(|x| (*x as f64).powi(2)).sum();
    (diff / norm.max(1e-30)).sqrt()
}

/// The entry of `b` farthest from `a`, with its relative error (infinite when
/// the two outcomes do not even have the same entries).
pub fn worst(a: &Outcome, b: &Outcome) -> (String, f64) {
    if a.len() != b.len() {
        return ("the set of results".into(), f64::INFINITY);
    }
    a.iter()
        .zip(b)
        .map(|((name, x), (_, y))| (name.clone(), relative_error(x, y)))
        .fold((String::new(), 0.0), |w, e| if e.1 > w.1 { e } else { w })
}

/// Runs one step of `config` with `images` × `size`² batches on backends `A`
/// (the reference) and `B`, and returns the worst disagreement.
pub fn compare<A: AutodiffBackend, B: AutodiffBackend>(
    config: &MultiTaskConfig,
    images: usize,
    size: usize,
    a: &A::Device,
    b: &B::Device,
) -> Result<(String, f64), TrainError> {
    let scale = config.label_scale;
    let reference = step_outcome::<A>(config, &batch::<A>(images, size, scale, a), a)?;
    let other = step_outcome::<B>(config, &batch::<B>(images, size, scale, b), b)?;
    Ok(worst(&reference, &other))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worst_names_the_farthest_entry_and_flags_mismatched_outcomes() {
        let a: Outcome = vec![
            ("depth loss".into(), vec![1.0]),
            ("parameter 0 gradient".into(), vec![3.0, 4.0]),
        ];
        let b: Outcome = vec![
            ("depth loss".into(), vec![1.0001]),
            ("parameter 0 gradient".into(), vec![3.0, 2.0]),
        ];
        let (name, e) = worst(&a, &b);
        assert_eq!(name, "parameter 0 gradient");
        assert!((e - 0.4).abs() < 1e-9, "{e}");
        assert_eq!(worst(&a, &a).1, 0.0);
        assert!(worst(&a, &b[..1].to_vec()).1.is_infinite());
        assert!(relative_error(&[1.0], &[1.0, 2.0]).is_infinite());
    }

    #[test]
    fn fill_and_batch_are_deterministic() {
        use burn::backend::Flex;
        let device = Default::default();
        let b1 = batch::<Flex>(2, 16, 4, &device);
        let b2 = batch::<Flex>(2, 16, 4, &device);
        assert_eq!(b1.rgb.to_data(), b2.rgb.to_data());
        assert_eq!(b1.contour.dims(), [2, 1, 4, 4]);
        let norms: Vec<f32> = b1
            .normal
            .square()
            .sum_dim(1)
            .into_data()
            .to_vec()
            .unwrap_or_default();
        assert!(norms.iter().all(|n| (n - 1.0).abs() < 1e-4));
    }
}
