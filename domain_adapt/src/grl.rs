//! Gradient reversal (Ganin & Lempitsky, ICML 2015): the identity forward,
//! the incoming gradient times −λ backward.

use burn::tensor::Tensor;
use burn::tensor::backend::Backend;

/// Returns `x` unchanged; on the backward pass the gradient reaching `x` is
/// the incoming gradient multiplied by `-lambda`.
///
/// Built from a detached copy, so the forward value is exactly `x`:
/// `x̄ + (x − x̄)·(−λ)` with `x̄ = detach(x)` is `x` in value, and its
/// derivative with respect to `x` is `−λ`.
pub fn reverse_gradient<B: Backend, const D: usize>(x: Tensor<B, D>, lambda: f64) -> Tensor<B, D> {
    let frozen = x.clone().detach();
    frozen.clone() + (x - frozen) * (-lambda)
}

/// DANN's schedule for λ: `2 / (1 + exp(−10·p)) − 1`, rising from 0 at the
/// start of training (`progress` 0) towards 1 at the end (`progress` 1).
pub fn ramp(progress: f64) -> f64 {
    let p = progress.clamp(0.0, 1.0);
    2.0 / (1.0 + (-10.0 * p).exp()) - 1.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::{Autodiff, Flex};
    use burn::tensor::{Tensor, TensorData};

    type B = Autodiff<Flex>;

    #[test]
    fn identity_forward_and_minus_lambda_backward() {
        let device = Default::default();
        let values = [0.5f32, -1.25, 3.0, 7.5, -0.125, 2.0];
        let x = Tensor::<B, 2>::from_data(TensorData::new(values.to_vec(), [2, 3]), &device)
            .require_grad();
        let y = reverse_gradient(x.clone(), 0.3);
        assert_eq!(y.clone().into_data().to_vec::<f32>().unwrap(), values);
        // A loss whose gradient with respect to y is known: d(Σ w·y)/dy = w.
        let w = [1.0f32, 2.0, -3.0, 0.5, 4.0, -1.0];
        let wt = Tensor::<B, 2>::from_data(TensorData::new(w.to_vec(), [2, 3]), &device);
        let grads = (y * wt).sum().backward();
        let g = x.grad(&grads).unwrap().into_data().to_vec::<f32>().unwrap();
        for (gi, wi) in g.iter().zip(w) {
            assert!((gi - (-0.3 * wi)).abs() < 1e-6, "{gi} vs {}", -0.3 * wi);
        }
    }

    #[test]
    fn ramp_runs_from_zero_towards_one() {
        assert_eq!(ramp(0.0), 0.0);
        assert!((ramp(1.0) - 0.999_909).abs() < 1e-5);
        assert!(ramp(0.1) < ramp(0.2) && ramp(0.2) < ramp(0.5));
        assert_eq!(ramp(-1.0), 0.0);
    }
}
