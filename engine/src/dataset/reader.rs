//! Reading datasets back into [`Sample`]s, shard by shard, on a prefetch thread.

use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::codec::decode_sample;
use super::error::{DatasetError, io};
use super::manifest::Manifest;
use super::writer::hex;
use crate::sample::Sample;

/// What the sample iterator does after yielding an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnError {
    /// End the iteration.
    Stop,
    /// Skip the rest of the damaged shard and carry on with the next one.
    SkipShard,
}

/// A shard to read and how many samples the manifest promises in it.
#[derive(Clone, Debug)]
struct ShardLoc {
    path: PathBuf,
    expected: Option<u64>,
    sha256: Option<String>,
}

/// A dataset folder open for reading.
pub struct DatasetReader {
    dir: PathBuf,
    manifest: Option<Manifest>,
    shards: Vec<ShardLoc>,
}

fn key_of(name: &str) -> &str {
    let base = name.rsplit('/').next().unwrap_or(name);
    base.split('.').next().unwrap_or(base)
}

fn suffix_of(name: &str) -> &str {
    let base = name.rsplit('/').next().unwrap_or(name);
    base.split_once('.').map_or("", |(_, s)| s)
}

impl DatasetReader {
    /// Opens a dataset folder: shards listed by its manifest(s), or, without one,
    /// every `shard-*.tar` file and `shard-*` folder in name order.
    pub fn open(dir: &Path) -> Result<Self, DatasetError> {
        if !dir.is_dir() {
            let err = std::io::Error::new(std::io::ErrorKind::NotFound, "not a dataset folder");
            return Err(DatasetError::Io {
                path: dir.to_path_buf(),
                source: std::fs::metadata(dir).err().unwrap_or(err),
            });
        }
        let manifest = Manifest::read_merged(dir)?;
        let shards: Vec<ShardLoc> = match &manifest {
            Some(m) => m
                .shards
                .iter()
                .map(|s| ShardLoc {
                    path: dir.join(&s.name),
                    expected: Some(s.samples),
                    sha256: Some(s.sha256.clone()),
                })
                .collect(),
            None => {
                let mut names: Vec<PathBuf> = std::fs::read_dir(dir)
                    .map_err(io(dir))?
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| {
                        let n = p
                            .file_name()
                            .map(|n| n.to_string_lossy().to_string())
                            .unwrap_or_default();
                        n.starts_with("shard-")
                            && !n.ends_with(".tmp")
                            && (n.ends_with(".tar") || p.is_dir())
                    })
                    .collect();
                names.sort();
                names
                    .into_iter()
                    .map(|path| ShardLoc {
                        path,
                        expected: None,
                        sha256: None,
                    })
                    .collect()
            }
        };
        if shards.is_empty() {
            return Err(DatasetError::Empty(dir.to_path_buf()));
        }
        Ok(DatasetReader {
            dir: dir.to_path_buf(),
            manifest,
            shards,
        })
    }

    /// The dataset folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The merged manifest, if the folder has one.
    pub fn manifest(&self) -> Option<&Manifest> {
        self.manifest.as_ref()
    }

    /// Paths of the shards, in order.
    pub fn shard_paths(&self) -> Vec<PathBuf> {
        self.shards.iter().map(|s| s.path.clone()).collect()
    }

    /// Total samples the manifest promises, if known.
    pub fn expected_samples(&self) -> Option<u64> {
        self.shards.iter().map(|s| s.expected).sum()
    }

    /// Reads every sample of shard `i`, calling `f` for each; `f` returns false to stop.
    pub fn read_shard(
        &self,
        i: usize,
        f: &mut dyn FnMut(Result<Sample, DatasetError>) -> bool,
    ) -> bool {
        match self.shards.get(i) {
            Some(loc) => read_shard(loc, f),
            None => true,
        }
    }

    /// All samples in order, decoded on a prefetch thread holding at most `prefetch` ahead.
    pub fn samples(
        self,
        on_error: OnError,
        prefetch: usize,
    ) -> impl Iterator<Item = Result<Sample, DatasetError>> {
        let (tx, rx) = crossbeam_channel::bounded(prefetch.max(1));
        std::thread::spawn(move || {
            for loc in &self.shards {
                let mut go_on = true;
                let keep_going = read_shard(loc, &mut |r| {
                    let failed = r.is_err();
                    if tx.send(r).is_err() {
                        go_on = false;
                        return false;
                    }
                    if failed && on_error == OnError::Stop {
                        go_on = false;
                    }
                    !failed
                });
                if !go_on || !keep_going && on_error == OnError::Stop {
                    break;
                }
            }
        });
        rx.into_iter()
    }

    /// Recomputes each tar shard's SHA-256 and compares it with the manifest.
    ///
    /// Returns one error per shard that is missing, unreadable or differs.
    pub fn verify(&self) -> Vec<DatasetError> {
        let mut errors = Vec::new();
        for loc in &self.shards {
            let Some(want) = &loc.sha256 else { continue };
            if loc.path.is_dir() {
                continue;
            }
            match sha256_file(&loc.path) {
                Ok(got) if &got == want => {}
                Ok(got) => errors.push(DatasetError::CorruptShard {
                    shard: loc.path.clone(),
                    member: String::new(),
                    message: format!("sha256 {got} differs from the manifest's {want}"),
                }),
                Err(e) => errors.push(e),
            }
        }
        errors
    }
}

