//! The adaptation methods behind one interface: given the features of a
//! synthetic and a real batch at the chosen layer, an [`Adapter`] returns the
//! loss the encoder minimises (already weighted) and trains its own critic
//! where the method has one.
//!
//! | method | the encoder's extra loss | the critic |
//! |---|---|---|
//! | `adversarial` (Ren & Lee) | `w·BCE(D(synthetic), real)` | trained first, on detached features drawn through history pools, own SGD step |
//! | `grl` (DANN) | `(BCE(C(R(synthetic)), synthetic) + BCE(C(R(real)), real)) / 2`, `R` reversing gradients by `w·ramp(p)` | the same backward pass, own SGD step |
//! | `mmd` | `w·MMD²(pooled synthetic, pooled real)` | none |
//! | `coral` | `w·CORAL(pooled synthetic, pooled real)` | none |

use burn::optim::momentum::MomentumConfig;
use burn::optim::{
    GradientsParams, Optimizer, Sgd, SgdConfig, adaptor::OptimizerAdaptor, decay::WeightDecayConfig,
};
use burn::tensor::Tensor;
use burn::tensor::backend::AutodiffBackend;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use burn::module::Module;
use burn::record::{FullPrecisionSettings, NamedMpkFileRecorder, Recorder, RecorderError};
use std::path::Path;

use crate::discriminator::{Discriminator, DiscriminatorConfig};
use crate::grl::{ramp, reverse_gradient};
use crate::loss::{accuracy, bce_with_logits};
use crate::pool::HistoryPool;
use crate::stats::{MMD_BANDWIDTHS, coral, mmd2, pooled};

/// Which adaptation objective.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// No adaptation (the domain gap is still measured when real images are given).
    #[default]
    None,
    /// Feature-level adversarial training with a patch discriminator (Ren & Lee, CVPR 2018).
    Adversarial,
    /// Gradient reversal into a domain classifier (Ganin & Lempitsky, DANN).
    Grl,
    /// Maximum mean discrepancy of pooled features, multi-bandwidth Gaussian kernel.
    Mmd,
    /// Distance between pooled features' covariances.
    Coral,
}

/// Every method's name, as the command line and configs spell them.
pub const METHOD_NAMES: [&str; 5] = ["none", "adversarial", "grl", "mmd", "coral"];

impl Method {
    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Method::None => "none",
            Method::Adversarial => "adversarial",
            Method::Grl => "grl",
            Method::Mmd => "mmd",
            Method::Coral => "coral",
        }
    }

    /// The weight used when the config gives none, measured on the CPU
    /// default (1,000 steps, Fashion-MNIST as the real side): adversarial
    /// 0.05 (the paper's λ); grl 0.1 as λ's final value (DANN's 1 assumes one
    /// SGD for everything; here the encoder's Adam outran the classifier's
    /// SGD and drove its accuracy below chance within 10 steps); mmd 0.1 (at
    /// 1 it collapsed the features and the contour F-score to 0); coral 10
    /// (at 1 its loss, ~2e-4, changed nothing).
    pub fn default_weight(self) -> f64 {
        match self {
            Method::None => 0.0,
            Method::Adversarial => 0.05,
            Method::Grl | Method::Mmd => 0.1,
            Method::Coral => 10.0,
        }
    }
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Method {
    type Err = AdaptError;
    fn from_str(s: &str) -> Result<Self, AdaptError> {
        Ok(match s {
            "none" => Method::None,
            "adversarial" => Method::Adversarial,
            "grl" => Method::Grl,
            "mmd" => Method::Mmd,
            "coral" => Method::Coral,
            other => return Err(AdaptError::UnknownMethod(other.to_string())),
        })
    }
}

/// Invalid adaptation settings.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum AdaptError {
    /// A method name nobody registered.
    #[error("unknown domain-adaptation method `{0}` (known: none, adversarial, grl, mmd, coral)")]
    UnknownMethod(String),
    /// The critic's state cannot be written or read.
    #[error("{path}: {message}")]
    Record {
        /// The file.
        path: std::path::PathBuf,
        /// What went wrong.
        message: String,
    },
    /// A value out of range.
    #[error("`{field}` {message}")]
    Invalid {
        /// The field, as a training config spells it (`adapt.weight`).
        field: &'static str,
        /// What is wrong.
        message: String,
    },
}

