//! Reading glTF 2.0 files (`.glb`, and `.gltf` with its buffers and images)
//! into an [`AssetMesh`]: the default scene's node tree flattened into the
//! file's frame, triangle primitives only, base colour materials.

use std::path::Path;

use super::mesh::{AssetMaterial, AssetMesh, MeshPart};
use super::{Loader, MAX_TRIANGLES};
use gltf::mesh::Mode;

type Mat4 = [[f32; 4]; 4];

/// Parses and validates a glTF document. gltf-json 1.4's validator indexes
/// the accessor list with each primitive's POSITION accessor before checking
/// that it exists (a panic, found by fuzzing), so those indices are checked
/// here first; any other panic inside the validator also becomes an error.
fn validated(bytes: &[u8]) -> Result<gltf::Gltf, String> {
    let invalid = |e: gltf::Error| format!("not a valid glTF file ({e})");
    let unchecked = gltf::Gltf::from_slice_without_validation(bytes).map_err(invalid)?;
    let root = unchecked.document.as_json();
    for (m, mesh) in root.meshes.iter().enumerate() {
        for (p, primitive) in mesh.primitives.iter().enumerate() {
            for index in primitive.attributes.values() {
                if index.value() >= root.accessors.len() {
                    return Err(format!(
                        "not a valid glTF file (mesh {m} primitive {p} names accessor {} of {})",
                        index.value(),
                        root.accessors.len()
                    ));
                }
            }
        }
    }
    std::panic::catch_unwind(|| gltf::Gltf::from_slice(bytes))
        .map_err(|_| "not a valid glTF file (its validation failed)".to_string())?
        .map_err(invalid)
}

/// Reads `path` (whose bytes are `bytes`), resolving its buffers and images
/// through `loader` (which hashes every external file it reads).
pub(super) fn read(path: &Path, bytes: &[u8], loader: &mut Loader) -> Result<AssetMesh, String> {
    let file = validated(bytes)?;
    let mut buffers: Vec<Vec<u8>> = Vec::new();
    for b in file.buffers() {
        let data = match b.source() {
            gltf::buffer::Source::Bin => file.blob.clone().ok_or_else(|| {
                format!(
                    "buffer {} lives in a binary chunk the file lacks",
                    b.index()
                )
            })?,
            gltf::buffer::Source::Uri(uri) => loader
                .external(path, uri)
                .map_err(|e| format!("buffer {} ({uri}): {e}", b.index()))?,
        };
        if data.len() < b.length() {
            return Err(format!(
                "buffer {} holds {} bytes, fewer than its byteLength {}",
                b.index(),
                data.len(),
                b.length()
            ));
        }
        buffers.push(data);
    }
    check_views_and_accessors(&file, &buffers)?;

    let mut mesh = AssetMesh::default();
    let materials: Vec<AssetMaterial> = file.materials().map(|m| material(&m)).collect();
    // Primitives without a material use glTF's default, kept at the end.
    let default_material = materials.len();
    mesh.materials = materials;
    mesh.materials.push(AssetMaterial::default());

    let identity = [
        [1.0, 0.0, 0.0, 0.0],
        [0.0, 1.0, 0.0, 0.0],
        [0.0, 0.0, 1.0, 0.0],
        [0.0, 0.0, 0.0, 1.0],
    ];
    let roots: Vec<gltf::Node> = match file.default_scene().or_else(|| file.scenes().next()) {
        Some(scene) => scene.nodes().collect(),
        None => file.nodes().collect(),
    };
    let mut stack: Vec<(gltf::Node, Mat4, usize)> =
        roots.into_iter().map(|n| (n, identity, 0)).collect();
    let mut triangles = 0usize;
    while let Some((node, parent, depth)) = stack.pop() {
        if depth > 64 {
            return Err("its node tree is deeper than 64 levels (a cycle?)".to_string());
        }
        let world = mul(parent, node.transform().matrix());
        if let Some(m) = node.mesh() {
            for p in m.primitives() {
                let material = p.material().index().unwrap_or(default_material);
                if let Some(part) = primitive(&p, &buffers, world, material)? {
                    triangles += part.triangles();
                    if triangles > MAX_TRIANGLES {
                        return Err(format!("draws over {MAX_TRIANGLES} triangles"));
                    }
                    mesh.parts.push(part);
                }
            }
        }
        stack.extend(node.children().map(|c| (c, world, depth + 1)));
    }

    if loader.decode_textures {
        let images: Vec<gltf::Image> = file.images().collect();
        let mut slot: Vec<Option<usize>> = vec![None; images.len()];
        for m in &mut mesh.materials {
            let Some(image) = m.texture.take() else {
                continue;
            };
            let Some(img) = images.get(image) else {
                continue;
            };
            if slot[image].is_none() {
                match texture(path, img, &buffers, loader) {
                    Ok(t) => {
                        mesh.textures.push(t);
                        slot[image] = Some(mesh.textures.len() - 1);
                    }
                    Err(e) => loader.warnings.push(format!("{e}; drawn without it")),
                }
            }
            m.texture = slot[image];
        }
    } else {
        // Still read external images, so the content hash covers them.
        for img in file.images() {
            if let gltf::image::Source::Uri { uri, .. } = img.source()
                && !uri.starts_with("data:")
            {
                loader
                    .external(path, uri)
                    .map_err(|e| format!("image {} ({uri}): {e}", img.index()))?;
            }
        }
    }
    Ok(mesh)
}

