//! Bilinear resizing as two small matrix products, so it is differentiable on
//! every backend: burn's `interpolate` has no bilinear backward on wgpu
//! ("bilinear interpolation backward is not supported by JIT backend").
//!
//! Corners are aligned (`align_corners=True` in PyTorch's terms): output pixel
//! `i` samples input position `i · (in − 1) / (out − 1)`.

use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};

/// The `[out, in]` matrix that linearly interpolates `input` samples to `output`.
fn weights<B: Backend>(output: usize, input: usize, device: &B::Device) -> Tensor<B, 2> {
    let mut w = vec![0.0f32; output * input];
    for i in 0..output {
        let src = if output > 1 {
            i as f64 * (input.saturating_sub(1)) as f64 / (output - 1) as f64
        } else {
            0.0
        };
        let lo = (src.floor() as usize).min(input.saturating_sub(1));
        let hi = (lo + 1).min(input.saturating_sub(1));
        let t = (src - lo as f64) as f32;
        w[i * input + lo] += 1.0 - t;
        w[i * input + hi] += t;
    }
    Tensor::from_data(TensorData::new(w, [output, input]), device)
}

/// Resizes `[N, C, H, W]` to `[N, C, size[0], size[1]]` bilinearly.
pub fn bilinear<B: Backend>(x: Tensor<B, 4>, size: [usize; 2]) -> Tensor<B, 4> {
    let [n, c, h, w] = x.dims();
    if [h, w] == size {
        return x;
    }
    let device = x.device();
    let rows = weights::<B>(size[0], h, &device);
    let cols = weights::<B>(size[1], w, &device).transpose();
    // Along the width: [N·C·H, W] × [W, W'].
    let x = x.reshape([n * c * h, w]).matmul(cols);
    // Along the height: [N·C, H', H] × [N·C, H, W'], the weights broadcast over images.
    let x = rows
        .unsqueeze::<3>()
        .expand([n * c, size[0], h])
        .matmul(x.reshape([n * c, h, size[1]]));
    x.reshape([n, c, size[0], size[1]])
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::Flex;
    use burn::tensor::module::interpolate;
    use burn::tensor::ops::{InterpolateMode, InterpolateOptions};
    use burn::tensor::{Distribution, Tolerance};

    #[test]
    fn matches_burns_bilinear_interpolation_with_aligned_corners() {
        let device = Default::default();
        let x = Tensor::<Flex, 4>::random([2, 3, 11, 7], Distribution::Normal(0.0, 1.0), &device);
        for size in [[16, 16], [11, 7], [5, 9], [56, 56]] {
            let ours = bilinear(x.clone(), size);
            let options =
                InterpolateOptions::new(InterpolateMode::Bilinear).with_align_corners(true);
            let theirs = interpolate(x.clone(), size, options);
            ours.into_data()
                .assert_approx_eq::<f32>(&theirs.into_data(), Tolerance::absolute(1e-5));
        }
    }

    #[test]
    fn keeps_corners_and_constant_images() {
        let device = Default::default();
        let x = Tensor::<Flex, 4>::ones([1, 1, 3, 4], &device) * 2.5;
        let y = bilinear(x, [7, 9]);
        let v: Vec<f32> = y.into_data().to_vec().unwrap_or_default();
        assert!(v.iter().all(|&a| (a - 2.5).abs() < 1e-6));
    }
}
