//! Sample ⇄ member files (PNG images and JSON metadata).

use image::codecs::png::{CompressionType, FilterType, PngDecoder, PngEncoder};
use image::{ColorType, ImageDecoder, ImageEncoder};

use crate::sample::{Sample, SampleMeta, depth_from_mm, depth_to_mm, normal_from_u8, normal_to_u8};

/// Member suffixes of one sample, in the order they are written.
pub const MEMBER_SUFFIXES: [&str; 6] = [
    "rgb.png",
    "depth.png",
    "normal.png",
    "instance.png",
    "contour.png",
    "json",
];

/// A sample encoded as its member files: `(name, bytes)` in [`MEMBER_SUFFIXES`] order.
#[derive(Clone, Debug)]
pub struct EncodedSample {
    /// Its key.
    pub key: String,
    /// `KEY.suffix` names and file contents.
    pub members: Vec<(String, Vec<u8>)>,
}

fn png(width: u32, height: u32, color: ColorType, bytes: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    PngEncoder::new_with_quality(&mut out, CompressionType::Fast, FilterType::Adaptive)
        .write_image(bytes, width, height, color.into())
        .map_err(|e| e.to_string())?;
    Ok(out)
}

fn ne16(values: impl Iterator<Item = u16>) -> Vec<u8> {
    // The PNG encoder takes 16-bit samples in native byte order.
    values.flat_map(|v| v.to_ne_bytes()).collect()
}

/// Encodes a sample into its member files (depth to millimetres, normals to 8 bits).
pub fn encode_sample(s: &Sample) -> Result<EncodedSample, String> {
    s.check_shape()?;
    let (w, h) = (s.meta.width, s.meta.height);
    let key = &s.meta.key;
    let normal: Vec<u8> = s.normal_camera.iter().map(|&n| normal_to_u8(n)).collect();
    let files = [
        png(w, h, ColorType::Rgb8, &s.rgb)?,
        png(
            w,
            h,
            ColorType::L16,
            &ne16(s.depth_m.iter().map(|&d| depth_to_mm(d))),
        )?,
        png(w, h, ColorType::Rgb8, &normal)?,
        png(w, h, ColorType::L16, &ne16(s.instance.iter().copied()))?,
        png(w, h, ColorType::L8, &s.contour)?,
        serde_json::to_vec_pretty(&s.meta).map_err(|e| e.to_string())?,
    ];
    Ok(EncodedSample {
        key: key.clone(),
        members: MEMBER_SUFFIXES
            .iter()
            .zip(files)
            .map(|(suffix, bytes)| (format!("{key}.{suffix}"), bytes))
            .collect(),
    })
}

/// A decoded PNG: size, colour type and raw bytes (16-bit samples in native order).
fn unpng(bytes: &[u8], want: ColorType, w: u32, h: u32) -> Result<Vec<u8>, String> {
    let dec = PngDecoder::new(std::io::Cursor::new(bytes)).map_err(|e| e.to_string())?;
    let (dw, dh) = dec.dimensions();
    if (dw, dh) != (w, h) {
        return Err(format!("is {dw}x{dh}, metadata says {w}x{h}"));
    }
    if dec.color_type() != want {
        return Err(format!(
            "has colour type {:?}, expected {want:?}",
            dec.color_type()
        ));
    }
    let mut buf = vec![0u8; dec.total_bytes() as usize];
    dec.read_image(&mut buf).map_err(|e| e.to_string())?;
    Ok(buf)
}

fn u16s(bytes: &[u8]) -> Vec<u16> {
    bytes
        .chunks_exact(2)
        .map(|c| u16::from_ne_bytes([c[0], c[1]]))
        .collect()
}

/// Decodes one sample from its members, looked up by suffix.
///
/// On failure returns the failing member's name and the reason.
pub fn decode_sample(
    key: &str,
    mut member: impl FnMut(&str) -> Option<Vec<u8>>,
) -> Result<Sample, (String, String)> {
    let mut get = |suffix: &str| {
        let name = format!("{key}.{suffix}");
        member(suffix).ok_or_else(|| (name, "missing from the sample".to_string()))
    };
    let fail = |suffix: &str| {
        let name = format!("{key}.{suffix}");
        move |e: String| (name, e)
    };
    let meta: SampleMeta =
        serde_json::from_slice(&get("json")?).map_err(|e| fail("json")(e.to_string()))?;
    if meta.key != key {
        return Err(fail("json")(format!("holds key {}", meta.key)));
    }
    let (w, h) = (meta.width, meta.height);
    let rgb = unpng(&get("rgb.png")?, ColorType::Rgb8, w, h).map_err(fail("rgb.png"))?;
    let depth_m =
        u16s(&unpng(&get("depth.png")?, ColorType::L16, w, h).map_err(fail("depth.png"))?)
            .into_iter()
            .map(depth_from_mm)
            .collect();
    let normal_camera = unpng(&get("normal.png")?, ColorType::Rgb8, w, h)
        .map_err(fail("normal.png"))?
        .into_iter()
        .map(normal_from_u8)
        .collect();
    let instance =
        u16s(&unpng(&get("instance.png")?, ColorType::L16, w, h).map_err(fail("instance.png"))?);
    let contour = unpng(&get("contour.png")?, ColorType::L8, w, h).map_err(fail("contour.png"))?;
    Ok(Sample {
        meta,
        rgb,
        depth_m,
        normal_camera,
        instance,
        contour,
    })
}
