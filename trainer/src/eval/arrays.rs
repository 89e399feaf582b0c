//! Depth and disparity arrays as users store them: 16-bit PNG (millimetres),
//! NumPy `.npy` and `.npz` (stored or deflated), and PFM (Middlebury's
//! float maps). Each reads to a row-major `f32` map, top row first.

use std::io::Read;
use std::path::Path;

/// A 2-D map of values.
#[derive(Clone, Debug, PartialEq)]
pub struct Map {
    /// Columns.
    pub width: usize,
    /// Rows.
    pub height: usize,
    /// Values, row-major, top row first.
    pub values: Vec<f32>,
    /// True when the file stored integers (depth then is in millimetres).
    pub integer: bool,
}

/// Reads `path` by its extension (`png`, `npy`, `npz`, `pfm`).
pub fn read(path: &Path) -> Result<Map, String> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    match ext.as_str() {
        "png" => png16(&bytes),
        "npy" => npy(&bytes),
        "npz" => npz(&bytes),
        "pfm" => pfm(&bytes),
        other => Err(format!(
            "unknown depth file type `.{other}` (png, npy, npz, pfm)"
        )),
    }
}

/// A 16-bit grey PNG.
fn png16(bytes: &[u8]) -> Result<Map, String> {
    let img = image::load_from_memory_with_format(bytes, image::ImageFormat::Png)
        .map_err(|e| format!("PNG: {e}"))?;
    if !matches!(img.color(), image::ColorType::L16) {
        return Err(format!(
            "a depth PNG must be 16-bit grey in millimetres, this one is {:?}",
            img.color()
        ));
    }
    let g = img.to_luma16();
    Ok(Map {
        width: g.width() as usize,
        height: g.height() as usize,
        values: g.as_raw().iter().map(|v| f32::from(*v)).collect(),
        integer: true,
    })
}

/// A disparity PNG: 8-bit grey (Middlebury 2001–2006, `disp1.png`; 0 =
/// unknown) or 16-bit grey, each value `scale` times the disparity in pixels.
pub fn disparity_png(bytes: &[u8], scale: f64) -> Result<Map, String> {
    if !(scale.is_finite() && scale > 0.0) {
        return Err(format!("the disparity scale must be positive, got {scale}"));
    }
    let img = image::load_from_memory_with_format(bytes, image::ImageFormat::Png)
        .map_err(|e| format!("PNG: {e}"))?;
    let values: Vec<f32> = match img.color() {
        image::ColorType::L8 => img
            .to_luma8()
            .as_raw()
            .iter()
            .map(|&v| f32::from(v))
            .collect(),
        image::ColorType::L16 => img
            .to_luma16()
            .as_raw()
            .iter()
            .map(|&v| f32::from(v))
            .collect(),
        other => {
            return Err(format!(
                "a disparity PNG must be 8- or 16-bit grey, this one is {other:?}"
            ));
        }
    };
    Ok(Map {
        width: img.width() as usize,
        height: img.height() as usize,
        values: values
            .into_iter()
            .map(|v| (f64::from(v) / scale) as f32)
            .collect(),
        integer: false,
    })
}

/// The value of `key` in a `.npy` header dict (`'descr': '<f4'` → `<f4`).
fn header_field<'a>(header: &'a str, key: &str) -> Option<&'a str> {
    let at = header.find(&format!("'{key}'"))? + key.len() + 2;
    let rest = header[at..].trim_start().strip_prefix(':')?.trim_start();
    if let Some(r) = rest.strip_prefix('\'') {
        r.split('\'').next()
    } else if rest.starts_with('(') {
        rest.split(')').next().map(|s| &s[1..])
    } else {
        rest.split([',', '}']).next().map(str::trim)
    }
}

