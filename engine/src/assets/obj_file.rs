//! Reading Wavefront OBJ files (with their `.mtl` materials and diffuse
//! textures) into an [`AssetMesh`].

use std::cell::RefCell;
use std::path::Path;

use super::mesh::{AssetMaterial, AssetMesh, MeshPart};
use super::{Loader, MAX_TRIANGLES};

/// Reads `path` (whose bytes are `bytes`), its material libraries and
/// textures through `loader`.
pub(super) fn read(path: &Path, bytes: &[u8], loader: &mut Loader) -> Result<AssetMesh, String> {
    let options = tobj::LoadOptions {
        triangulate: true,
        single_index: true,
        ..Default::default()
    };
    // The material callback may not borrow the loader mutably; it collects
    // what it read, and the loader takes it afterwards.
    type Read = (String, Result<Vec<u8>, String>);
    let libraries: RefCell<Vec<Read>> = RefCell::new(Vec::new());
    let dir = path.parent().unwrap_or(Path::new("."));
    let (models, materials) = tobj::load_obj_buf(&mut &bytes[..], &options, |mtl| {
        let read = std::fs::read(dir.join(mtl)).map_err(|e| e.to_string());
        let parsed = match &read {
            Ok(b) => tobj::load_mtl_buf(&mut &b[..]),
            Err(_) => Err(tobj::LoadError::OpenFileFailed),
        };
        libraries
            .borrow_mut()
            .push((mtl.display().to_string(), read));
        parsed
    })
    .map_err(|e| format!("not a valid OBJ file ({e})"))?;
    for (name, read) in libraries.into_inner() {
        match read {
            Ok(b) => loader.hash(&b),
            Err(e) => return Err(format!("material library {name}: {e}")),
        }
    }
    let materials = materials.map_err(|e| format!("material library: {e}"))?;

    let mut mesh = AssetMesh::default();
    let mut texture_of: Vec<(String, usize)> = Vec::new();
    for m in &materials {
        let [r, g, b] = m.diffuse.unwrap_or([1.0; 3]);
        let mut material = AssetMaterial {
            base_color: [r, g, b, 1.0],
            ..AssetMaterial::default()
        };
        if let Some(name) = m
            .diffuse_texture
            .as_deref()
            .filter(|n| !n.trim().is_empty())
        {
            let name = name.trim().to_string();
            material.texture = match texture_of.iter().find(|(n, _)| *n == name) {
                Some((_, i)) => Some(*i),
                None => {
                    let t = texture(path, &name, loader, &mut mesh)?;
                    if let Some(i) = t {
                        texture_of.push((name, i));
                    }
                    t
                }
            };
        }
        mesh.materials.push(material);
    }
    let default_material = mesh.materials.len();
    mesh.materials.push(AssetMaterial::default());

    let mut triangles = 0usize;
    for model in models {
        let m = model.mesh;
        let positions: Vec<[f32; 3]> = m
            .positions
            .chunks_exact(3)
            .map(|p| [p[0], p[1], p[2]])
            .collect();
        let normals = (!m.normals.is_empty()).then(|| {
            m.normals
                .chunks_exact(3)
                .map(|n| [n[0], n[1], n[2]])
                .collect()
        });
        // OBJ's v runs up the image; glTF's and the renderer's run down.
        let uvs = (!m.texcoords.is_empty()).then(|| {
            m.texcoords
                .chunks_exact(2)
                .map(|t| [t[0], 1.0 - t[1]])
                .collect()
        });
        let material = m
            .material_id
            .filter(|&i| i < materials.len())
            .unwrap_or(default_material);
        let part = MeshPart::new(positions, normals, uvs, m.indices, material)?;
        triangles += part.triangles();
        if triangles > MAX_TRIANGLES {
            return Err(format!("draws over {MAX_TRIANGLES} triangles"));
        }
        if part.triangles() > 0 {
            mesh.parts.push(part);
        }
    }
    Ok(mesh)
}

/// Reads (and, when textures are wanted, decodes) the texture `name`
/// relative to the OBJ; its index in `mesh.textures`, or `None` when it is
/// not decoded.
fn texture(
    path: &Path,
    name: &str,
    loader: &mut Loader,
    mesh: &mut AssetMesh,
) -> Result<Option<usize>, String> {
    let bytes = loader
        .external(path, name)
        .map_err(|e| format!("texture {name}: {e}"))?;
    if !loader.decode_textures {
        return Ok(None);
    }
    match crate::image_file::decode_rgb(&bytes) {
        Ok(rgb) => {
            let rgb = crate::textures::at_most(rgb, crate::textures::LOAD_SIDE);
            mesh.textures
                .push(image::DynamicImage::ImageRgb8(rgb).to_rgba8());
            Ok(Some(mesh.textures.len() - 1))
        }
        Err(e) => {
            loader
                .warnings
                .push(format!("texture {name}: {e}; drawn without it"));
            Ok(None)
        }
    }
}
