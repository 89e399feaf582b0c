//! `manifest.json`: what a dataset holds and how it was made.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

use super::error::{DatasetError, io};
use super::writer::Layout;
use crate::plan::Plan;

/// Name of the manifest of a single-worker run.
pub const MANIFEST_FILE: &str = "manifest.json";

/// File name of shard `index` (`shard-000042.tar`, or the folder `shard-000042`).
pub fn shard_name(index: u64, layout: Layout) -> String {
    match layout {
        Layout::Tar => format!("shard-{index:06}.tar"),
        Layout::Dir => format!("shard-{index:06}"),
    }
}

/// One complete shard.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardEntry {
    /// Shard index in the run.
    pub index: u64,
    /// File (or folder) name inside the dataset folder.
    pub name: String,
    /// Samples it holds.
    pub samples: u64,
    /// SHA-256 of the tar file; for `dir` layout, of every member as
    /// `name, 0x00, length (u64 little-endian), bytes`, in key order.
    pub sha256: String,
    /// Size in bytes (tar file, or the sum of member sizes).
    pub bytes: u64,
}

/// The dataset's description; one per worker in a fanned-out run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Always `synthfeat-webdataset`.
    pub format: String,
    /// Version of this format.
    pub format_version: u32,
    /// synthfeat version that wrote it.
    pub synthfeat_version: String,
    /// `tar` shards or unpacked `dir` folders.
    pub layout: Layout,
    /// Image width, pixels.
    pub width: u32,
    /// Image height, pixels.
    pub height: u32,
    /// Seed, views per scene, sample count and shard size.
    pub plan: Plan,
    /// Total shards of the run.
    pub num_shards: u64,
    /// `Config::hash_hex` of the generation config.
    pub config_hash: String,
    /// The generation config in full.
    pub config: scenes::Config,
    /// Complete shards, by index.
    pub shards: Vec<ShardEntry>,
    /// Last update, seconds since the Unix epoch (run-level facts live here, never in shards).
    pub updated_unix_s: u64,
}

impl Manifest {
    /// Reads a manifest file.
    pub fn read(path: &Path) -> Result<Manifest, DatasetError> {
        let bytes = std::fs::read(path).map_err(io(path))?;
        serde_json::from_slice(&bytes).map_err(|e| DatasetError::Manifest {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
    }

    /// Writes the manifest atomically (temporary file, fsync, rename).
    pub fn write_atomic(&self, path: &Path) -> Result<(), DatasetError> {
        let tmp = path.with_extension("json.tmp");
        let text = serde_json::to_vec_pretty(self).map_err(|e| DatasetError::Manifest {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        {
            use std::io::Write;
            let mut f = std::fs::File::create(&tmp).map_err(io(&tmp))?;
            f.write_all(&text).map_err(io(&tmp))?;
            f.sync_all().map_err(io(&tmp))?;
        }
        std::fs::rename(&tmp, path).map_err(io(path))
    }

    /// All manifest files in `dir`: `manifest.json` and `manifest.worker-*.json`, sorted.
    pub fn files_in(dir: &Path) -> Result<Vec<PathBuf>, DatasetError> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(io(dir))? {
            let entry = entry.map_err(io(dir))?;
            let name = entry.file_name().to_string_lossy().to_string();
            if name == MANIFEST_FILE
                || (name.starts_with("manifest.worker-") && name.ends_with(".json"))
            {
                out.push(entry.path());
            }
        }
        out.sort();
        Ok(out)
    }

    /// Reads every manifest in `dir` and merges their shard lists.
    ///
    /// Returns `None` when there is none. Manifests that disagree on how the
    /// data was made are an error.
    pub fn read_merged(dir: &Path) -> Result<Option<Manifest>, DatasetError> {
        let mut merged: Option<Manifest> = None;
        for path in Self::files_in(dir)? {
            let m = Self::read(&path)?;
            match &mut merged {
                None => merged = Some(m),
                Some(acc) => {
                    acc.check_compatible(&m, &path)?;
                    for s in m.shards {
                        if !acc.shards.iter().any(|e| e.index == s.index) {
                            acc.shards.push(s);
                        }
                    }
                    acc.updated_unix_s = acc.updated_unix_s.max(m.updated_unix_s);
                }
            }
        }
        if let Some(m) = &mut merged {
            m.shards.sort_by_key(|s| s.index);
        }
        Ok(merged)
    }

    /// Errors unless `other` describes data made the same way (count may differ).
    pub fn check_compatible(&self, other: &Manifest, path: &Path) -> Result<(), DatasetError> {
        let fields = [
            (
                "config",
                self.config_hash.clone(),
                other.config_hash.clone(),
            ),
            (
                "seed",
                self.plan.seed.to_string(),
                other.plan.seed.to_string(),
            ),
            (
                "views",
                self.plan.views.to_string(),
                other.plan.views.to_string(),
            ),
            (
                "shard size",
                self.plan.shard_size.to_string(),
                other.plan.shard_size.to_string(),
            ),
            (
                "size",
                format!("{}x{}", self.width, self.height),
                format!("{}x{}", other.width, other.height),
            ),
            (
                "layout",
                format!("{:?}", self.layout),
                format!("{:?}", other.layout),
            ),
        ];
        for (field, mine, theirs) in fields {
            if mine != theirs {
                return Err(DatasetError::Mismatch {
                    path: path.to_path_buf(),
                    field: field.to_string(),
                    existing: theirs,
                    requested: mine,
                });
            }
        }
        Ok(())
    }
}

/// Seconds since the Unix epoch (0 if the clock is before it).
pub fn now_unix_s() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
