//! synthfeat's Burn trainer: backbones, the `Task` plug-in point, data loading,
//! the training loop and evaluation.
//!
//! It reads the engine's data types only (no renderer), so it builds and tests
//! without Bevy. So far it holds the synthetic tasks' losses ([`losses`]); the
//! rest of the trainer issue builds on them.

pub mod losses;

pub use burn;
pub use engine::Sample;
