//! synthfeat's Burn trainer: backbones, the `Task` plug-in point, data loading,
//! the training loop and evaluation.
//!
//! It reads the engine's data types only (no renderer), so it builds and tests
//! without Bevy. So far: the small backbone and dense heads ([`model`]), the
//! `Task` plug-in point with the depth, normal and contour tasks ([`tasks`]),
//! their losses ([`losses`]), batching ([`batch`]) and the training step ([`train`]).

pub mod augment;
pub mod batch;
pub mod checkpoint;
pub mod data;
pub mod losses;
pub mod model;
pub mod tasks;
pub mod train;

pub use burn;

/// A one-element tensor's value as `f64` (detached; for reports and metrics).
pub fn scalar<B: burn::tensor::backend::Backend>(t: burn::tensor::Tensor<B, 1>) -> f64 {
    use burn::tensor::ElementConversion;
    t.into_scalar().elem::<f64>()
}
pub use engine::Sample;
