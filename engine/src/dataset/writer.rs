//! Writing shards atomically and keeping the manifest current.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::codec::EncodedSample;
use super::error::{DatasetError, io};
use super::manifest::{MANIFEST_FILE, Manifest, ShardEntry, now_unix_s, shard_name};

/// How shards are stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Layout {
    /// One WebDataset `.tar` per shard.
    Tar,
    /// One folder per shard holding the same member files, unpacked.
    Dir,
}

/// A dataset folder open for writing: knows which shards are complete and
/// records new ones in its manifest.
pub struct DatasetWriter {
    dir: PathBuf,
    manifest: Manifest,
    manifest_path: PathBuf,
    /// Shards already complete on disk (from any worker's manifest).
    complete: Vec<ShardEntry>,
}

impl DatasetWriter {
    /// Opens (creating if needed) `dir` for the run `header` describes.
    ///
    /// `worker` is `(index, count)` when several jobs fill one folder: each keeps
    /// its own `manifest.worker-I-of-K.json`; a single job keeps `manifest.json`.
    /// Existing shards of the same run that are complete are kept; a folder holding
    /// another run is refused.
    pub fn open(
        dir: &Path,
        mut header: Manifest,
        worker: (u64, u64),
    ) -> Result<Self, DatasetError> {
        if dir.exists() && !dir.is_dir() {
            return Err(DatasetError::NotAFolder(dir.to_path_buf()));
        }
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let manifest_path = if worker.1 <= 1 {
            dir.join(MANIFEST_FILE)
        } else {
            dir.join(format!(
                "manifest.worker-{:05}-of-{:05}.json",
                worker.0, worker.1
            ))
        };
        let mut complete = Vec::new();
        for path in Manifest::files_in(dir)? {
            let existing = Manifest::read(&path)?;
            header.check_compatible(&existing, &path)?;
            for s in existing.shards {
                let expected = header.plan.shard_range(s.index);
                let on_disk = shard_size_on_disk(&dir.join(&s.name), header.layout);
                if s.samples == expected.end - expected.start && on_disk == Some(s.bytes) {
                    complete.push(s);
                }
            }
        }
        complete.sort_by_key(|s| s.index);
        complete.dedup_by_key(|s| s.index);
        // This worker's manifest keeps the shards it is responsible for.
        header.shards = complete
            .iter()
            .filter(|s| worker.1 <= 1 || s.index % worker.1 == worker.0)
            .cloned()
            .collect();
        Ok(DatasetWriter {
            dir: dir.to_path_buf(),
            manifest: header,
            manifest_path,
            complete,
        })
    }

    /// Whether shard `index` is already complete on disk.
    pub fn is_complete(&self, index: u64) -> bool {
        self.complete.iter().any(|s| s.index == index)
    }

    /// The manifest as it stands.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// Starts writing shard `index` under a temporary name (a stale one is replaced).
    pub fn begin_shard(&self, index: u64) -> Result<ShardWriter, DatasetError> {
        let name = shard_name(index, self.manifest.layout);
        let final_path = self.dir.join(&name);
        let tmp_path = self.dir.join(format!("{name}.tmp"));
        let sink = match self.manifest.layout {
            Layout::Tar => {
                if tmp_path.exists() {
                    std::fs::remove_file(&tmp_path).map_err(io(&tmp_path))?;
                }
                let file = File::create(&tmp_path).map_err(io(&tmp_path))?;
                let builder = tar::Builder::new(Hashing::new(BufWriter::new(file)));
                Sink::Tar(builder)
            }
            Layout::Dir => {
                if tmp_path.exists() {
                    std::fs::remove_dir_all(&tmp_path).map_err(io(&tmp_path))?;
                }
                std::fs::create_dir(&tmp_path).map_err(io(&tmp_path))?;
                Sink::Dir(Hashing::new(std::io::sink()))
            }
        };
        Ok(ShardWriter {
            index,
            name,
            tmp_path,
            final_path,
            sink,
            samples: 0,
        })
    }

    /// Records a finished shard in this worker's manifest (written atomically).
    pub fn record(&mut self, entry: ShardEntry) -> Result<(), DatasetError> {
        self.manifest.shards.retain(|s| s.index != entry.index);
        self.manifest.shards.push(entry.clone());
        self.manifest.shards.sort_by_key(|s| s.index);
        self.complete.retain(|s| s.index != entry.index);
        self.complete.push(entry);
        self.manifest.updated_unix_s = now_unix_s();
        self.manifest.write_atomic(&self.manifest_path)
    }
}