/// A NumPy `.npy` array of two dimensions (or three with one channel).
pub fn npy(bytes: &[u8]) -> Result<Map, String> {
    if !bytes.starts_with(b"\x93NUMPY") || bytes.len() < 10 {
        return Err("not a .npy file".into());
    }
    let (len, start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        _ if bytes.len() >= 12 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        _ => return Err("truncated .npy header".into()),
    };
    let header = std::str::from_utf8(
        bytes
            .get(start..start + len)
            .ok_or("truncated .npy header")?,
    )
    .map_err(|_| "the .npy header is not text")?;
    let descr = header_field(header, "descr").ok_or("no dtype in the .npy header")?;
    if header_field(header, "fortran_order") == Some("True") {
        return Err("Fortran-ordered .npy arrays are not supported".into());
    }
    let shape: Vec<usize> = header_field(header, "shape")
        .ok_or("no shape in the .npy header")?
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let (height, width) = match shape[..] {
        [h, w] | [h, w, 1] => (h, w),
        _ => {
            return Err(format!(
                "a depth array needs two dimensions, this one has shape {shape:?}"
            ));
        }
    };
    let data = &bytes[start + len..];
    let n = height * width;
    let take = |size: usize| -> Result<std::slice::ChunksExact<'_, u8>, String> {
        data.get(..n * size)
            .map(|d| d.chunks_exact(size))
            .ok_or_else(|| format!("the .npy data is shorter than its shape {shape:?}"))
    };
    let (values, integer): (Vec<f32>, bool) = match descr {
        "<f4" => (
            take(4)?
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
            false,
        ),
        "<f8" => (
            take(8)?
                .map(|c| {
                    f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]) as f32
                })
                .collect(),
            false,
        ),
        "<u2" => (
            take(2)?
                .map(|c| f32::from(u16::from_le_bytes([c[0], c[1]])))
                .collect(),
            true,
        ),
        "<i2" => (
            take(2)?
                .map(|c| f32::from(i16::from_le_bytes([c[0], c[1]])))
                .collect(),
            true,
        ),
        "<i4" => (
            take(4)?
                .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f32)
                .collect(),
            true,
        ),
        "|u1" => (take(1)?.map(|c| f32::from(c[0])).collect(), true),
        other => {
            return Err(format!(
                "dtype `{other}` is not supported (<f4, <f8, <u2, <i2, <i4, |u1)"
            ));
        }
    };
    Ok(Map {
        width,
        height,
        values,
        integer,
    })
}

/// The first array of a `.npz` (a zip of `.npy` files, stored or deflated).
pub fn npz(bytes: &[u8]) -> Result<Map, String> {
    let u16_at = |i: usize| {
        bytes
            .get(i..i + 2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]) as usize)
    };
    let u32_at = |i: usize| {
        bytes
            .get(i..i + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
    };
    if u32_at(0) != Some(0x0403_4b50) {
        return Err("not a .npz (zip) file".into());
    }
    let truncated = || "truncated .npz file".to_string();
    let (flags, method) = (
        u16_at(6).ok_or_else(truncated)?,
        u16_at(8).ok_or_else(truncated)?,
    );
    let compressed = u32_at(18).ok_or_else(truncated)?;
    let (name_len, extra_len) = (
        u16_at(26).ok_or_else(truncated)?,
        u16_at(28).ok_or_else(truncated)?,
    );
    if flags & 0x8 != 0 && compressed == 0 {
        return Err("the .npz entry has no size in its local header (streamed zip): re-save it with numpy.savez".into());
    }
    let start = 30 + name_len + extra_len;
    let data = bytes.get(start..start + compressed).ok_or_else(truncated)?;
    let raw = match method {
        0 => data.to_vec(),
        8 => {
            let mut out = Vec::new();
            flate2::read::DeflateDecoder::new(data)
                .read_to_end(&mut out)
                .map_err(|e| format!("inflating the .npz entry: {e}"))?;
            out
        }
        m => {
            return Err(format!(
                "zip compression method {m} is not supported (stored or deflate)"
            ));
        }
    };
    npy(&raw)
}

