//! The domain gap at each validation: the backbone's pooled features of the
//! held-out synthetic and real images at the adaptation layer, told apart by
//! a linear classifier (its accuracy and the proxy A-distance) and compared
//! by MMD.

use burn::tensor::Tensor;
use burn::tensor::backend::Backend;
use domain_adapt::gap::{self, GapError};
use domain_adapt::stats::{MMD_BANDWIDTHS, mmd2, pooled};

use crate::batch::Batch;
use crate::train::{MultiTaskModel, normalise};

/// One domain-gap measurement.
#[derive(Clone, Copy, Debug)]
pub struct GapReport {
    /// Held-out accuracy of a linear synthetic-vs-real classifier (0.5: no gap).
    pub accuracy: f64,
    /// Proxy A-distance, `2·(2·accuracy − 1)` clamped to `[0, 2]`.
    pub proxy_a_distance: f64,
    /// Squared MMD between the pooled features.
    pub mmd: f64,
}

impl GapReport {
    /// One line for logs.
    pub fn summary(&self) -> String {
        format!(
            "linear domain accuracy {:.3}, proxy A-distance {:.3}, MMD² {:.4}",
            self.accuracy, self.proxy_a_distance, self.mmd
        )
    }
}

/// Pooled `[N, C]` features of `layer` for every batch of images.
fn pooled_layer<B: Backend>(
    model: &MultiTaskModel<B>,
    images: impl Iterator<Item = Tensor<B, 4>>,
    layer: &str,
) -> Option<Tensor<B, 2>> {
    let parts: Option<Vec<Tensor<B, 2>>> = images
        .map(|x| {
            let f = model.backbone.forward(normalise(x));
            f.layer(layer).map(|t| pooled(t.clone()))
        })
        .collect();
    parts.filter(|p| !p.is_empty()).map(|p| Tensor::cat(p, 0))
}

fn rows<B: Backend>(t: Tensor<B, 2>) -> Vec<Vec<f32>> {
    let [_, c] = t.dims();
    let v = t
        .into_data()
        .convert::<f32>()
        .to_vec::<f32>()
        .unwrap_or_default();
    v.chunks(c.max(1)).map(<[f32]>::to_vec).collect()
}

/// The gap between `synthetic` batches and `real` image batches at `layer`
/// (run the model in inference mode). `None` when the layer does not exist
/// or a side is empty.
pub fn measure<B: Backend>(
    model: &MultiTaskModel<B>,
    synthetic: &[Batch<B>],
    real: &[Batch<B>],
    layer: &str,
) -> Option<Result<GapReport, GapError>> {
    let s = pooled_layer(model, synthetic.iter().map(|b| b.rgb().clone()), layer)?;
    let r = pooled_layer(model, real.iter().map(|b| b.rgb().clone()), layer)?;
    let mmd = mmd2(s.clone(), r.clone(), &MMD_BANDWIDTHS)
        .into_data()
        .convert::<f64>()
        .to_vec::<f64>()
        .ok()
        .and_then(|v| v.first().copied())
        .unwrap_or(f64::NAN);
    Some(gap::measure(&rows(s), &rows(r)).map(|g| GapReport {
        accuracy: g.accuracy,
        proxy_a_distance: g.proxy_a_distance,
        mmd,
    }))
}
