//! Evaluation on real data: labelled image sets and the linear probe.
//!
//! | module | what |
//! |---|---|
//! | [`labelled`] | ImageFolder, IDX and CIFAR-10 sets with their train/test split |
//! | [`linear`] | a linear softmax classifier on cached features |
//! | [`probe`] | frozen-backbone features per layer, pooled, and the probe |
//! | [`finetune`] | the whole encoder and a new classifier trained on the set |
//! | [`depth`], [`arrays`] | real depth: pairs, PNG/NPY/NPZ/PFM truth, calibration, scale-invariant metrics |

pub mod arrays;
pub mod depth;
pub mod finetune;
pub mod knn;
pub mod labelled;
pub mod linear;
pub mod probe;
