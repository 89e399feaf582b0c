//! Procedural scene descriptions for synthfeat.
//!
//! A [`SceneSpec`] is plain serde data: the room, the objects (each built from
//! primitive parts or a mesh of the asset library), the lights and the camera views of one scene. Generators
//! build a spec deterministically from a [`Config`] and a seed, so the same
//! `(config, seed)` always gives the same spec, byte for byte. No renderer
//! lives here: the `engine` crate turns specs into pixels.
//!
//! World frame: metres, right-handed, `+y` up, floor at `y = 0`, room centred
//! on the origin. Camera frames follow OpenCV (x right, y down, z forward).

pub mod assets;
pub mod config;
pub mod generate;
pub mod math;
pub mod spec;
pub mod textures;
pub mod visibility;

pub use config::{Config, ConfigError, MAX_VIEWS_PER_PASS, Range, ShadingProfile};
pub use generate::{generate, scene_seed};
pub use spec::*;
pub use visibility::VISIBLE_SHARE;