/// Domain-adaptation settings (the `[adapt]` table of a training config).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdaptConfig {
    /// The objective.
    pub method: Method,
    /// The backbone layer whose features are adapted (and measured for the domain gap).
    pub layer: String,
    /// The objective's weight (λ); left out, the method's [`Method::default_weight`].
    pub weight: Option<f64>,
    /// Channels of the discriminator's hidden layers.
    pub hidden: usize,
    /// Features kept in each history pool (adversarial).
    pub pool_size: usize,
    /// The critic's SGD learning rate.
    pub critic_lr: f64,
    /// The critic's SGD momentum.
    pub critic_momentum: f64,
    /// The critic's weight decay.
    pub critic_weight_decay: f64,
}

impl Default for AdaptConfig {
    fn default() -> Self {
        AdaptConfig {
            method: Method::None,
            layer: "conv5".into(),
            weight: None,
            hidden: 512,
            pool_size: 128,
            critic_lr: 1e-3,
            critic_momentum: 0.9,
            critic_weight_decay: 5e-4,
        }
    }
}

impl AdaptConfig {
    /// The weight in force.
    pub fn effective_weight(&self) -> f64 {
        self.weight.unwrap_or(self.method.default_weight())
    }

    /// Checks every value, naming the first bad field.
    pub fn validate(&self) -> Result<(), AdaptError> {
        let bad = |field, message: String| Err(AdaptError::Invalid { field, message });
        if let Some(w) = self.weight
            && !(w >= 0.0 && w.is_finite())
        {
            return bad("adapt.weight", format!("must be a number ≥ 0, got {w}"));
        }
        if self.hidden == 0 {
            return bad("adapt.hidden", "must be at least 1".into());
        }
        if !(self.critic_lr > 0.0 && self.critic_lr.is_finite()) {
            return bad(
                "adapt.critic_lr",
                format!("must be positive, got {}", self.critic_lr),
            );
        }
        if !(0.0..1.0).contains(&self.critic_momentum) {
            return bad(
                "adapt.critic_momentum",
                format!("must lie in [0, 1), got {}", self.critic_momentum),
            );
        }
        if !(self.critic_weight_decay >= 0.0 && self.critic_weight_decay.is_finite()) {
            return bad(
                "adapt.critic_weight_decay",
                format!("must be ≥ 0, got {}", self.critic_weight_decay),
            );
        }
        Ok(())
    }
}

/// What an adapter adds to one training step.
pub struct AdaptOutput<B: AutodiffBackend> {
    /// The encoder's extra loss, weighted.
    pub loss: Tensor<B, 1>,
    /// Named metrics (detached one-element tensors): the critic's loss and
    /// accuracy, MMD or CORAL, the GRL coefficient.
    pub metrics: Vec<(&'static str, Tensor<B, 1>)>,
}

type CriticOptimizer<B> =
    OptimizerAdaptor<Sgd<<B as AutodiffBackend>::InnerBackend>, Discriminator<B>, B>;

/// A configured adaptation objective with its critic and pools.
pub struct Adapter<B: AutodiffBackend> {
    config: AdaptConfig,
    critic: Option<(Discriminator<B>, CriticOptimizer<B>)>,
    synthetic_pool: HistoryPool<Tensor<B, 4>>,
    real_pool: HistoryPool<Tensor<B, 4>>,
    rng: ChaCha8Rng,
    step: u64,
    total_steps: u64,
}

impl<B: AutodiffBackend> Adapter<B> {
    /// An adapter for features of `channels` channels, over a run of
    /// `total_steps` steps (for the GRL ramp) resuming after `done_steps`.
    pub fn new(
        config: &AdaptConfig,
        channels: usize,
        done_steps: u64,
        total_steps: u64,
        seed: u64,
        device: &B::Device,
    ) -> Result<Self, AdaptError> {
        config.validate()?;
        let critic = matches!(config.method, Method::Adversarial | Method::Grl).then(|| {
            let net = DiscriminatorConfig::new(channels)
                .with_hidden(config.hidden)
                .init::<B>(device);
            let optim = SgdConfig::new()
                .with_momentum(Some(
                    MomentumConfig::new()
                        .with_momentum(config.critic_momentum)
                        .with_dampening(0.0),
                ))
                .with_weight_decay(Some(WeightDecayConfig::new(
                    config.critic_weight_decay as f32,
                )))
                .init::<B, Discriminator<B>>();
            (net, optim)
        });
        Ok(Adapter {
            config: config.clone(),
            critic,
            synthetic_pool: HistoryPool::new(config.pool_size),
            real_pool: HistoryPool::new(config.pool_size),
            rng: ChaCha8Rng::seed_from_u64(seed ^ 0xADA9_7000),
            step: done_steps,
            total_steps: total_steps.max(1),
        })
    }

