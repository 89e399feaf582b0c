//! Binary cross-entropy on logits and the accuracy of a domain classifier.
//! Label convention everywhere in this crate: 1 = real, 0 = synthetic.

use burn::tensor::Tensor;
use burn::tensor::backend::Backend;

/// Mean binary cross-entropy of `logits` against the constant label `target`
/// (1 = real, 0 = synthetic), in the stable form
/// `max(x, 0) − x·t + log(1 + exp(−|x|))`.
pub fn bce_with_logits<B: Backend, const D: usize>(
    logits: Tensor<B, D>,
    target: f32,
) -> Tensor<B, 1> {
    let positive = logits.clone().clamp_min(0.0);
    let soft = logits.clone().abs().neg().exp().add_scalar(1.0).log();
    (positive - logits * target + soft).mean()
}

/// Fraction of `logits` on the side of `target` (positive for real).
pub fn accuracy<B: Backend, const D: usize>(logits: Tensor<B, D>, real: bool) -> Tensor<B, 1> {
    let right = if real {
        logits.greater_elem(0.0)
    } else {
        logits.lower_equal_elem(0.0)
    };
    right.float().mean()
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::Flex;
    use burn::tensor::TensorData;

    #[test]
    fn bce_matches_the_textbook_formula() {
        let device = Default::default();
        let xs = [-8.0f32, -2.0, 0.0, 1.5, 9.0];
        let t = Tensor::<Flex, 1>::from_data(TensorData::new(xs.to_vec(), [5]), &device);
        for target in [0.0f32, 1.0] {
            let want: f64 = xs
                .iter()
                .map(|&x| {
                    let p = 1.0 / (1.0 + (-(x as f64)).exp());

                    -(target as f64 * p.ln() + (1.0 - target as f64) * (1.0 - p).ln())
                })
                .sum::<f64>()
                / 5.0;
            let got = bce_with_logits(t.clone(), target).into_scalar() as f64;
            assert!((got - want).abs() < 1e-3 * want.max(1.0), "{got} vs {want}");
        }
        let acc = accuracy(t.clone(), true).into_scalar();
        assert!((acc - 0.4).abs() < 1e-6);
        assert!((accuracy(t, false).into_scalar() - 0.6).abs() < 1e-6);
    }
}
