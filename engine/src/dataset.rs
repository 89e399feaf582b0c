//! Datasets on disk: WebDataset tar shards (or unpacked folders) plus `manifest.json`.
//!
//! Per sample with key `KEY`: `KEY.rgb.png` (8-bit sRGB), `KEY.depth.png` (16-bit,
//! millimetres, 0 = none), `KEY.normal.png` (8-bit, `round((n + 1) · 127.5)`,
//! OpenCV camera frame), `KEY.instance.png` (16-bit ids), `KEY.contour.png`
//! (0/255) and `KEY.json` ([`crate::SampleMeta`]). Python reads them with the
//! `webdataset` package and PIL alone.

mod codec;
mod error;
mod manifest;
mod reader;
mod writer;

pub use codec::{EncodedSample, MEMBER_SUFFIXES, decode_sample, encode_sample};
pub use error::DatasetError;
pub use manifest::{MANIFEST_FILE, Manifest, ShardEntry, shard_name};
pub use reader::{DatasetReader, OnError};
pub use writer::{DatasetWriter, Layout, ShardWriter};
