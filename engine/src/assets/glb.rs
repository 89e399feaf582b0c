//! Writing binary glTF (`.glb`) files: triangle meshes with normals,
//! texture coordinates and base colour materials (optionally with an
//! embedded PNG texture), as the built-in library needs.

use serde_json::{Value, json};

/// One triangle list to write.
pub(crate) struct Primitive<'a> {
    pub positions: &'a [[f32; 3]],
    /// Per-vertex normals, or `None` to leave them out (readers compute flat ones).
    pub normals: Option<&'a [[f32; 3]]>,
    pub uvs: &'a [[f32; 2]],
    pub indices: &'a [u32],
    pub material: usize,
}

/// A base colour material.
pub(crate) struct Material {
    pub color: [f32; 4],
    pub roughness: f32,
    pub metallic: f32,
    /// PNG bytes of its base colour texture.
    pub texture_png: Option<Vec<u8>>,
}

/// A `.glb` file of one mesh (one node) with `primitives` and `materials`.
pub(crate) fn write(primitives: &[Primitive], materials: &[Material]) -> Vec<u8> {
    let mut bin: Vec<u8> = Vec::new();
    let mut views: Vec<Value> = Vec::new();
    let mut accessors: Vec<Value> = Vec::new();
    let mut view = |bin: &mut Vec<u8>, bytes: &[u8], target: Option<u32>| {
        while !bin.len().is_multiple_of(4) {
            bin.push(0);
        }
        let mut v = json!({"buffer": 0, "byteOffset": bin.len(), "byteLength": bytes.len()});
        if let Some(t) = target {
            v["target"] = json!(t);
        }
        bin.extend_from_slice(bytes);
        views.push(v);
        views.len() - 1
    };
    let floats = |v: &[f32]| v.iter().flat_map(|f| f.to_le_bytes()).collect::<Vec<u8>>();
    let mut prims = Vec::new();
    for p in primitives {
        let mut attributes = serde_json::Map::new();
        let flat: Vec<f32> = p.positions.iter().flatten().copied().collect();
        let (mut lo, mut hi) = ([f32::MAX; 3], [f32::MIN; 3]);
        for q in p.positions {
            for k in 0..3 {
                lo[k] = lo[k].min(q[k]);
                hi[k] = hi[k].max(q[k]);
            }
        }
        let v = view(&mut bin, &floats(&flat), Some(34962));
        accessors.push(
            json!({"bufferView": v, "componentType": 5126, "count": p.positions.len(),
            "type": "VEC3", "min": lo, "max": hi}),
        );
        attributes.insert("POSITION".into(), json!(accessors.len() - 1));
        if let Some(n) = p.normals {
            let flat: Vec<f32> = n.iter().flatten().copied().collect();
            let v = view(&mut bin, &floats(&flat), Some(34962));
            accessors.push(
                json!({"bufferView": v, "componentType": 5126, "count": n.len(), "type": "VEC3"}),
            );
            attributes.insert("NORMAL".into(), json!(accessors.len() - 1));
        }
        let flat: Vec<f32> = p.uvs.iter().flatten().copied().collect();
        let v = view(&mut bin, &floats(&flat), Some(34962));
        accessors.push(
            json!({"bufferView": v, "componentType": 5126, "count": p.uvs.len(), "type": "VEC2"}),
        );
        attributes.insert("TEXCOORD_0".into(), json!(accessors.len() - 1));
        let idx: Vec<u8> = p.indices.iter().flat_map(|i| i.to_le_bytes()).collect();
        let v = view(&mut bin, &idx, Some(34963));
        accessors.push(json!({"bufferView": v, "componentType": 5125, "count": p.indices.len(), "type": "SCALAR"}));
        prims.push(json!({"attributes": attributes, "indices": accessors.len() - 1, "material": p.material}));
    }
    let (mut images, mut textures) = (Vec::new(), Vec::new());
    let mut mats = Vec::new();
    for m in materials {
        let mut pbr = json!({"baseColorFactor": m.color, "roughnessFactor": m.roughness, "metallicFactor": m.metallic});
        if let Some(png) = &m.texture_png {
            let v = view(&mut bin, png, None);
            images.push(json!({"bufferView": v, "mimeType": "image/png"}));
            textures.push(json!({"source": images.len() - 1, "sampler": 0}));
            pbr["baseColorTexture"] = json!({"index": textures.len() - 1});
        }
        mats.push(json!({"pbrMetallicRoughness": pbr}));
    }
    while !bin.len().is_multiple_of(4) {
        bin.push(0);
    }
    let mut doc = json!({
        "asset": {"version": "2.0", "generator": concat!("synthfeat ", env!("CARGO_PKG_VERSION"))},
        "scene": 0,
        "scenes": [{"nodes": [0]}],
        "nodes": [{"mesh": 0}],
        "meshes": [{"primitives": prims}],
        "materials": mats,
        "accessors": accessors,
        "bufferViews": views,
        "buffers": [{"byteLength": bin.len()}],
    });
    if !images.is_empty() {
        // Repeat wrapping, linear filtering.
        doc["samplers"] =
            json!([{"magFilter": 9729, "minFilter": 9729, "wrapS": 10497, "wrapT": 10497}]);
        doc["images"] = json!(images);
        doc["textures"] = json!(textures);
    }
    let mut text = doc.to_string().into_bytes();
    while !text.len().is_multiple_of(4) {
        text.push(b' ');
    }
    let total = 12 + 8 + text.len() + 8 + bin.len();
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(b"glTF");
    out.extend_from_slice(&2u32.to_le_bytes());
    out.extend_from_slice(&(total as u32).to_le_bytes());
    out.extend_from_slice(&(text.len() as u32).to_le_bytes());
    out.extend_from_slice(b"JSON");
    out.extend_from_slice(&text);
    out.extend_from_slice(&(bin.len() as u32).to_le_bytes());
    out.extend_from_slice(b"BIN\0");
    out.extend_from_slice(&bin);
    out
}
