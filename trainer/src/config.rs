//! The training run's hyper-parameters: one serde struct with built-in defaults,
//! read from TOML (`--config train.toml`), overridden by flags, and saved as
//! `RUN/config.json` so that `--resume` and `export` rebuild the same run.

use serde::{Deserialize, Serialize};
use std::path::Path;

use crate::model::{BackboneConfig, BackboneKind};
use crate::train::{MultiTaskConfig, TaskWeights};

/// Invalid or unreadable training configuration; names the file or field.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid TOML/JSON for this struct (unknown keys included).
    #[error("{path}: {message}")]
    Parse {
        /// The file.
        path: String,
        /// The parser's message, naming the key.
        message: String,
    },
    /// A value is out of range.
    #[error("`{field}` {message}")]
    Invalid {
        /// Dotted field name (also the flag's name with `-` for `_`).
        field: &'static str,
        /// What is wrong.
        message: String,
    },
}

/// Live-rendering options (used with `--live`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LiveConfig {
    /// Rendered image size, pixels (at least `size`).
    pub render_size: u32,
    /// Views per scene.
    pub views: u32,
    /// Held-out validation frames, rendered from another seed before training.
    pub val_frames: u64,
}

impl Default for LiveConfig {
    fn default() -> Self {
        LiveConfig {
            render_size: 128,
            views: 4,
            val_frames: 32,
        }
    }
}

/// Every hyper-parameter of a training run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainConfig {
    /// Encoder: `small` (CPU default) or `alexnet` (the paper's, for GPUs).
    pub backbone: BackboneKind,
    /// Small backbone: channels of `conv1`.
    pub width: usize,
    /// AlexNet: divide every channel count by this (1 = the paper's network).
    pub alexnet_divisor: usize,
    /// Enabled tasks, by name.
    pub tasks: Vec<String>,
    /// Square training crop, pixels (small: multiple of 16; AlexNet: 32·k + 3).
    pub size: usize,
    /// Samples per batch.
    pub batch: usize,
    /// Optimisation steps in the whole run.
    pub steps: u64,
    /// Stop (validating and checkpointing) once this call has trained for
    /// this many minutes, even before `steps` (a wall-clock budget).
    pub max_minutes: Option<f64>,
    /// Adam learning rate at step 0.
    pub lr: f64,
    /// Adam β₁ (0.5 in the paper's code).
    pub beta1: f64,
    /// Adam β₂.
    pub beta2: f64,
    /// Step decay: multiply the learning rate by `lr_decay_gamma` every this many steps (0: never).
    pub lr_decay_every: u64,
    /// Step decay factor.
    pub lr_decay_gamma: f64,
    /// Labels at 1/N of the input resolution (1 = full, 4 = quarter).
    pub label_scale: usize,
    /// Loss weight per task.
    pub weights: TaskWeights,
    /// Validate (and refresh the PNGs) every N steps, and at the end.
    pub val_every: u64,
    /// Held-out samples used for validation.
    pub val_samples: usize,
    /// Percentage of scenes held out for validation (by scene seed).
    pub val_percent: u64,
    /// Write a checkpoint every N steps, and at the end.
    pub checkpoint_every: u64,
    /// Seed of initialisation, shuffling and augmentation.
    pub seed: u64,
    /// Probability of the "grey" augmentation (one channel copied into all three).
    pub grey_probability: f32,
    /// Random horizontal flips (negating the normal's x).
    pub flip: bool,
    /// Samples held in the shuffle buffer.
    pub shuffle_buffer: usize,
    /// Live rendering.
    pub live: LiveConfig,
    /// Domain adaptation toward real images (`--real`), and the layer whose
    /// domain gap validation reports.
    pub adapt: domain_adapt::AdaptConfig,
    /// Settings of the pretext tasks (`[pretext.jigsaw]`, …).
    pub pretext: crate::pretext::PretextConfig,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            backbone: BackboneKind::Small,
            width: 16,
            alexnet_divisor: 1,
            tasks: vec!["depth".into(), "normal".into(), "contour".into()],
            size: 64,
            batch: 8,
            steps: 100,
            max_minutes: None,
            lr: 1e-3,
            beta1: 0.5,
            beta2: 0.999,
            lr_decay_every: 2000,
            lr_decay_gamma: 0.5,
            label_scale: 4,
            weights: TaskWeights::new(),
            val_every: 50,
            val_samples: 64,
            val_percent: 10,
            checkpoint_every: 100,
            seed: 0,
            grey_probability: 0.1,
            flip: true,
            shuffle_buffer: 256,
            live: LiveConfig::default(),
            adapt: domain_adapt::AdaptConfig::default(),
            pretext: crate::pretext::PretextConfig::default(),
        }
    }
}

