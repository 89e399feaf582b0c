//! Image files from outside: PNG or JPEG bytes (told apart by their
//! signature, not their name) decoded to RGB, and their size read from the
//! header alone. Shared by photo texture libraries and the trainer's real
//! image sources.

use image::RgbImage;

/// Decodes PNG or JPEG bytes (grey or colour) to 8-bit RGB.
pub fn decode_rgb(bytes: &[u8]) -> Result<RgbImage, String> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        image::load_from_memory_with_format(bytes, image::ImageFormat::Png)
            .map(|i| i.to_rgb8())
            .map_err(|e| format!("PNG: {e}"))
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        decode_jpeg(bytes)
    } else {
        Err("neither PNG nor JPEG (unknown signature)".into())
    }
}

fn decode_jpeg(bytes: &[u8]) -> Result<RgbImage, String> {
    use zune_jpeg::zune_core::{
        bytestream::ZCursor, colorspace::ColorSpace, options::DecoderOptions,
    };
    let options = DecoderOptions::default().jpeg_set_out_colorspace(ColorSpace::RGB);
    let mut decoder = zune_jpeg::JpegDecoder::new_with_options(ZCursor::new(bytes), options);
    let pixels = decoder.decode().map_err(|e| format!("JPEG: {e:?}"))?;
    let info = decoder.info().ok_or("JPEG: no image header")?;
    let (w, h) = (u32::from(info.width), u32::from(info.height));
    RgbImage::from_raw(w, h, pixels)
        .ok_or_else(|| format!("JPEG: {w}x{h} image decoded to a buffer of the wrong size"))
}

/// Width and height of PNG or JPEG bytes from their header, without decoding pixels.
pub fn header_size(bytes: &[u8]) -> Result<(u32, u32), String> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        let reader =
            image::ImageReader::with_format(std::io::Cursor::new(bytes), image::ImageFormat::Png);
        reader.into_dimensions().map_err(|e| format!("PNG: {e}"))
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        let mut decoder =
            zune_jpeg::JpegDecoder::new(zune_jpeg::zune_core::bytestream::ZCursor::new(bytes));
        decoder
            .decode_headers()
            .map_err(|e| format!("JPEG: {e:?}"))?;
        let info = decoder.info().ok_or("JPEG: no image header")?;
        Ok((u32::from(info.width), u32::from(info.height)))
    } else {
        Err("neither PNG nor JPEG (unknown signature)".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32) -> Vec<u8> {
        let img = RgbImage::from_fn(w, h, |x, y| image::Rgb([x as u8, y as u8, 7]));
        let mut out = Vec::new();
        img.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
            .expect("encodes");
        out
    }

    #[test]
    fn png_round_trips_and_its_header_gives_the_size() {
        let bytes = png(5, 3);
        assert_eq!(header_size(&bytes), Ok((5, 3)));
        let back = decode_rgb(&bytes).expect("decodes");
        assert_eq!(back.get_pixel(4, 2).0, [4, 2, 7]);
    }

    #[test]
    fn unknown_or_damaged_bytes_are_an_error() {
        assert!(
            decode_rgb(b"GIF89a....")
                .unwrap_err()
                .contains("neither PNG nor JPEG")
        );
        assert!(
            header_size(b"GIF89a")
                .unwrap_err()
                .contains("neither PNG nor JPEG")
        );
        assert!(
            decode_rgb(b"\x89PNG\r\n\x1a\ngarbage")
                .unwrap_err()
                .starts_with("PNG")
        );
        assert!(
            decode_rgb(&[0xFF, 0xD8, 0xFF, 0, 1, 2])
                .unwrap_err()
                .starts_with("JPEG")
        );
        assert!(
            header_size(&[0xFF, 0xD8, 0xFF, 0, 1, 2])
                .unwrap_err()
                .starts_with("JPEG")
        );
    }
}
