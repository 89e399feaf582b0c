//! synthfeat's Burn trainer: backbones, the `Task` plug-in point, data loading,
//! the training loop and evaluation.
//!
//! It reads the engine's data types only (no renderer), so it builds and tests
//! without Bevy.
//!
//! | module | what |
//! |---|---|
//! | [`model`] | backbones (`small`, `alexnet`) and dense heads |
//! | [`tasks`] | the `Task` plug-in point: depth, normal, contour, six pretext tasks and contrastive learning (`simclr`) |
//! | [`pretext`] | pretext inputs on the host: rotations, tiles, permutations, Lab, masks, palette |
//! | [`correspond`] | pixel correspondences between two rendered views (dense-geometry's positives) |
//! | [`losses`] | the tasks' losses |
//! | [`batch`], [`augment`], [`data`] | samples to tensors, augmentation, shard and live pipelines |
//! | [`real`] | real unlabelled images: folders (PNG/JPEG) and IDX files, mixed |
//! | [`adapt`], [`domain_gap`] | domain adaptation in a run, the domain gap at validation |
//! | [`train`] | the multitask model and one optimisation step |
//! | [`optim`] | Adam over dense gradients (every training loop's optimizer) |
//! | [`config`], [`run`] | a whole run: hyper-parameters, loop, resume |
//! | [`validate`], [`plots`] | held-out metrics, `curves.png`, `predictions.png` |
//! | [`eval`] | real labelled sets, the linear probe, fine-tuning, real depth |
//! | [`compare`] | the comparison across task sets: config, table, chart |
//! | [`checkpoint`], [`export`] | atomic checkpoints, safetensors export |
//! | [`profile`] | per-op timing of a training step |
//! | [`agreement`] | one training step compared across two backends |

pub mod adapt;
pub mod agreement;
pub mod augment;
pub mod batch;
pub mod checkpoint;
pub mod compare;
pub mod config;
pub mod correspond;
pub mod data;
pub mod domain_gap;
pub mod eval;
pub mod export;
pub mod losses;
pub mod model;
pub mod optim;
pub mod plots;
pub mod pretext;
pub mod profile;
pub mod real;
pub mod run;
pub mod tasks;
pub mod train;
pub mod validate;

pub use burn;

/// A one-element tensor's value as `f64` (detached; for reports and metrics).
pub fn scalar<B: burn::tensor::backend::Backend>(t: burn::tensor::Tensor<B, 1>) -> f64 {
    use burn::tensor::ElementConversion;
    t.into_scalar().elem::<f64>()
}
pub use engine::Sample;
