//! Rotation (Gidaris et al., ICLR 2018): every image at 0°, 90°, 180° and
//! 270°, all four in the batch, and a 4-way classifier on the features.

use burn::module::Module;
use burn::tensor::backend::Backend;

use super::{ClassifierHead, SheetCell, Task, TaskContext, TaskError, TaskOutput, classify};

/// Rotation prediction: a classifier over the four quarter turns.
#[derive(Module, Debug)]
pub struct RotationTask<B: Backend> {
    head: ClassifierHead<B>,
}

impl<B: Backend> RotationTask<B> {
    /// A head on `channels` top-feature channels (pooled to 2×2, so the
    /// layout of the features survives).
    pub fn new(channels: usize, device: &B::Device) -> Self {
        RotationTask {
            head: ClassifierHead::new(channels, 2, 1, 4, device),
        }
    }
}

impl<B: Backend> Task<B> for RotationTask<B> {
    fn name(&self) -> &'static str {
        "rotation"
    }

    fn forward(&self, ctx: &TaskContext<B>) -> Result<TaskOutput<B>, TaskError> {
        let mut inputs = Vec::new();
        let mut labels = Vec::new();
        for img in ctx.images() {
            for turns in 0..4 {
                inputs.push(img.rotate(turns));
                labels.push(turns as i64);
            }
        }
        let (mut out, predicted) = classify(self.name(), ctx, &self.head, &inputs, &labels);
        out.sheet = predicted.map(|predicted| {
            inputs
                .iter()
                .zip(&predicted)
                .take(8)
                .map(|(image, p)| SheetCell {
                    image: image.clone(),
                    caption: format!("pred {}", 90 * p),
                })
                .collect()
        });
        Ok(out)
    }
}
