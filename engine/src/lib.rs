//! synthfeat's engine: labelled samples, datasets and the headless renderer.
//!
//! - [`Sample`]: one rendered view with RGB, planar depth, camera-frame normals,
//!   instance ids, instance contours, intrinsics and pose.
//! - [`contour`]: the contour map derived from instance ids and depth.
//! - [`dataset`]: WebDataset shards (or unpacked folders) plus `manifest.json`,
//!   written atomically and read back bit-exactly.
//! - [`plan`]: which scene and view each sample index is, and which shard holds it.
//! - [`assets`]: mesh asset libraries (folders of glTF / OBJ) and a built-in one.
//! - [`textures`]: photo texture libraries (folders of PNG / JPEG) and their crops.
//! - [`image_file`]: PNG / JPEG bytes to RGB, and image sizes from headers.
//! - [`stats`]: what frames show (object pixel share, visible objects, depth, brightness).
//! - `render` (cargo feature `render`): the Bevy renderer, [`stream`] and [`generate`].

pub mod assets;
pub mod contour;
pub mod dataset;
mod files;
pub mod image_file;
pub mod plan;
pub mod sample;
pub mod stats;
pub mod textures;

#[cfg(feature = "render")]
pub mod render;

#[cfg(feature = "render")]
pub mod generate;

#[cfg(feature = "render")]
pub use render::{RenderError, RenderSettings, SampleStream, stream, stream_from};

pub use sample::{AssetRef, InstanceInfo, Intrinsics, Sample, SampleMeta};

/// Version of synthfeat written into every sample's metadata and the manifest.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