/// A PFM map (`Pf` grey; `PF` colour, first channel kept). Rows are stored
/// bottom to top; a negative scale means little-endian.
pub fn pfm(bytes: &[u8]) -> Result<Map, String> {
    // Three whitespace-separated header tokens after the magic, then one whitespace byte.
    let mut tokens = Vec::new();
    let mut i = 0;
    while tokens.len() < 4 {
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let s = i;
        while i < bytes.len() && !bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if s == i {
            return Err("truncated PFM header".into());
        }
        tokens.push(String::from_utf8_lossy(&bytes[s..i]).to_string());
    }
    i += 1;
    let channels = match tokens[0].as_str() {
        "Pf" => 1,
        "PF" => 3,
        m => return Err(format!("not a PFM file (magic `{m}`)")),
    };
    let parse = |t: &str| {
        t.parse::<usize>()
            .map_err(|_| format!("bad PFM size `{t}`"))
    };
    let (width, height) = (parse(&tokens[1])?, parse(&tokens[2])?);
    let scale: f32 = tokens[3]
        .parse()
        .map_err(|_| format!("bad PFM scale `{}`", tokens[3]))?;
    let data = bytes
        .get(i..i + width * height * channels * 4)
        .ok_or("the PFM data is shorter than its size")?;
    let value = |k: usize| {
        let b = [
            data[4 * k],
            data[4 * k + 1],
            data[4 * k + 2],
            data[4 * k + 3],
        ];
        if scale < 0.0 {
            f32::from_le_bytes(b)
        } else {
            f32::from_be_bytes(b)
        }
    };
    let mut values = Vec::with_capacity(width * height);
    for row in (0..height).rev() {
        for col in 0..width {
            values.push(value((row * width + col) * channels));
        }
    }
    Ok(Map {
        width,
        height,
        values,
        integer: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn npy_bytes(descr: &str, shape: &str, data: &[u8]) -> Vec<u8> {
        let mut header =
            format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': ({shape}), }}");
        while (10 + header.len() + 1) % 64 != 0 {
            header.push(' ');
        }
        header.push('\n');
        let mut out = b"\x93NUMPY\x01\x00".to_vec();
        out.extend_from_slice(&(header.len() as u16).to_le_bytes());
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(data);
        out
    }

    #[test]
    fn npy_float_and_integer_arrays() {
        let data: Vec<u8> = [1.5f32, 2.0, -1.0, 4.25, 0.0, 8.0]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let m = npy(&npy_bytes("<f4", "2, 3", &data)).unwrap();
        assert_eq!((m.width, m.height, m.integer), (3, 2, false));
        assert_eq!(m.values, vec![1.5, 2.0, -1.0, 4.25, 0.0, 8.0]);
        let data: Vec<u8> = [1000u16, 2500]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let m = npy(&npy_bytes("<u2", "1, 2", &data)).unwrap();
        assert_eq!((m.values.clone(), m.integer), (vec![1000.0, 2500.0], true));
        assert!(
            npy(&npy_bytes("<c8", "1, 1", &[0; 8]))
                .unwrap_err()
                .contains("not supported")
        );
        assert!(
            npy(&npy_bytes("<f4", "2, 3", &data))
                .unwrap_err()
                .contains("shorter")
        );
    }

    #[test]
    fn npz_stored_and_deflated() {
        use std::io::Write;
        let data: Vec<u8> = [3.0f64, 4.0].iter().flat_map(|v| v.to_le_bytes()).collect();
        let inner = npy_bytes("<f8", "1, 2", &data);
        for method in [0u16, 8] {
            let payload = if method == 0 {
                inner.clone()
            } else {
                let mut e =
                    flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
                e.write_all(&inner).unwrap();
                e.finish().unwrap()
            };
            let name = b"disp.npy";
            let mut zip = 0x0403_4b50u32.to_le_bytes().to_vec();
            zip.extend_from_slice(&[20, 0, 0, 0]);
            zip.extend_from_slice(&method.to_le_bytes());
            zip.extend_from_slice(&[0; 8]); // time, date, crc
            zip.extend_from_slice(&(payload.len() as u32).to_le_bytes());
            zip.extend_from_slice(&(inner.len() as u32).to_le_bytes());
            zip.extend_from_slice(&(name.len() as u16).to_le_bytes());
            zip.extend_from_slice(&0u16.to_le_bytes());
            zip.extend_from_slice(name);
            zip.extend_from_slice(&payload);
            let m = npz(&zip).unwrap();
            assert_eq!(m.values, vec![3.0, 4.0], "method {method}");
        }
    }

    #[test]
    fn pfm_rows_are_flipped_and_endianness_follows_the_scale() {
        // 2×2, little-endian: stored bottom row first.
        let mut bytes = b"Pf\n2 2\n-1.0\n".to_vec();
        for v in [3.0f32, 4.0, 1.0, 2.0] {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        let m = pfm(&bytes).unwrap();
        assert_eq!((m.width, m.height), (2, 2));
        assert_eq!(m.values, vec![1.0, 2.0, 3.0, 4.0]);
        let mut big = b"PF\n1 1\n1.0\n".to_vec();
        for v in [7.5f32, 0.0, 0.0] {
            big.extend_from_slice(&v.to_be_bytes());
        }
        assert_eq!(pfm(&big).unwrap().values, vec![7.5]);
        assert!(pfm(b"P6\n1 1\n255\n").unwrap_err().contains("not a PFM"));
    }

    #[test]
    fn sixteen_bit_png_in_millimetres() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("d.png");
        image::ImageBuffer::<image::Luma<u16>, Vec<u16>>::from_raw(2, 1, vec![1500, 0])
            .unwrap()
            .save(&p)
            .unwrap();
        let m = read(&p).unwrap();
        assert_eq!((m.values.clone(), m.integer), (vec![1500.0, 0.0], true));
        let p8 = dir.path().join("e.png");
        image::GrayImage::from_pixel(1, 1, image::Luma([9]))
            .save(&p8)
            .unwrap();
        assert!(read(&p8).unwrap_err().contains("16-bit"));
    }
}
