//! The synthetic tasks' losses, following Ren & Lee's released code.
//!
//! Every loss takes predictions and targets as `[batch, channels, height, width]`
//! tensors and ignores pixels without a surface (target depth 0).

use burn::tensor::Tensor;
use burn::tensor::backend::Backend;

/// Per-image mean over valid pixels of `values` (`[B, C, H, W]`, already masked),
/// given the per-image count of valid pixels (`[B, 1, 1, 1]`).
fn masked_mean<B: Backend>(values: Tensor<B, 4>, count: Tensor<B, 4>) -> Tensor<B, 4> {
    values.sum_dims(&[1, 2, 3]) / count.clamp_min(1.0)
}

/// Mean over the images that have at least one valid pixel.
fn mean_over_valid_images<B: Backend>(
    per_image: Tensor<B, 4>,
    count: Tensor<B, 4>,
) -> Tensor<B, 1> {
    let has = count.greater_elem(0.0).float();
    (per_image * has.clone()).sum() / has.sum().clamp_min(1.0)
}

/// Scale-aware log-depth loss: with `d = pred_log − ln(target)` on valid pixels,
/// `0.5 · (mean(d²) + 0.5 · mean(d)²)` per image, averaged over images.
///
/// `pred_log`: predicted log depth `[B, 1, H, W]`; `target_m`: depth in metres, 0 = invalid.
pub fn depth_loss<B: Backend>(pred_log: Tensor<B, 4>, target_m: Tensor<B, 4>) -> Tensor<B, 1> {
    let valid = target_m.clone().greater_elem(0.0);
    let validf = valid.clone().float();
    let safe = target_m.mask_fill(valid.bool_not(), 1.0);
    let d = (pred_log - safe.log()) * validf.clone();
    let count = validf.sum_dims(&[1, 2, 3]);
    let mean_d = masked_mean(d.clone(), count.clone());
    let mean_d2 = masked_mean(d.square(), count.clone());
    let per_image = (mean_d2 + mean_d.square() * 0.5) * 0.5;
    mean_over_valid_images(per_image, count)
}

/// Cosine loss on surface normals: `1 − cos(pred, target)` averaged over valid pixels.
///
/// `pred`: unnormalised `[B, 3, H, W]` (L2-normalised here); `target`: unit normals;
/// `valid`: `[B, 1, H, W]`, 1 where the pixel has a surface.
pub fn normal_loss<B: Backend>(
    pred: Tensor<B, 4>,
    target: Tensor<B, 4>,
    valid: Tensor<B, 4>,
) -> Tensor<B, 1> {
    let norm = pred.clone().square().sum_dim(1).sqrt().clamp_min(1e-6);
    let unit = pred / norm;
    let cos = (unit * target).sum_dim(1);
    let count = valid.clone().sum_dims(&[1, 2, 3]);
    let per_image = masked_mean((cos.neg() + 1.0) * valid, count.clone());
    mean_over_valid_images(per_image, count)
}

/// `ln(1 + e^x)`, stable for large `|x|`.
fn softplus<B: Backend>(x: Tensor<B, 4>) -> Tensor<B, 4> {
    x.clone().clamp_min(0.0) + x.abs().neg().exp().log1p()
}

/// Contour loss: binary cross-entropy with logits, positives weighted per image by
/// `(H·W − n_edge) / n_edge`, averaged over pixels and images.
///
/// `logits`: `[B, 1, H, W]`; `edges`: 1 on contour pixels, else 0.
pub fn contour_loss<B: Backend>(logits: Tensor<B, 4>, edges: Tensor<B, 4>) -> Tensor<B, 1> {
    let [_, _, h, w] = edges.dims();
    let pixels = (h * w) as f64;
    let n_edge = edges.clone().sum_dims(&[1, 2, 3]);
    let pos_weight = (n_edge.clone().neg() + pixels) / n_edge.clamp_min(1.0);
    let positive = edges.clone() * softplus(logits.clone().neg()) * pos_weight;
    let negative = (edges.neg() + 1.0) * softplus(logits);
    (positive + negative).mean()
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::Flex;
    use burn::tensor::TensorData;

    type B = Flex;

    fn t(values: &[f32], shape: [usize; 4]) -> Tensor<B, 4> {
        Tensor::from_data(TensorData::new(values.to_vec(), shape), &Default::default())
    }

    fn scalar(x: Tensor<B, 1>) -> f32 {
        x.into_scalar()
    }

    #[test]
    fn depth_loss_is_zero_when_perfect_and_ignores_invalid_pixels() {
        let target = t(&[1.0, 2.0, 0.0, 4.0], [1, 1, 2, 2]);
        let perfect = t(&[0.0, 2f32.ln(), 123.0, 4f32.ln()], [1, 1, 2, 2]);
        assert!(scalar(depth_loss(perfect, target)).abs() < 1e-6);
    }

    #[test]
    fn depth_loss_matches_a_hand_computed_case() {
        // d = [0, -1] on the two valid pixels: mean(d²) = 0.5, mean(d) = -0.5.
        let target = t(&[1.0, std::f32::consts::E, 0.0], [1, 1, 1, 3]);
        let pred = t(&[0.0, 0.0, 5.0], [1, 1, 1, 3]);
        let expected = 0.5 * (0.5 + 0.5 * 0.25);
        assert!((scalar(depth_loss(pred, target)) - expected).abs() < 1e-6);
    }

    #[test]
    fn normal_loss_is_scale_free_zero_when_aligned_two_when_opposite() {
        let valid = t(&[1.0, 1.0], [1, 1, 1, 2]);
        // Channel-major [x0, x1, y0, y1, z0, z1]: both pixels face +z, at any length.
        let target = t(&[0.0, 0.0, 0.0, 0.0, 1.0, 1.0], [1, 3, 1, 2]);
        let aligned = t(&[0.0, 0.0, 0.0, 0.0, 5.0, 2.0], [1, 3, 1, 2]);
        let opposite = t(&[0.0, 0.0, 0.0, 0.0, -3.0, -1.0], [1, 3, 1, 2]);
        assert!(scalar(normal_loss(aligned, target.clone(), valid.clone())).abs() < 1e-6);
        assert!((scalar(normal_loss(opposite, target.clone(), valid)) - 2.0).abs() < 1e-6);
        // An invalid pixel does not count.
        let half = t(&[1.0, 0.0], [1, 1, 1, 2]);
        let mixed = t(&[0.0, 0.0, 0.0, 0.0, 1.0, -1.0], [1, 3, 1, 2]);
        assert!(scalar(normal_loss(mixed, target, half)).abs() < 1e-6);
    }

    #[test]
    fn contour_loss_weights_positives_by_the_negative_ratio() {
        // 1 edge among 4 pixels: positive weight 3. Logits 0: every term is ln 2.
        let edges = t(&[1.0, 0.0, 0.0, 0.0], [1, 1, 2, 2]);
        let logits = t(&[0.0; 4], [1, 1, 2, 2]);
        let expected = (3.0 * 2f32.ln() + 3.0 * 2f32.ln()) / 4.0;
        assert!((scalar(contour_loss(logits, edges.clone())) - expected).abs() < 1e-5);
        // Confident and right: near zero.
        let good = t(&[20.0, -20.0, -20.0, -20.0], [1, 1, 2, 2]);
        assert!(scalar(contour_loss(good, edges)) < 1e-6);
    }
}