impl TrainConfig {
    /// Reads a TOML file; keys it leaves out keep their defaults.
    pub fn from_toml_file(path: &Path) -> Result<Self, ConfigError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: origin.clone(),
            source,
        })?;
        toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: origin,
            message: e.to_string().trim().to_string(),
        })
    }

    /// The defaults as TOML (for `--print-default-config`).
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_default()
    }

    /// The encoder's hyper-parameters.
    pub fn backbone_config(&self) -> BackboneConfig {
        BackboneConfig::new()
            .with_kind(self.backbone)
            .with_width(self.width)
            .with_alexnet_divisor(self.alexnet_divisor)
    }

    /// The model's hyper-parameters.
    pub fn model_config(&self) -> MultiTaskConfig {
        MultiTaskConfig::new(self.backbone_config(), self.tasks.clone())
            .with_label_scale(self.label_scale)
            .with_pretext(self.pretext.clone())
            .with_size(self.size)
    }

    /// The data pipeline's options, positioned after `skip_samples` training samples.
    pub fn data_options(&self, skip_samples: u64) -> crate::data::DataOptions {
        crate::data::DataOptions {
            batch: self.batch,
            crop: self.size,
            flip: self.flip,
            grey_probability: self.grey_probability,
            shuffle_buffer: self.shuffle_buffer,
            seed: self.seed,
            validation_percent: self.val_percent,
            pair_views: self.tasks.iter().any(|t| t == "dense-geometry"),
            prefetch: 4,
            skip_samples,
        }
    }

    /// The learning rate in force at `step` (1-based) under step decay.
    pub fn lr_at(&self, step: u64) -> f64 {
        if self.lr_decay_every == 0 {
            return self.lr;
        }
        let decays = step.saturating_sub(1) / self.lr_decay_every;
        self.lr * self.lr_decay_gamma.powi(decays.min(i32::MAX as u64) as i32)
    }

    /// Checks every value, naming the first bad field.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad =
            |field: &'static str, message: String| Err(ConfigError::Invalid { field, message });
        if self.batch == 0 {
            return bad("batch", "must be at least 1".into());
        }
        if self.steps == 0 {
            return bad("steps", "must be at least 1".into());
        }
        if let Some(m) = self.max_minutes
            && !(m > 0.0 && m.is_finite())
        {
            return bad("max_minutes", format!("must be a positive number, got {m}"));
        }
        if self.width == 0 {
            return bad("width", "must be at least 1".into());
        }
        if self.alexnet_divisor == 0 {
            return bad("alexnet_divisor", "must be at least 1".into());
        }
        if let Err(e) = self.backbone_config().check_size(self.size) {
            return bad("size", format!("{}: {e}", self.size));
        }
        if ![1, 2, 4, 8, 16].contains(&self.label_scale) {
            return bad(
                "label_scale",
                format!("must be 1, 2, 4, 8 or 16, got {}", self.label_scale),
            );
        }
        if !(self.lr > 0.0 && self.lr.is_finite()) {
            return bad("lr", format!("must be a positive number, got {}", self.lr));
        }
        for (field, beta) in [("beta1", self.beta1), ("beta2", self.beta2)] {
            if !(0.0..1.0).contains(&beta) {
                return bad(field, format!("must lie in [0, 1), got {beta}"));
            }
        }
        if !(self.lr_decay_gamma > 0.0 && self.lr_decay_gamma <= 1.0) {
            return bad(
                "lr_decay_gamma",
                format!("must lie in (0, 1], got {}", self.lr_decay_gamma),
            );
        }
        if self.val_percent >= 100 {
            return bad(
                "val_percent",
                format!("must be below 100, got {}", self.val_percent),
            );
        }
        if !(0.0..=1.0).contains(&self.grey_probability) {
            return bad(
                "grey_probability",
                format!("must lie in [0, 1], got {}", self.grey_probability),
            );
        }
        let layers = self.backbone_config().layer_names();
        if !layers.contains(&self.adapt.layer.as_str()) {
            return bad(
                "adapt.layer",
                format!(
                    "`{}` is not a layer of the {} backbone (its layers: {})",
                    self.adapt.layer,
                    self.backbone,
                    layers.join(", ")
                ),
            );
        }
        if let Err(domain_adapt::AdaptError::Invalid { field, message }) = self.adapt.validate() {
            return bad(field, message);
        }
        let known = crate::tasks::TASK_NAMES;
        if self.tasks.is_empty() {
            return bad(
                "tasks",
                format!("is empty: name at least one of {}", known.join(", ")),
            );
        }
        if let Some(t) = self.tasks.iter().find(|t| !known.contains(&t.as_str())) {
            return bad(
                "tasks",
                format!("names unknown task `{t}` (known: {})", known.join(", ")),
            );
        }
        if let Some(t) = self
            .tasks
            .iter()
            .find(|t| *t == "simclr" || *t == "dense-geometry")
            && self.batch < 2
        {
            return bad(
                "batch",
                format!(
                    "must be at least 2 for `{t}`: it contrasts images (or views) of one batch"
                ),
            );
        }
        if let Err(crate::pretext::PretextError::Invalid { field, message }) = self
            .pretext
            .validate(&self.tasks, &self.backbone_config(), self.size)
        {
            return bad(field, message);
        }
        Ok(())
    }

    /// Checks the live-rendering options against the crop.
    pub fn validate_live(&self) -> Result<(), ConfigError> {
        if (self.live.render_size as usize) < self.size {
            return Err(ConfigError::Invalid {
                field: "live.render_size",
                message: format!(
                    "{} must be at least `size` {}",
                    self.live.render_size, self.size
                ),
            });
        }
        if self.live.views == 0 {
            return Err(ConfigError::Invalid {
                field: "live.views",
                message: "must be at least 1".into(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_validate_and_round_trip_through_toml() {
        let c = TrainConfig::default();
        c.validate().unwrap();
        let back: TrainConfig = toml::from_str(&c.to_toml()).unwrap();
        assert_eq!(back, c);
    }

    #[test]
    fn bad_values_name_their_field() {
        let mut c = TrainConfig {
            batch: 0,
            ..Default::default()
        };
        assert!(c.validate().unwrap_err().to_string().contains("`batch`"));
        c = TrainConfig {
            size: 72,
            ..Default::default()
        };
        assert!(c.validate().unwrap_err().to_string().contains("`size` 72"));
        c = TrainConfig {
            tasks: vec!["depht".into()],
            ..Default::default()
        };
        assert!(
            c.validate()
                .unwrap_err()
                .to_string()
                .contains("unknown task `depht`")
        );
        let e = toml::from_str::<TrainConfig>("bacth = 3")
            .unwrap_err()
            .to_string();
        assert!(e.contains("bacth"), "{e}");
    }

    #[test]
    fn step_decay_multiplies_every_period() {
        let c = TrainConfig {
            lr: 1.0,
            lr_decay_every: 10,
            lr_decay_gamma: 0.5,
            ..Default::default()
        };
        assert_eq!(
            [c.lr_at(1), c.lr_at(10), c.lr_at(11), c.lr_at(25)],
            [1.0, 1.0, 0.5, 0.25]
        );
    }
}
