//! Library assets on the GPU: each file loaded once (its triangles centred
//! on their bounding box, its materials and textures) and reused by every
//! scene that places it; beyond [`ASSET_CACHE`] files the least recently used
//! are dropped, so memory stays bounded whatever the library's size.

use bevy::asset::RenderAssetUsages;
use bevy::mesh::{Indices, PrimitiveTopology};
use bevy::prelude::*;
use std::collections::{HashMap, HashSet};

use crate::assets::AssetMaterial;

/// Most asset files kept loaded at once.
pub const ASSET_CACHE: usize = 128;

/// One loaded file, ready to spawn.
#[derive(Clone)]
pub(super) struct GpuAsset {
    /// Triangle lists with the index of their material.
    pub parts: Vec<(Handle<Mesh>, usize)>,
    /// The file's materials.
    pub materials: Vec<AssetMaterial>,
    /// Its textures, as `AssetMaterial::texture` indexes them.
    pub textures: Vec<Handle<Image>>,
    /// Full extents of its bounding box, in its own units.
    pub extent: Vec3,
}

/// Loaded assets by path, with their last use.
#[derive(Default)]
pub(super) struct AssetCache {
    assets: HashMap<String, (GpuAsset, u64)>,
    clock: u64,
    /// Files that failed to load (each warned about once).
    failed: HashSet<String>,
}

impl AssetCache {
    /// The asset at `path`, loaded on first use and checked against
    /// `sha256`; `None` (after one warning naming the file) when it cannot
    /// be loaded or has changed since the library was indexed.
    pub fn get(
        &mut self,
        path: &str,
        sha256: &str,
        meshes: &mut Assets<Mesh>,
        images: &mut Assets<Image>,
    ) -> Option<GpuAsset> {
        self.clock += 1;
        if let Some((asset, used)) = self.assets.get_mut(path) {
            *used = self.clock;
            return Some(asset.clone());
        }
        if self.failed.contains(path) {
            return None;
        }
        let loaded = match crate::assets::load(std::path::Path::new(path), true) {
            Ok(l) if l.sha256 == sha256 => l,
            Ok(l) => {
                tracing::warn!(
                    "asset {path} changed since the library was indexed (sha256 {}, indexed {sha256}); drawing its bounding box",
                    l.sha256
                );
                self.failed.insert(path.to_string());
                return None;
            }
            Err(e) => {
                tracing::warn!("{e}; drawing its bounding box");
                self.failed.insert(path.to_string());
                return None;
            }
        };
        for w in &loaded.warnings {
            tracing::warn!("asset {path}: {w}");
        }
        let mut mesh = loaded.mesh;
        mesh.center();
        let (lo, hi) = mesh.bounds().unwrap_or(([0.0; 3], [0.0; 3]));
        let asset = GpuAsset {
            parts: mesh
                .parts
                .into_iter()
                .map(|p| {
                    let m = p.material;
                    let mut bevy_mesh = Mesh::new(
                        PrimitiveTopology::TriangleList,
                        RenderAssetUsages::RENDER_WORLD,
                    );
                    bevy_mesh.insert_attribute(Mesh::ATTRIBUTE_POSITION, p.positions);
                    bevy_mesh.insert_attribute(Mesh::ATTRIBUTE_NORMAL, p.normals);
                    bevy_mesh.insert_attribute(Mesh::ATTRIBUTE_UV_0, p.uvs);
                    bevy_mesh.insert_indices(Indices::U32(p.indices));
                    (meshes.add(bevy_mesh), m)
                })
                .collect(),
            materials: mesh.materials,
            textures: mesh
                .textures
                .into_iter()
                .map(|t| images.add(super::scene::srgb_texture(t)))
                .collect(),
            extent: Vec3::from(hi) - Vec3::from(lo),
        };
        // An evicted asset is freed once no entity of the scene on screen uses it.
        super::scene::evict_oldest(&mut self.assets, ASSET_CACHE);
        self.assets
            .insert(path.to_string(), (asset.clone(), self.clock));
        Some(asset)
    }

    /// Files loaded now.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.assets.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_keeps_at_most_its_limit_and_reuses_loaded_files() {
        let tmp = tempfile::tempdir().expect("tmp");
        let variants = (ASSET_CACHE / crate::assets::builtin::CATEGORIES.len()) as u32 + 1;
        crate::assets::builtin::write_library(tmp.path(), variants).expect("writes");
        let (lib, _) = crate::assets::scan(&[tmp.path().to_path_buf()]).expect("scans");
        assert!(lib.entries.len() > ASSET_CACHE);
        let (mut meshes, mut images) = (Assets::<Mesh>::default(), Assets::<Image>::default());
        let mut cache = AssetCache::default();
        let first = &lib.entries[0];
        let a = cache
            .get(&first.path, &first.sha256, &mut meshes, &mut images)
            .expect("loads");
        let again = cache
            .get(&first.path, &first.sha256, &mut meshes, &mut images)
            .expect("cached");
        assert_eq!(
            a.parts[0].0, again.parts[0].0,
            "the same mesh, not a second copy"
        );
        for e in &lib.entries {
            assert!(
                cache
                    .get(&e.path, &e.sha256, &mut meshes, &mut images)
                    .is_some()
            );
            assert!(cache.len() <= ASSET_CACHE);
        }
        assert_eq!(cache.len(), ASSET_CACHE);
        // The first file was evicted: loaded again, its hash is checked again.
        let wrong = "0".repeat(64);
        assert!(
            cache
                .get(&first.path, &wrong, &mut meshes, &mut images)
                .is_none()
        );
    }
}
