//! synthfeat's Burn trainer: backbones, the `Task` plug-in point, data loading,
//! the training loop and evaluation.
//!
//! It reads the engine's data types only (no renderer), so it builds and tests
//! without Bevy. Its contents arrive with the trainer issue; for now it pins the
//! Burn dependency so the workspace holds a single wgpu shared with Bevy.

pub use burn;
pub use engine::Sample;