    /// The method.
    pub fn method(&self) -> Method {
        self.config.method
    }

    /// The critic (discriminator or domain classifier), if the method has one.
    pub fn critic(&self) -> Option<&Discriminator<B>> {
        self.critic.as_ref().map(|(c, _)| c)
    }

    /// The encoder's extra loss for one step, from features `[N, C, H, W]` of
    /// a synthetic and a real batch (both attached to the encoder's graph).
    /// The adversarial method trains its discriminator here first.
    pub fn loss(&mut self, synthetic: Tensor<B, 4>, real: Tensor<B, 4>) -> AdaptOutput<B> {
        self.step += 1;
        let weight = self.config.effective_weight();
        match self.config.method {
            Method::None => AdaptOutput {
                loss: Tensor::zeros([1], &synthetic.device()),
                metrics: Vec::new(),
            },
            Method::Mmd => {
                let d = mmd2(pooled(synthetic), pooled(real), &MMD_BANDWIDTHS);
                AdaptOutput {
                    loss: d.clone() * weight,
                    metrics: vec![("mmd", d.detach())],
                }
            }
            Method::Coral => {
                let d = coral(pooled(synthetic), pooled(real));
                AdaptOutput {
                    loss: d.clone() * weight,
                    metrics: vec![("coral", d.detach())],
                }
            }
            Method::Adversarial => self.adversarial(synthetic, real, weight),
            Method::Grl => self.reversal(synthetic, real, weight),
        }
    }

    /// Ren & Lee: a discriminator step on pooled, detached features, then the
    /// encoder's loss for making synthetic features pass as real.
    fn adversarial(
        &mut self,
        synthetic: Tensor<B, 4>,
        real: Tensor<B, 4>,
        weight: f64,
    ) -> AdaptOutput<B> {
        let Some((critic, mut optim)) = self.critic.take() else {
            unreachable!("the adversarial method always has a discriminator")
        };
        let split = |t: &Tensor<B, 4>| t.clone().detach().chunk(t.dims()[0], 0);
        let fake = self.synthetic_pool.query(split(&synthetic), &mut self.rng);
        let genuine = self.real_pool.query(split(&real), &mut self.rng);
        let (logits_fake, logits_real) =
            both(&critic, Tensor::cat(fake, 0), Tensor::cat(genuine, 0));
        let critic_loss = (bce_with_logits(logits_fake.clone(), 0.0)
            + bce_with_logits(logits_real.clone(), 1.0))
            / 2.0;
        let critic_accuracy =
            (accuracy(logits_fake.detach(), false) + accuracy(logits_real.detach(), true)) / 2.0;
        let grads = GradientsParams::from_grads(critic_loss.backward(), &critic);
        let critic = optim.step(self.config.critic_lr, critic, grads);
        // The encoder's pass sees the same batch composition as the critic's
        // training (its batch norm mixes both domains); only the synthetic
        // half carries gradients back.
        let (logits, _) = both(&critic, synthetic, real.detach());
        let fooled = bce_with_logits(logits, 1.0);
        self.critic = Some((critic, optim));
        AdaptOutput {
            loss: fooled.clone() * weight,
            metrics: vec![
                ("critic_loss", critic_loss.detach()),
                ("critic_accuracy", critic_accuracy),
                ("fool_loss", fooled.detach()),
            ],
        }
    }

