//! Mesh asset libraries: scanning folders of glTF 2.0 (`.glb`, `.gltf`) and
//! Wavefront OBJ files into an [`AssetLibrary`] (sorted paths, categories,
//! bounding boxes, content hashes over every file an asset reads), and
//! loading an entry's triangles, materials and textures for the renderer.
//!
//! A file that cannot be read, is damaged, misses a buffer or texture it
//! names, or draws no triangle is skipped with a reason the caller prints; a
//! folder that is missing, or where nothing loads, is an error naming it.
//! [`builtin`] writes a small library of everyday objects.

pub mod builtin;
mod glb;
mod gltf_file;
mod mesh;
mod obj_file;

use base64::Engine;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

pub use crate::textures::Skipped;
pub use mesh::{AssetMaterial, AssetMesh, MeshPart};
use scenes::assets::{AssetEntry, AssetLibrary, category_of};

/// Most triangles one asset may draw (larger files are skipped).
pub const MAX_TRIANGLES: usize = 2_000_000;
/// Largest file (or external file) an asset may read, bytes.
pub const MAX_FILE_BYTES: u64 = 1 << 30;

/// Why a library could not be built or an asset not loaded.
#[derive(Debug, thiserror::Error)]
pub enum AssetError {
    /// A named folder does not exist or cannot be listed.
    #[error("asset folder {path}: {source}")]
    Folder {
        /// The folder.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A folder holds no usable asset.
    #[error("asset folder {path} holds no usable glTF (.glb, .gltf) or OBJ file{detail}")]
    Empty {
        /// The folder.
        path: PathBuf,
        /// What was skipped there, if anything.
        detail: String,
    },
    /// An asset could not be loaded.
    #[error("asset {path}: {message}")]
    Asset {
        /// The file.
        path: String,
        /// Why.
        message: String,
    },
}

/// Reads an asset's external files and hashes everything it reads.
pub(crate) struct Loader {
    hasher: Sha256,
    /// Whether textures are decoded (rendering) or only read and hashed (scanning).
    pub decode_textures: bool,
    /// Problems that leave the asset usable (a texture that does not decode).
    pub warnings: Vec<String>,
}

impl Loader {
    fn new(decode_textures: bool) -> Self {
        Loader {
            hasher: Sha256::new(),
            decode_textures,
            warnings: Vec::new(),
        }
    }

    /// Adds `bytes` to the content hash.
    pub fn hash(&mut self, bytes: &[u8]) {
        self.hasher.update(bytes);
    }

    /// The bytes of `uri`, named by the file at `path`: a base64 `data:` URI,
    /// or a file relative to `path`'s folder (percent escapes decoded).
    pub fn external(&mut self, path: &Path, uri: &str) -> Result<Vec<u8>, String> {
        let bytes = if let Some(rest) = uri.strip_prefix("data:") {
            let (_, data) = rest
                .split_once(";base64,")
                .ok_or("a data URI that is not base64")?;
            base64::engine::general_purpose::STANDARD
                .decode(data.trim())
                .map_err(|e| format!("bad base64 ({e})"))?
        } else {
            let file = path
                .parent()
                .unwrap_or(Path::new("."))
                .join(percent_decode(uri));
            read_limited(&file)?
        };
        self.hash(&bytes);
        Ok(bytes)
    }