/// Every buffer view inside its buffer and every accessor inside its view,
/// so reading them cannot run past the data.
fn check_views_and_accessors(file: &gltf::Gltf, buffers: &[Vec<u8>]) -> Result<(), String> {
    for v in file.views() {
        let len = buffers.get(v.buffer().index()).map_or(0, Vec::len);
        if v.offset()
            .checked_add(v.length())
            .is_none_or(|end| end > len)
        {
            return Err(format!("buffer view {} runs past its buffer", v.index()));
        }
    }
    for a in file.accessors() {
        if a.sparse().is_some() {
            return Err(format!("accessor {} is sparse (not supported)", a.index()));
        }
        let Some(v) = a.view() else { continue };
        let stride = v.stride().unwrap_or(a.size());
        let need = match a.count() {
            0 => Some(0),
            n => (n - 1)
                .checked_mul(stride)
                .and_then(|x| x.checked_add(a.size()))
                .and_then(|x| x.checked_add(a.offset())),
        };
        if need.is_none_or(|n| n > v.length()) {
            return Err(format!("accessor {} runs past its buffer view", a.index()));
        }
    }
    Ok(())
}

fn material(m: &gltf::Material) -> AssetMaterial {
    let pbr = m.pbr_metallic_roughness();
    AssetMaterial {
        base_color: pbr.base_color_factor(),
        metallic: pbr.metallic_factor().clamp(0.0, 1.0),
        roughness: pbr.roughness_factor().clamp(0.0, 1.0),
        double_sided: m.double_sided(),
        texture: pbr
            .base_color_texture()
            .map(|t| t.texture().source().index()),
    }
}

/// One triangle primitive in the asset's frame; `None` for points and lines.
fn primitive(
    p: &gltf::Primitive,
    buffers: &[Vec<u8>],
    world: Mat4,
    material: usize,
) -> Result<Option<MeshPart>, String> {
    let mode = p.mode();
    if !matches!(
        mode,
        Mode::Triangles | Mode::TriangleStrip | Mode::TriangleFan
    ) {
        return Ok(None);
    }
    let reader = p.reader(|b| buffers.get(b.index()).map(Vec::as_slice));
    let Some(positions) = reader.read_positions() else {
        return Ok(None);
    };
    let positions: Vec<[f32; 3]> = positions.map(|v| transform_point(world, v)).collect();
    // The cofactor matrix flips normals where the transform mirrors.
    let mirrored = det3(world) < 0.0;
    let normal_matrix = cofactor3(world).map(|c| c.map(|v| if mirrored { -v } else { v }));
    let normals = reader.read_normals().map(|n| {
        n.map(|v| transform_dir(normal_matrix, v))
            .collect::<Vec<_>>()
    });
    let set = p
        .material()
        .pbr_metallic_roughness()
        .base_color_texture()
        .map_or(0, |t| t.tex_coord());
    let uvs = reader
        .read_tex_coords(set)
        .map(|t| t.into_f32().collect::<Vec<_>>());
    let mut indices: Vec<u32> = match reader.read_indices() {
        Some(i) => i.into_u32().collect(),
        None => (0..positions.len() as u32).collect(),
    };
    indices = match mode {
        Mode::TriangleStrip => strip(&indices),
        Mode::TriangleFan => fan(&indices),
        _ => {
            indices.truncate(indices.len() / 3 * 3);
            indices
        }
    };
    // A mirroring transform turns the winding around.
    if mirrored {
        for t in indices.chunks_exact_mut(3) {
            t.swap(1, 2);
        }
    }
    MeshPart::new(positions, normals, uvs, indices, material).map(Some)
}