    /// DANN: the domain classifier's loss through gradient reversal; the
    /// classifier itself steps in [`Adapter::after_backward`].
    fn reversal(
        &mut self,
        synthetic: Tensor<B, 4>,
        real: Tensor<B, 4>,
        weight: f64,
    ) -> AdaptOutput<B> {
        let Some((critic, _)) = &self.critic else {
            unreachable!("gradient reversal always has a domain classifier")
        };
        let progress = self.step as f64 / self.total_steps as f64;
        let lambda = weight * ramp(progress);
        let (logits_fake, logits_real) = both(
            critic,
            reverse_gradient(synthetic, lambda),
            reverse_gradient(real, lambda),
        );
        let loss = (bce_with_logits(logits_fake.clone(), 0.0)
            + bce_with_logits(logits_real.clone(), 1.0))
            / 2.0;
        let critic_accuracy =
            (accuracy(logits_fake.detach(), false) + accuracy(logits_real.detach(), true)) / 2.0;
        let device = loss.device();
        AdaptOutput {
            loss: loss.clone(),
            metrics: vec![
                ("critic_loss", loss.detach()),
                ("critic_accuracy", critic_accuracy),
                ("grl_lambda", Tensor::from_floats([lambda as f32], &device)),
            ],
        }
    }

    /// Writes the critic and its optimizer state into `dir` (`critic.mpk`,
    /// `critic_optimizer.mpk`); nothing for methods without a critic. The
    /// history pools are not saved: they refill within a few steps.
    pub fn save(&self, dir: &Path) -> Result<(), AdaptError> {
        let Some((critic, optim)) = &self.critic else {
            return Ok(());
        };
        let path = dir.join("critic");
        critic
            .clone()
            .save_file(&path, &recorder())
            .map_err(record_err(&path))?;
        let path = dir.join("critic_optimizer");
        Recorder::<B>::record(&recorder(), optim.to_record(), path.clone())
            .map_err(record_err(&path))
    }

    /// Restores what [`Adapter::save`] wrote into `dir`.
    pub fn load(&mut self, dir: &Path, device: &B::Device) -> Result<(), AdaptError> {
        let Some((critic, optim)) = self.critic.take() else {
            return Ok(());
        };
        let path = dir.join("critic");
        let critic = critic
            .load_file(&path, &recorder(), device)
            .map_err(record_err(&path))?;
        let path = dir.join("critic_optimizer");
        let record =
            Recorder::<B>::load(&recorder(), path.clone(), device).map_err(record_err(&path))?;
        self.critic = Some((critic, optim.load_record(record)));
        Ok(())
    }

    /// After the step's backward pass: the GRL domain classifier takes its
    /// gradients out of `grads` and steps (the encoder's optimizer then sees
    /// only its own). Other methods leave `grads` alone.
    pub fn after_backward(&mut self, grads: &mut B::Gradients) {
        if self.config.method != Method::Grl {
            return;
        }
        if let Some((critic, mut optim)) = self.critic.take() {
            let own = GradientsParams::from_module(grads, &critic);
            let critic = optim.step(self.config.critic_lr, critic, own);
            self.critic = Some((critic, optim));
        }
    }
}

fn recorder() -> NamedMpkFileRecorder<FullPrecisionSettings> {
    NamedMpkFileRecorder::new()
}

fn record_err(path: &Path) -> impl FnOnce(RecorderError) -> AdaptError + '_ {
    move |e| AdaptError::Record {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// The critic's logits of a synthetic and a real batch from one forward pass
/// over both, so its batch norm normalises them with shared statistics (two
/// separate passes would each be centred on their own mean, hiding exactly
/// the shift between the domains).
fn both<B: AutodiffBackend>(
    critic: &Discriminator<B>,
    synthetic: Tensor<B, 4>,
    real: Tensor<B, 4>,
) -> (Tensor<B, 4>, Tensor<B, 4>) {
    let n = synthetic.dims()[0];
    let logits = critic.forward(Tensor::cat(vec![synthetic, real], 0));
    let [total, c, h, w] = logits.dims();
    (
        logits.clone().slice([0..n, 0..c, 0..h, 0..w]),
        logits.slice([n..total, 0..c, 0..h, 0..w]),
    )
}
