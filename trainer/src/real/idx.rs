//! IDX files, the format of the MNIST family (`*-idx3-ubyte`, gzip or not):
//! a magic number naming the element type and rank, the dimensions as
//! big-endian u32, then the elements in row-major order.

use std::io::Read;
use std::path::Path;

/// An IDX array of unsigned bytes (the only element type image sets use).
#[derive(Clone, Debug, PartialEq)]
pub struct IdxArray {
    /// Dimensions, outermost first (`[count, rows, cols]` for images).
    pub dims: Vec<usize>,
    /// The elements, row-major.
    pub data: Vec<u8>,
}

/// Why an IDX file cannot be read; the caller adds the path.
#[derive(Debug, thiserror::Error)]
pub enum IdxError {
    /// The file cannot be read or gunzipped.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// Not an IDX file.
    #[error("not an IDX file (magic bytes {0:02x?}, expected 00 00 TYPE RANK)")]
    Magic([u8; 4]),
    /// An element type other than unsigned byte.
    #[error("IDX element type 0x{0:02x} is not supported (only 0x08, unsigned byte)")]
    ElementType(u8),
    /// Fewer bytes than the dimensions promise.
    #[error("IDX data holds {got} bytes but its dimensions {dims:?} need {want}")]
    Truncated {
        /// The dimensions in the header.
        dims: Vec<usize>,
        /// Bytes needed.
        want: usize,
        /// Bytes present.
        got: usize,
    },
}

/// True when `bytes` start like a gzip stream.
pub fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0x1f, 0x8b])
}

/// The file's bytes, gunzipped when it is gzip.
pub fn read_maybe_gzip(path: &Path) -> std::io::Result<Vec<u8>> {
    let raw = std::fs::read(path)?;
    if !is_gzip(&raw) {
        return Ok(raw);
    }
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(raw.as_slice()).read_to_end(&mut out)?;
    Ok(out)
}

/// True when `bytes` (already gunzipped) start with an IDX header.
pub fn looks_like_idx(bytes: &[u8]) -> bool {
    bytes.len() >= 4 && bytes[0] == 0 && bytes[1] == 0 && (1..=4).contains(&bytes[3])
}

/// Parses IDX bytes (already gunzipped).
pub fn parse(bytes: &[u8]) -> Result<IdxArray, IdxError> {
    let head: [u8; 4] = bytes
        .get(..4)
        .and_then(|b| b.try_into().ok())
        .ok_or(IdxError::Magic([0; 4]))?;
    if !looks_like_idx(&head) {
        return Err(IdxError::Magic(head));
    }
    if head[2] != 0x08 {
        return Err(IdxError::ElementType(head[2]));
    }
    let rank = head[3] as usize;
    let mut dims = Vec::with_capacity(rank);
    for i in 0..rank {
        let at = 4 + 4 * i;
        let d = bytes
            .get(at..at + 4)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .ok_or_else(|| IdxError::Truncated {
                dims: dims.clone(),
                want: at + 4,
                got: bytes.len(),
            })?;
        dims.push(u32::from_be_bytes(d) as usize);
    }
    let start = 4 + 4 * rank;
    let want = dims.iter().product::<usize>();
    let data = bytes
        .get(start..start + want)
        .ok_or_else(|| IdxError::Truncated {
            dims: dims.clone(),
            want,
            got: bytes.len().saturating_sub(start),
        })?;
    Ok(IdxArray {
        dims,
        data: data.to_vec(),
    })
}

/// Reads an IDX file, gzip or not.
pub fn read(path: &Path) -> Result<IdxArray, IdxError> {
    parse(&read_maybe_gzip(path)?)
}

/// IDX bytes of a `u8` array (for tests and for users making small sets).
pub fn encode(dims: &[usize], data: &[u8]) -> Vec<u8> {
    let mut out = vec![0, 0, 0x08, dims.len() as u8];
    for d in dims {
        out.extend_from_slice(&(*d as u32).to_be_bytes());
    }
    out.extend_from_slice(data);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn reads_plain_and_gzip_files() {
        let dir = tempfile::tempdir().unwrap();
        let data: Vec<u8> = (0..2 * 3 * 4).map(|v| v as u8 * 7).collect();
        let bytes = encode(&[2, 3, 4], &data);
        let plain = dir.path().join("x-idx3-ubyte");
        std::fs::write(&plain, &bytes).unwrap();
        let gz = dir.path().join("x-idx3-ubyte.gz");
        let mut enc = flate2::write::GzEncoder::new(
            std::fs::File::create(&gz).unwrap(),
            flate2::Compression::default(),
        );
        enc.write_all(&bytes).unwrap();
        enc.finish().unwrap();
        for p in [&plain, &gz] {
            let a = read(p).unwrap();
            assert_eq!(a.dims, vec![2, 3, 4]);
            assert_eq!(a.data, data);
        }
    }

    #[test]
    fn bad_headers_and_short_data_are_errors() {
        assert!(matches!(parse(b"\x89PNG\r\n"), Err(IdxError::Magic(_))));
        assert!(matches!(
            parse(&[0, 0, 0x0d, 1, 0, 0, 0, 1, 0, 0, 0, 0]),
            Err(IdxError::ElementType(0x0d))
        ));
        let mut short = encode(&[3, 2], &[1, 2, 3, 4, 5, 6]);
        short.truncate(short.len() - 1);
        let e = parse(&short).unwrap_err().to_string();
        assert!(e.contains("need 6"), "{e}");
    }
}
