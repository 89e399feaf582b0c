//! Domain adaptation for synthfeat: the pieces that pull the features of
//! synthetic and real images together, generic over any encoder.
//!
//! | module | what |
//! |---|---|
//! | [`adapter`] | [`Method`], [`AdaptConfig`] and the [`Adapter`] that turns two feature batches into a loss |
//! | [`discriminator`] | the patch-level real/synthetic classifier (Ren & Lee's layout) |
//! | [`grl`] | gradient reversal (DANN) and its λ ramp |
//! | [`stats`] | MMD with a multi-bandwidth Gaussian kernel, CORAL |
//! | [`loss`] | binary cross-entropy on logits, domain accuracy |
//! | [`pool`] | the history pool of past features fed to the discriminator |
//! | [`gap`] | the domain-gap measurement: a linear domain classifier's accuracy |
//!
//! The crate knows nothing of backbones or data: the trainer hands it the
//! features of a synthetic and a real batch at the layer the run names.

pub mod adapter;
pub mod discriminator;
pub mod gap;
pub mod grl;
pub mod loss;
pub mod pool;
pub mod stats;

pub use adapter::{AdaptConfig, AdaptError, AdaptOutput, Adapter, Method};
pub use burn;
