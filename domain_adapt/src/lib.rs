//! Domain adaptation for synthfeat: discriminators, gradient reversal,
//! MMD and CORAL losses. Its contents arrive with the domain-adaptation issue.

pub use burn;