/// SHA-256 of a file, hex.
pub fn sha256_file(path: &Path) -> Result<String, DatasetError> {
    let mut f = std::fs::File::open(path).map_err(io(path))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf).map_err(io(path))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex(&h.finalize()))
}

/// Decodes one sample group; a failure names the member.
fn finish_group(
    shard: &Path,
    key: &str,
    members: &mut BTreeMap<String, Vec<u8>>,
) -> Result<Sample, DatasetError> {
    let sample = decode_sample(key, |suffix| members.remove(suffix));
    members.clear();
    sample.map_err(|(member, message)| DatasetError::CorruptMember {
        shard: shard.to_path_buf(),
        member,
        message,
    })
}

/// Groups consecutive members by key and decodes each finished group.
struct Grouper<'a> {
    shard: &'a Path,
    current: Option<String>,
    members: BTreeMap<String, Vec<u8>>,
    last_member: String,
    count: u64,
}

impl<'a> Grouper<'a> {
    fn new(shard: &'a Path) -> Self {
        Grouper {
            shard,
            current: None,
            members: BTreeMap::new(),
            last_member: String::new(),
            count: 0,
        }
    }

    /// Adds a member; returns a decoded sample when it starts a new key.
    fn push(&mut self, name: String, bytes: Vec<u8>) -> Option<Result<Sample, DatasetError>> {
        let key = key_of(&name).to_string();
        let mut done = None;
        if self.current.as_deref() != Some(key.as_str()) {
            done = self.flush();
            self.current = Some(key);
        }
        self.members.insert(suffix_of(&name).to_string(), bytes);
        self.last_member = name;
        done
    }

    /// Decodes the group in progress, if any.
    fn flush(&mut self) -> Option<Result<Sample, DatasetError>> {
        let key = self.current.take()?;
        self.count += 1;
        Some(finish_group(self.shard, &key, &mut self.members))
    }

    fn corrupt(&self, message: String) -> DatasetError {
        DatasetError::CorruptShard {
            shard: self.shard.to_path_buf(),
            member: self.last_member.clone(),
            message,
        }
    }
}

/// Streams one shard's samples to `f`. Returns false if `f` asked to stop or
/// the shard ended in an error.
fn read_shard(loc: &ShardLoc, f: &mut dyn FnMut(Result<Sample, DatasetError>) -> bool) -> bool {
    let shard = loc.path.as_path();
    let mut g = Grouper::new(shard);
    let outcome = if shard.is_dir() {
        read_dir_members(shard, &mut g, f)
    } else {
        read_tar_members(shard, &mut g, f)
    };
    match outcome {
        Err(e) => {
            f(Err(e));
            return false;
        }
        Ok(false) => return false,
        Ok(true) => {}
    }
    if let Some(sample) = g.flush() {
        let failed = sample.is_err();
        if !f(sample) || failed {
            return false;
        }
    }
    match loc.expected {
        Some(expected) if expected != g.count => {
            f(Err(g.corrupt(format!(
                "holds {} samples, the manifest says {expected} (truncated?)",
                g.count
            ))));
            false
        }
        _ => true,
    }
}

/// Feeds a decoded sample to `f`; `Ok(false)` when reading must stop.
fn deliver(
    sample: Option<Result<Sample, DatasetError>>,
    f: &mut dyn FnMut(Result<Sample, DatasetError>) -> bool,
) -> bool {
    match sample {
        None => true,
        Some(s) => {
            let failed = s.is_err();
            f(s) && !failed
        }
    }
}

fn read_tar_members(
    shard: &Path,
    g: &mut Grouper,
    f: &mut dyn FnMut(Result<Sample, DatasetError>) -> bool,
) -> Result<bool, DatasetError> {
    let file = std::fs::File::open(shard).map_err(io(shard))?;
    let mut archive = tar::Archive::new(std::io::BufReader::new(file));
    let entries = archive.entries().map_err(|e| g.corrupt(e.to_string()))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| g.corrupt(e.to_string()))?;
        let name = entry
            .path()
            .map_err(|e| g.corrupt(e.to_string()))?
            .to_string_lossy()
            .to_string();
        let mut bytes = Vec::with_capacity(entry.size() as usize);
        entry
            .read_to_end(&mut bytes)
            .map_err(|e| g.corrupt(format!("member {name}: {e}")))?;
        if !deliver(g.push(name, bytes), f) {
            return Ok(false);
        }
    }
    Ok(true)
}

fn read_dir_members(
    shard: &Path,
    g: &mut Grouper,
    f: &mut dyn FnMut(Result<Sample, DatasetError>) -> bool,
) -> Result<bool, DatasetError> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(shard)
        .map_err(io(shard))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    paths.sort();
    for p in paths {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        let bytes = std::fs::read(&p).map_err(io(&p))?;
        if !deliver(g.push(name, bytes), f) {
            return Ok(false);
        }
    }
    Ok(true)
}