/// Size of a complete shard on disk as the manifest counts it, if it exists.
fn shard_size_on_disk(path: &Path, layout: Layout) -> Option<u64> {
    match layout {
        Layout::Tar => std::fs::metadata(path)
            .ok()
            .filter(|m| m.is_file())
            .map(|m| m.len()),
        Layout::Dir => {
            let mut total = 0;
            for e in std::fs::read_dir(path).ok()? {
                total += e.ok()?.metadata().ok()?.len();
            }
            Some(total)
        }
    }
}

/// A writer that hashes and counts what passes through it.
struct Hashing<W> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
}

impl<W: Write> Hashing<W> {
    fn new(inner: W) -> Self {
        Hashing {
            inner,
            hasher: Sha256::new(),
            bytes: 0,
        }
    }
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

enum Sink {
    Tar(tar::Builder<Hashing<BufWriter<File>>>),
    Dir(Hashing<std::io::Sink>),
}

/// One shard being written; invisible under its final name until [`ShardWriter::finish`].
pub struct ShardWriter {
    index: u64,
    name: String,
    tmp_path: PathBuf,
    final_path: PathBuf,
    sink: Sink,
    samples: u64,
}

impl ShardWriter {
    /// Samples appended so far.
    pub fn samples(&self) -> u64 {
        self.samples
    }

    /// Appends one sample's members.
    pub fn append(&mut self, sample: &EncodedSample) -> Result<(), DatasetError> {
        match &mut self.sink {
            Sink::Tar(builder) => {
                for (name, bytes) in &sample.members {
                    let mut header = tar::Header::new_ustar();
                    header.set_size(bytes.len() as u64);
                    header.set_mode(0o644);
                    header.set_mtime(0);
                    header.set_uid(0);
                    header.set_gid(0);
                    header.set_entry_type(tar::EntryType::Regular);
                    builder
                        .append_data(&mut header, name, bytes.as_slice())
                        .map_err(io(&self.tmp_path))?;
                }
            }
            Sink::Dir(hashing) => {
                for (name, bytes) in &sample.members {
                    let path = self.tmp_path.join(name);
                    std::fs::write(&path, bytes).map_err(io(&path))?;
                    hashing.hasher.update(name.as_bytes());
                    hashing.hasher.update([0u8]);
                    hashing.hasher.update((bytes.len() as u64).to_le_bytes());
                    hashing.hasher.update(bytes);
                    hashing.bytes += bytes.len() as u64;
                }
            }
        }
        self.samples += 1;
        Ok(())
    }

    /// Gives the shard up: its temporary file (or folder) is removed, so a
    /// failed run leaves no partial shard taking space. Best effort: the
    /// error that made the run give up is the one worth reporting.
    pub fn abandon(self) {
        let tmp = self.tmp_path.clone();
        drop(self.sink);
        let _ = if tmp.is_dir() {
            std::fs::remove_dir_all(&tmp)
        } else {
            std::fs::remove_file(&tmp)
        };
    }

    /// Completes the shard: flushes, syncs and renames it to its final name.
    pub fn finish(self) -> Result<ShardEntry, DatasetError> {
        let (hasher, bytes) = match self.sink {
            Sink::Tar(builder) => {
                let mut hashing = builder.into_inner().map_err(io(&self.tmp_path))?;
                hashing.flush().map_err(io(&self.tmp_path))?;
                let file = hashing.inner.into_inner().map_err(|e| DatasetError::Io {
                    path: self.tmp_path.clone(),
                    source: e.into_error(),
                })?;
                file.sync_all().map_err(io(&self.tmp_path))?;
                (hashing.hasher, hashing.bytes)
            }
            Sink::Dir(hashing) => (hashing.hasher, hashing.bytes),
        };
        if self.final_path.is_dir() {
            std::fs::remove_dir_all(&self.final_path).map_err(io(&self.final_path))?;
        }
        std::fs::rename(&self.tmp_path, &self.final_path).map_err(io(&self.final_path))?;
        Ok(ShardEntry {
            index: self.index,
            name: self.name,
            samples: self.samples,
            sha256: hex(&hasher.finalize()),
            bytes,
        })
    }
}

/// Lower-case hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