    fn finish(self) -> String {
        self.hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

fn read_limited(file: &Path) -> Result<Vec<u8>, String> {
    let len = std::fs::metadata(file)
        .map_err(|e| format!("{}: {e}", file.display()))?
        .len();
    if len > MAX_FILE_BYTES {
        return Err(format!(
            "{} is {len} bytes, over the {MAX_FILE_BYTES}-byte limit",
            file.display()
        ));
    }
    std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))
}

/// `%XX` escapes of a relative URI decoded (other bytes kept).
fn percent_decode(uri: &str) -> String {
    let b = uri.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%'
            && i + 2 < b.len()
            && let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// An asset with its content hash and any warnings its loading gave.
pub struct Loaded {
    /// Triangles, materials and (when asked for) textures.
    pub mesh: AssetMesh,
    /// SHA-256 over the file and every external file it read.
    pub sha256: String,
    /// Problems that left it usable.
    pub warnings: Vec<String>,
}

/// Loads the asset at `path` (glTF or OBJ, by extension), decoding its
/// textures when `textures` is set.
pub fn load(path: &Path, textures: bool) -> Result<Loaded, AssetError> {
    let fail = |message: String| AssetError::Asset {
        path: path.display().to_string(),
        message,
    };
    let bytes = read_limited(path).map_err(fail)?;
    let mut loader = Loader::new(textures);
    loader.hash(&bytes);
    let mesh = if crate::files::has_extension(path, &["obj"]) {
        obj_file::read(path, &bytes, &mut loader)
    } else {
        gltf_file::read(path, &bytes, &mut loader)
    }
    .map_err(fail)?;
    if mesh.triangles() == 0 {
        return Err(fail("draws no triangles".to_string()));
    }
    let warnings = std::mem::take(&mut loader.warnings);
    Ok(Loaded {
        mesh,
        sha256: loader.finish(),
        warnings,
    })
}

/// The library entry of the asset at `path`, found under `root`.
fn entry_of(root: &Path, path: &Path) -> Result<AssetEntry, String> {
    let loaded = load(path, false).map_err(|e| match e {
        AssetError::Asset { message, .. } => message,
        other => other.to_string(),
    })?;
    let Some((min, max)) = loaded.mesh.bounds() else {
        return Err("draws no triangles".to_string());
    };
    let extent = (0..3).map(|k| max[k] - min[k]).fold(0.0f32, f32::max);
    if !(extent.is_finite() && extent > 0.0) {
        return Err("has no extent (every vertex at one point)".to_string());
    }
    let relative = path.strip_prefix(root).unwrap_or(path);
    Ok(AssetEntry {
        path: path.display().to_string(),
        sha256: loaded.sha256,
        category: category_of(&relative.to_string_lossy()),
        min,
        max,
        triangles: loaded.mesh.triangles().min(u32::MAX as usize) as u32,
    })
}

/// Scans `folders` into one library; returns it with the files left out.
pub fn scan(folders: &[PathBuf]) -> Result<(AssetLibrary, Vec<Skipped>), AssetError> {
    let mut entries = Vec::new();
    let mut skipped = Vec::new();
    for dir in folders {
        let files = crate::files::files_under(dir, |p| {
            crate::files::has_extension(p, &["glb", "gltf", "obj"])
        })
        .map_err(|(path, source)| AssetError::Folder { path, source })?;
        let before = (entries.len(), skipped.len());
        for f in files {
            match entry_of(dir, &f) {
                Ok(e) => entries.push(e),
                Err(reason) => skipped.push(Skipped { path: f, reason }),
            }
        }
        if entries.len() == before.0 {
            let n = skipped.len() - before.1;
            return Err(AssetError::Empty {
                path: dir.clone(),
                detail: if n > 0 {
                    format!(
                        " ({n} files skipped, e.g. {}: {})",
                        skipped[before.1].path.display(),
                        skipped[before.1].reason
                    )
                } else {
                    String::new()
                },
            });
        }
    }
    entries.sort_by(|a, b| a.path.cmp(&b.path));
    entries.dedup_by(|a, b| a.path == b.path);
    Ok((AssetLibrary { entries }, skipped))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `.gltf` of one triangle whose buffer lives in `buffer.bin`, drawn as `mode`.
    fn write_gltf(dir: &Path, name: &str, mode: u32, normals: bool) {
        let positions: [f32; 9] = [0.0, 0.0, 0.0, 2.0, 0.0, 0.0, 0.0, 1.0, 0.0];
        let mut bin: Vec<u8> = positions.iter().flat_map(|f| f.to_le_bytes()).collect();
        if normals {
            bin.extend(
                [0.0f32, 0.0, 1.0]
                    .repeat(3)
                    .iter()
                    .flat_map(|f| f.to_le_bytes()),
            );
        }
        std::fs::write(dir.join("buffer.bin"), &bin).expect("bin");
        let mut attributes = serde_json::json!({"POSITION": 0});
        let mut accessors = vec![
            serde_json::json!({"bufferView": 0, "componentType": 5126, "count": 3,
            "type": "VEC3", "min": [0.0, 0.0, 0.0], "max": [2.0, 1.0, 0.0]}),
        ];
        let mut views = vec![serde_json::json!({"buffer": 0, "byteOffset": 0, "byteLength": 36})];
        if normals {
            attributes["NORMAL"] = serde_json::json!(1);
            accessors.push(serde_json::json!({"bufferView": 1, "componentType": 5126, "count": 3, "type": "VEC3"}));
            views.push(serde_json::json!({"buffer": 0, "byteOffset": 36, "byteLength": 36}));
        }
        let doc = serde_json::json!({
            "asset": {"version": "2.0"},
            "scenes": [{"nodes": [0]}],
            "nodes": [{"mesh": 0, "translation": [0.0, 0.0, 5.0]}],
            "meshes": [{"primitives": [{"attributes": attributes, "mode": mode}]}],
            "accessors": accessors,
            "bufferViews": views,
            "buffers": [{"byteLength": bin.len(), "uri": "buffer.bin"}],
        });
        std::fs::write(dir.join(name), doc.to_string()).expect("gltf");
    }

    #[test]
    fn scan_reads_gltf_obj_and_skips_damaged_files_naming_them() {
        let tmp = tempfile::tempdir().expect("tmp");
        let root = tmp.path();
        let tri = root.join("triangle");
        std::fs::create_dir(&tri).expect("mkdir");
        write_gltf(&tri, "a.gltf", 4, true);
        std::fs::write(root.join("junk.glb"), b"glTF\x02\0\0\0garbage").expect("junk");
        std::fs::write(root.join("points_1.gltf"), {
            let p = tri.join("a.gltf");
            std::fs::read_to_string(&p)
                .expect("read")
                .replace("\"mode\":4", "\"mode\":0")
        })
        .expect("points");
        std::fs::copy(tri.join("buffer.bin"), root.join("buffer.bin")).expect("copy");
        std::fs::write(root.join("lost.gltf"), {
            std::fs::read_to_string(tri.join("a.gltf"))
                .expect("read")
                .replace("buffer.bin", "gone.bin")
        })
        .expect("lost");
        std::fs::write(root.join("cube.mtl"), "newmtl red\nKd 0.8 0.1 0.1\n").expect("mtl");
        std::fs::write(
            root.join("cube.obj"),
            "mtllib cube.mtl\nusemtl red\nv 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 0\nf 1 2 3 4\n",
        )
        .expect("obj");
        std::fs::write(
            root.join("nomtl.obj"),
            "mtllib none.mtl\nv 0 0 0\nv 1 0 0\nv 1 1 0\nf 1 2 3\n",
        )
        .expect("obj");

        let (lib, skipped) = scan(&[root.to_path_buf()]).expect("scans");
        let names: Vec<(&str, &str)> = lib
            .entries
            .iter()
            .map(|e| (e.path.rsplit('/').next().unwrap_or(""), e.category.as_str()))
            .collect();
        assert_eq!(names, [("cube.obj", "cube"), ("a.gltf", "triangle")]);
        let gltf = &lib.entries[1];
        assert_eq!(
            (gltf.min, gltf.max, gltf.triangles),
            ([0.0, 0.0, 5.0], [2.0, 1.0, 5.0], 1)
        );
        let cube = &lib.entries[0];
        assert_eq!(cube.triangles, 2, "the quad is split in two");
        let why = |name: &str| {
            skipped
                .iter()
                .find(|s| s.path.ends_with(name))
                .map(|s| s.reason.clone())
                .unwrap_or_else(|| panic!("{name} not skipped: {skipped:?}"))
        };
        assert!(
            why("junk.glb").contains("not a valid glTF"),
            "{}",
            why("junk.glb")
        );
        assert!(
            why("points_1.gltf").contains("no triangles"),
            "{}",
            why("points_1.gltf")
        );
        assert!(
            why("lost.gltf").contains("gone.bin"),
            "{}",
            why("lost.gltf")
        );
        assert!(
            why("nomtl.obj").contains("none.mtl"),
            "{}",
            why("nomtl.obj")
        );
        assert_eq!(skipped.len(), 4, "{skipped:?}");

        // The hash covers the external buffer.
        let before = gltf.sha256.clone();
        let mut bin = std::fs::read(tri.join("buffer.bin")).expect("read");
        bin[0] ^= 1;
        std::fs::write(tri.join("buffer.bin"), &bin).expect("write");
        let (again, _) = scan(std::slice::from_ref(&tri)).expect("scans");
        assert_ne!(again.entries[0].sha256, before);

        // Loaded for rendering: flat normals where the file has none.
        let obj = load(Path::new(&cube.path), true).expect("loads");
        let part = &obj.mesh.parts[0];
        assert!(
            part.normals.iter().all(|n| (n[2] - 1.0).abs() < 1e-6),
            "{:?}",
            part.normals
        );
        assert_eq!(
            obj.mesh.materials[part.material].base_color,
            [0.8, 0.1, 0.1, 1.0]
        );
    }

    #[test]
    fn missing_or_useless_folders_are_errors_naming_them() {
        let tmp = tempfile::tempdir().expect("tmp");
        let err = scan(&[tmp.path().join("nope")]).unwrap_err().to_string();
        assert!(err.contains("nope"), "{err}");
        std::fs::write(tmp.path().join("bad.glb"), b"nope").expect("write");
        let err = scan(&[tmp.path().to_path_buf()]).unwrap_err().to_string();
        assert!(
            err.contains("no usable") && err.contains("bad.glb"),
            "{err}"
        );
    }
}