fn strip(i: &[u32]) -> Vec<u32> {
    let mut out = Vec::new();
    for k in 2..i.len() {
        if k % 2 == 0 {
            out.extend([i[k - 2], i[k - 1], i[k]]);
        } else {
            out.extend([i[k - 1], i[k - 2], i[k]]);
        }
    }
    out
}

fn fan(i: &[u32]) -> Vec<u32> {
    (2..i.len()).flat_map(|k| [i[0], i[k - 1], i[k]]).collect()
}

/// The image `img` decoded, scaled down for rendering.
fn texture(
    path: &Path,
    img: &gltf::Image,
    buffers: &[Vec<u8>],
    loader: &mut Loader,
) -> Result<image::RgbaImage, String> {
    let bytes = match img.source() {
        gltf::image::Source::View { view, .. } => {
            let b = &buffers[view.buffer().index()];
            b[view.offset()..view.offset() + view.length()].to_vec()
        }
        gltf::image::Source::Uri { uri, .. } => loader
            .external(path, uri)
            .map_err(|e| format!("image {} ({uri}): {e}", img.index()))?,
    };
    let rgb =
        crate::image_file::decode_rgb(&bytes).map_err(|e| format!("image {}: {e}", img.index()))?;
    let rgb = crate::textures::at_most(rgb, crate::textures::LOAD_SIDE);
    Ok(image::DynamicImage::ImageRgb8(rgb).to_rgba8())
}

/// `a · b` of column-major matrices.
fn mul(a: Mat4, b: Mat4) -> Mat4 {
    let mut m = [[0.0; 4]; 4];
    for (c, col) in m.iter_mut().enumerate() {
        for (r, v) in col.iter_mut().enumerate() {
            *v = (0..4).map(|k| a[k][r] * b[c][k]).sum();
        }
    }
    m
}

fn transform_point(m: Mat4, p: [f32; 3]) -> [f32; 3] {
    [0, 1, 2].map(|r| m[0][r] * p[0] + m[1][r] * p[1] + m[2][r] * p[2] + m[3][r])
}

fn transform_dir(m: [[f32; 3]; 3], d: [f32; 3]) -> [f32; 3] {
    [0, 1, 2].map(|r| m[0][r] * d[0] + m[1][r] * d[1] + m[2][r] * d[2])
}

fn det3(m: Mat4) -> f32 {
    let e = |c: usize, r: usize| m[c][r];
    e(0, 0) * (e(1, 1) * e(2, 2) - e(2, 1) * e(1, 2))
        - e(1, 0) * (e(0, 1) * e(2, 2) - e(2, 1) * e(0, 2))
        + e(2, 0) * (e(0, 1) * e(1, 2) - e(1, 1) * e(0, 2))
}

/// The cofactor matrix of the upper 3×3 (the inverse transpose times the
/// determinant): it carries normals, whose length is restored afterwards.
fn cofactor3(m: Mat4) -> [[f32; 3]; 3] {
    let col = |c: usize| [m[c][0], m[c][1], m[c][2]];
    let cross = |a: [f32; 3], b: [f32; 3]| {
        [
            a[1] * b[2] - a[2] * b[1],
            a[2] * b[0] - a[0] * b[2],
            a[0] * b[1] - a[1] * b[0],
        ]
    };
    let (a, b, c) = (col(0), col(1), col(2));
    [cross(b, c), cross(c, a), cross(a, b)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cofactor_carries_normals_through_scale_and_mirror() {
        // Scale x by 2: a normal along (1, 1, 0) leans toward y.
        let m = [
            [2.0, 0.0, 0.0, 0.0],
            [0.0, 1.0, 0.0, 0.0],
            [0.0, 0.0, 1.0, 0.0],
            [0.0, 0.0, 0.0, 1.0],
        ];
        let n = transform_dir(cofactor3(m), [1.0, 1.0, 0.0]);
        assert!((n[1] / n[0] - 2.0).abs() < 1e-6, "{n:?}");
        let mirror = [
            [-1.0, 0.0, 0.0, 0.0],
            [0.0, 1.0, 0.0, 0.0],
            [0.0, 0.0, 1.0, 0.0],
            [0.0, 0.0, 0.0, 1.0],
        ];
        assert!(det3(mirror) < 0.0);
        assert_eq!(strip(&[0, 1, 2, 3]), vec![0, 1, 2, 2, 1, 3]);
        assert_eq!(fan(&[0, 1, 2, 3]), vec![0, 1, 2, 0, 2, 3]);
    }
}
