//! Statistics matching between two feature samples: MMD with a
//! multi-bandwidth Gaussian kernel (Long et al., DAN, ICML 2015) and CORAL
//! (Sun & Saenko, ECCV 2016 workshops). Rows are samples, columns features.

use burn::tensor::Tensor;
use burn::tensor::backend::Backend;

/// Bandwidth multipliers of [`mmd2`]'s kernels, relative to the mean squared
/// pairwise distance (DAN's five kernels a factor 2 apart).
pub const MMD_BANDWIDTHS: [f64; 5] = [0.25, 0.5, 1.0, 2.0, 4.0];

/// Squared maximum mean discrepancy between the rows of `x` `[n, d]` and of
/// `y` `[m, d]` (the biased V-statistic, ≥ 0), under the sum of Gaussian
/// kernels `exp(−‖a − b‖² / (s·b̄))` for every multiplier `s` in
/// `bandwidths`, where `b̄` is the mean squared distance between distinct
/// rows of both samples (held constant for the gradient).
pub fn mmd2<B: Backend>(x: Tensor<B, 2>, y: Tensor<B, 2>, bandwidths: &[f64]) -> Tensor<B, 1> {
    let [n, _] = x.dims();
    let [m, _] = y.dims();
    let total = n + m;
    let z = Tensor::cat(vec![x, y], 0);
    let norms = z.clone().powi_scalar(2).sum_dim(1); // [t, 1]
    let gram = z.clone().matmul(z.transpose());
    let dist = (norms.clone() + norms.transpose() - gram * 2.0).clamp_min(0.0);
    let pairs = (total * total).saturating_sub(total).max(1) as f64;
    let mean_dist = (dist.clone().sum().detach() / pairs).clamp_min(1e-12);
    let kernel = bandwidths
        .iter()
        .map(|s| {
            let scale = mean_dist.clone().mul_scalar(*s).reshape([1, 1]);
            (dist.clone().neg() / scale).exp()
        })
        .reduce(|a, b| a + b)
        .unwrap_or_else(|| dist.zeros_like());
    let kxx = kernel.clone().slice([0..n, 0..n]).mean();
    let kyy = kernel.clone().slice([n..total, n..total]).mean();
    let kxy = kernel.slice([0..n, n..total]).mean();
    kxx + kyy - kxy * 2.0
}

/// Covariance of the rows of `x` `[n, d]` (unbiased), `[d, d]`.
fn covariance<B: Backend>(x: Tensor<B, 2>) -> Tensor<B, 2> {
    let [n, _] = x.dims();
    let centred = x.clone() - x.mean_dim(0);
    centred.clone().transpose().matmul(centred) / (n.max(2) - 1) as f64
}

/// CORAL loss: the squared Frobenius distance between the feature
/// covariances of `x` `[n, d]` and `y` `[m, d]`, divided by `4·d²`.
pub fn coral<B: Backend>(x: Tensor<B, 2>, y: Tensor<B, 2>) -> Tensor<B, 1> {
    let [_, d] = x.dims();
    let diff = covariance(x) - covariance(y);
    diff.powi_scalar(2).sum() / (4.0 * (d * d).max(1) as f64)
}

/// Global average pool of `[N, C, H, W]` features to `[N, C]` rows.
pub fn pooled<B: Backend>(features: Tensor<B, 4>) -> Tensor<B, 2> {
    let [n, c, h, w] = features.dims();
    features.reshape([n, c, h * w]).mean_dim(2).reshape([n, c])
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::Flex;
    use burn::tensor::{Distribution, TensorData};

    type B = Flex;

    fn gaussian(n: usize, d: usize, shift: f64, seed: u64) -> Tensor<B, 2> {
        B::seed(&Default::default(), seed);
        Tensor::<B, 2>::random([n, d], Distribution::Normal(0.0, 1.0), &Default::default())
            .add_scalar(shift)
    }

    #[test]
    fn mmd_is_near_zero_within_a_distribution_and_grows_with_a_mean_shift() {
        let same = mmd2(
            gaussian(200, 8, 0.0, 1),
            gaussian(200, 8, 0.0, 2),
            &MMD_BANDWIDTHS,
        )
        .into_scalar();
        let mut last = same;
        for shift in [0.5, 1.0, 2.0] {
            let v = mmd2(
                gaussian(200, 8, 0.0, 1),
                gaussian(200, 8, shift, 2),
                &MMD_BANDWIDTHS,
            )
            .into_scalar();
            assert!(v > last, "shift {shift}: {v} not above {last}");
            last = v;
        }
        assert!(
            same >= -1e-6 && same < 0.05 * last,
            "same {same}, shifted {last}"
        );
    }

    #[test]
    fn coral_is_zero_for_equal_covariances_and_positive_otherwise() {
        let x = gaussian(100, 6, 0.0, 3);
        // A pure mean shift keeps the covariance.
        let zero = coral(x.clone(), x.clone().add_scalar(5.0)).into_scalar();
        assert!(zero.abs() < 1e-6, "{zero}");
        let wider = coral(x.clone(), x * 3.0).into_scalar();
        assert!(wider > 0.1, "{wider}");
    }

    #[test]
    fn pooled_averages_each_channel() {
        let t = Tensor::<B, 4>::from_data(
            TensorData::new((0..16).map(|v| v as f32).collect::<Vec<_>>(), [2, 2, 2, 2]),
            &Default::default(),
        );
        let p = pooled(t).into_data().to_vec::<f32>().unwrap();
        assert_eq!(p, vec![1.5, 5.5, 9.5, 13.5]);
    }
}
