//! Domain adaptation in a training run: the [`ExtraObjective`] that draws a
//! real batch each step, runs it through the shared backbone and hands both
//! domains' features at the configured layer to a [`domain_adapt::Adapter`].

use burn::tensor::Tensor;
use burn::tensor::backend::AutodiffBackend;
use domain_adapt::{AdaptConfig, Adapter};

use crate::real::{RealBatches, to_tensor};
use crate::tasks::{TaskContext, TaskOutput};
use crate::train::{ExtraError, ExtraObjective, MultiTaskModel, normalise};

/// The adaptation objective of a run whose method is not `none`.
pub struct DomainObjective<B: AutodiffBackend> {
    adapter: Adapter<B>,
    layer: String,
    real: RealBatches,
    size: usize,
    device: B::Device,
}

impl<B: AutodiffBackend> DomainObjective<B> {
    /// Adapts features of `layer` (with `channels` channels) using real
    /// images of `size` pixels from `real`.
    pub fn new(
        config: &AdaptConfig,
        channels: usize,
        real: RealBatches,
        size: usize,
        steps: (u64, u64),
        seed: u64,
        device: &B::Device,
    ) -> Result<Self, domain_adapt::AdaptError> {
        let (done, total) = steps;
        Ok(DomainObjective {
            adapter: Adapter::new(config, channels, done, total, seed, device)?,
            layer: config.layer.clone(),
            real,
            size,
            device: device.clone(),
        })
    }
}

impl<B: AutodiffBackend> ExtraObjective<B> for DomainObjective<B> {
    fn loss(
        &mut self,
        model: &MultiTaskModel<B>,
        batch: &TaskContext<B>,
    ) -> Result<Option<TaskOutput<B>>, ExtraError> {
        let synthetic = batch.features();
        let images = self
            .real
            .next_batch()
            .map_err(|e| ExtraError(e.to_string()))?;
        let real = to_tensor::<B>(&images, self.size, &self.device);
        let real_features = model.backbone.forward(normalise(real));
        let missing = || ExtraError(format!("the backbone has no layer `{}`", self.layer));
        let s = synthetic.layer(&self.layer).ok_or_else(missing)?.clone();
        let r = real_features
            .layer(&self.layer)
            .ok_or_else(missing)?
            .clone();
        let out = self.adapter.loss(s, r);
        let mut metrics = out.metrics;
        metrics.push((
            "real_skipped",
            Tensor::from_floats([self.real.skipped() as f32], &self.device),
        ));
        Ok(Some(TaskOutput::new("adapt", out.loss, metrics)))
    }

    fn after_backward(&mut self, grads: &mut B::Gradients) {
        self.adapter.after_backward(grads);
    }

    fn save(&self, dir: &std::path::Path) -> Result<(), ExtraError> {
        self.adapter
            .save(dir)
            .map_err(|e| ExtraError(e.to_string()))
    }

    fn load(&mut self, dir: &std::path::Path) -> Result<(), ExtraError> {
        self.adapter
            .load(dir, &self.device)
            .map_err(|e| ExtraError(e.to_string()))
    }
}
