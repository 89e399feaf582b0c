//! `synthfeat export`: the encoder as a `.safetensors` file with PyTorch-style
//! names, loadable with Python's `safetensors` (no synthfeat code needed).
//!
//! Layer `convN` / `fcN` gives `convN.weight` `[out, in, kh, kw]` (and
//! `convN.bias` if it had one; the backbones' convolutions have none, as batch
//! norm follows them), and its batch norm `bnN.weight`, `bnN.bias`,
//! `bnN.running_mean`, `bnN.running_var` — the names of a PyTorch module with
//! attributes `conv1`, `bn1`, … (`load_state_dict` fills `num_batches_tracked`).

use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::model::Backbone;

/// Export errors, naming the file.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Writing failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A tensor could not be read back as `f32`.
    #[error("tensor {name}: {message}")]
    Tensor {
        /// Its name.
        name: String,
        /// What went wrong.
        message: String,
    },
}

/// One named `f32` tensor.
pub struct NamedTensor {
    /// PyTorch-style name.
    pub name: String,
    /// Shape.
    pub shape: Vec<usize>,
    /// Values, row-major.
    pub values: Vec<f32>,
}

fn named<B: Backend, const D: usize>(
    name: String,
    t: Tensor<B, D>,
) -> Result<NamedTensor, ExportError> {
    let data: TensorData = t.into_data();
    let shape = data.shape.to_vec();
    let values = data
        .convert::<f32>()
        .to_vec::<f32>()
        .map_err(|e| ExportError::Tensor {
            name: name.clone(),
            message: format!("{e:?}"),
        })?;
    Ok(NamedTensor {
        name,
        shape,
        values,
    })
}

/// The backbone's tensors under PyTorch-style names, in layer order.
pub fn tensors<B: Backend>(backbone: &Backbone<B>) -> Result<Vec<NamedTensor>, ExportError> {
    let mut out = Vec::new();
    for (layer, block) in backbone.blocks() {
        let digits: String = layer.chars().filter(|c| c.is_ascii_digit()).collect();
        let bn = format!("bn{digits}");
        out.push(named(format!("{layer}.weight"), block.conv.weight.val())?);
        if let Some(b) = &block.conv.bias {
            out.push(named(format!("{layer}.bias"), b.val())?);
        }
        out.push(named(format!("{bn}.weight"), block.norm.gamma.val())?);
        out.push(named(format!("{bn}.bias"), block.norm.beta.val())?);
        out.push(named(
            format!("{bn}.running_mean"),
            block.norm.running_mean.value(),
        )?);
        out.push(named(
            format!("{bn}.running_var"),
            block.norm.running_var.value(),
        )?);
    }
    Ok(out)
}

/// Writes `tensors` as a safetensors file (little-endian `F32`) with string
/// `metadata`, under a temporary name renamed into place.
pub fn write_safetensors(
    path: &Path,
    tensors: &[NamedTensor],
    metadata: &BTreeMap<String, String>,
) -> Result<(), ExportError> {
    let mut header = serde_json::Map::new();
    header.insert("__metadata__".into(), serde_json::json!(metadata));
    let mut offset = 0usize;
    for t in tensors {
        let end = offset + 4 * t.values.len();
        header.insert(
            t.name.clone(),
            serde_json::json!({"dtype": "F32", "shape": t.shape, "data_offsets": [offset, end]}),
        );
        offset = end;
    }
    let mut head = serde_json::Value::Object(header).to_string().into_bytes();
    while !head.len().is_multiple_of(8) {
        head.push(b' ');
    }
    let tmp = path.with_extension("safetensors.partial");
    let written = write_tensors(&tmp, &head, tensors, path);
    if written.is_err() {
        // Nothing half-written stays to fill the disk further.
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// Writes the header `head` and `tensors` to `tmp`, then renames it to `path`.
fn write_tensors(
    tmp: &Path,
    head: &[u8],
    tensors: &[NamedTensor],
    path: &Path,
) -> Result<(), ExportError> {
    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |source| ExportError::Io { path: p, source }
    };
    let mut f = std::io::BufWriter::new(std::fs::File::create(tmp).map_err(io(tmp))?);
    f.write_all(&(head.len() as u64).to_le_bytes())
        .map_err(io(tmp))?;
    f.write_all(head).map_err(io(tmp))?;
    for t in tensors {
        for v in &t.values {
            f.write_all(&v.to_le_bytes()).map_err(io(tmp))?;
        }
    }
    f.into_inner()
        .map_err(|e| ExportError::Io {
            path: tmp.to_path_buf(),
            source: e.into_error(),
        })?
        .sync_all()
        .map_err(io(tmp))?;
    std::fs::rename(tmp, path).map_err(io(path))
}
