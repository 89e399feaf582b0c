//! A loaded asset as plain data: triangle lists with normals and texture
//! coordinates, their materials and decoded textures, in the file's frame.

use image::RgbaImage;

/// The surface of one part of an asset (glTF's metallic-roughness model).
#[derive(Clone, Debug, PartialEq)]
pub struct AssetMaterial {
    /// Linear RGBA base colour factor.
    pub base_color: [f32; 4],
    /// Metalness in `[0, 1]`.
    pub metallic: f32,
    /// Perceptual roughness in `[0, 1]`.
    pub roughness: f32,
    /// Whether back faces are drawn too.
    pub double_sided: bool,
    /// Index into [`AssetMesh::textures`] of its base colour texture, if any.
    pub texture: Option<usize>,
}

impl Default for AssetMaterial {
    /// glTF's default material: white, fully rough, not metallic, one-sided.
    fn default() -> Self {
        AssetMaterial {
            base_color: [1.0; 4],
            metallic: 0.0,
            roughness: 1.0,
            double_sided: false,
            texture: None,
        }
    }
}

/// One triangle list of an asset, with one material.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MeshPart {
    /// Vertex positions, in the asset's frame (node transforms applied).
    pub positions: Vec<[f32; 3]>,
    /// Unit vertex normals (the file's own, or flat ones where it has none).
    pub normals: Vec<[f32; 3]>,
    /// Texture coordinates (zero where the file has none).
    pub uvs: Vec<[f32; 2]>,
    /// Three vertex indices per triangle, counter-clockwise seen from the front.
    pub indices: Vec<u32>,
    /// Index into [`AssetMesh::materials`].
    pub material: usize,
}

impl MeshPart {
    /// A part from positions, optional normals and texture coordinates and
    /// triangle indices; checks every index, and where normals are missing
    /// gives each triangle its own vertices and face normal.
    pub fn new(
        positions: Vec<[f32; 3]>,
        normals: Option<Vec<[f32; 3]>>,
        uvs: Option<Vec<[f32; 2]>>,
        indices: Vec<u32>,
        material: usize,
    ) -> Result<Self, String> {
        let n = positions.len();
        if let Some(bad) = indices.iter().find(|&&i| i as usize >= n) {
            return Err(format!("vertex index {bad} out of range ({n} vertices)"));
        }
        if !indices.len().is_multiple_of(3) {
            return Err(format!(
                "{} indices is not a whole number of triangles",
                indices.len()
            ));
        }
        if positions.iter().flatten().any(|v| !v.is_finite()) {
            return Err("a vertex position is not finite".to_string());
        }
        let uvs = uvs
            .filter(|u| u.len() == n)
            .unwrap_or_else(|| vec![[0.0; 2]; n]);
        match normals.filter(|v| v.len() == n) {
            Some(normals) => Ok(MeshPart {
                positions,
                normals: normals.into_iter().map(unit_or_up).collect(),
                uvs,
                indices,
                material,
            }),
            None => Ok(flat(&positions, &uvs, &indices, material)),
        }
    }

    /// Triangles it draws.
    pub fn triangles(&self) -> usize {
        self.indices.len() / 3
    }
}

fn unit_or_up(v: [f32; 3]) -> [f32; 3] {
    let len = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt();
    if len > 1e-12 && len.is_finite() {
        v.map(|c| c / len)
    } else {
        [0.0, 1.0, 0.0]
    }
}

/// Each triangle with its own three vertices and its face normal.
fn flat(positions: &[[f32; 3]], uvs: &[[f32; 2]], indices: &[u32], material: usize) -> MeshPart {
    let mut part = MeshPart {
        material,
        ..MeshPart::default()
    };
    for tri in indices.chunks_exact(3) {
        let [a, b, c] = [0, 1, 2].map(|k| positions[tri[k] as usize]);
        let (u, v) = (sub(b, a), sub(c, a));
        let normal = unit_or_up([
            u[1] * v[2] - u[2] * v[1],
            u[2] * v[0] - u[0] * v[2],
            u[0] * v[1] - u[1] * v[0],
        ]);
        for &i in tri {
            part.indices.push(part.positions.len() as u32);
            part.positions.push(positions[i as usize]);
            part.uvs.push(uvs[i as usize]);
            part.normals.push(normal);
        }
    }
    part
}

fn sub(a: [f32; 3], b: [f32; 3]) -> [f32; 3] {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

/// A whole asset: its parts, materials and (when loaded with them) textures.
#[derive(Clone, Debug, Default)]
pub struct AssetMesh {
    /// Triangle lists.
    pub parts: Vec<MeshPart>,
    /// Materials the parts index.
    pub materials: Vec<AssetMaterial>,
    /// Decoded base colour textures (sRGB RGBA, scaled down to at most
    /// `textures::LOAD_SIDE` a side); empty when loaded without textures.
    pub textures: Vec<RgbaImage>,
}

impl AssetMesh {
    /// Triangles it draws.
    pub fn triangles(&self) -> usize {
        self.parts.iter().map(MeshPart::triangles).sum()
    }

    /// The bounding box of every vertex a triangle uses: `(min, max)`, or
    /// `None` for no triangle.
    pub fn bounds(&self) -> Option<([f32; 3], [f32; 3])> {
        let mut b: Option<([f32; 3], [f32; 3])> = None;
        for part in &self.parts {
            for &i in &part.indices {
                let p = part.positions[i as usize];
                let (lo, hi) = b.get_or_insert((p, p));
                for k in 0..3 {
                    lo[k] = lo[k].min(p[k]);
                    hi[k] = hi[k].max(p[k]);
                }
            }
        }
        b
    }

    /// Moves every vertex so the bounding box is centred on the origin.
    pub fn center(&mut self) {
        let Some((lo, hi)) = self.bounds() else {
            return;
        };
        let c = [0, 1, 2].map(|k| (lo[k] + hi[k]) / 2.0);
        for part in &mut self.parts {
            for p in &mut part.positions {
                *p = sub(*p, c);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_normals_become_face_normals_and_bad_indices_are_refused() {
        let positions = vec![[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [9.0; 3]];
        let part = MeshPart::new(positions.clone(), None, None, vec![0, 1, 2], 0).unwrap();
        assert_eq!(part.positions.len(), 3);
        // Counter-clockwise seen from above: the normal points up.
        assert!(
            part.normals.iter().all(|n| (n[1] - 1.0).abs() < 1e-6),
            "{:?}",
            part.normals
        );
        let mesh = AssetMesh {
            parts: vec![part],
            ..AssetMesh::default()
        };
        assert_eq!(
            mesh.bounds(),
            Some(([0.0, 0.0, -1.0], [1.0, 0.0, 0.0])),
            "unused vertices left out"
        );
        let e = MeshPart::new(positions, None, None, vec![0, 1, 7], 0).unwrap_err();
        assert!(e.contains("index 7"), "{e}");
    }
}
