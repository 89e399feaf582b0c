//! Photo texture libraries: scanning folders of PNG and JPEG images into a
//! [`TextureLibrary`] (sorted paths, sizes, content hashes), and decoding an
//! entry's pixels for the renderer (each image once; crops are texture
//! coordinates, [`PhotoTexture::uv_affine`]).
//!
//! A file that is not a readable image, or is empty or huge, is skipped with
//! a reason the caller prints; a folder that is missing, or holds no usable
//! image, is an error naming it.

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

use scenes::textures::{PhotoTexture, TextureEntry, TextureLibrary};

/// Largest image side a library accepts, pixels (larger files are skipped).
pub const MAX_SIDE: u32 = 16_384;
/// Longest side a photo is scaled down to when loaded for rendering, pixels.
pub const LOAD_SIDE: u32 = 512;

/// Why a library could not be built.
#[derive(Debug, thiserror::Error)]
pub enum TextureError {
    /// A named folder does not exist or cannot be listed.
    #[error("texture folder {path}: {source}")]
    Folder {
        /// The folder.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A folder holds no usable image.
    #[error("texture folder {path} holds no usable PNG or JPEG image{detail}")]
    Empty {
        /// The folder.
        path: PathBuf,
        /// What was skipped there, if anything.
        detail: String,
    },
    /// An image could not be read or decoded.
    #[error("texture {path}: {message}")]
    Image {
        /// The file.
        path: String,
        /// Why.
        message: String,
    },
}

/// A file left out of a library, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    /// The file.
    pub path: PathBuf,
    /// Why it was left out.
    pub reason: String,
}

/// Every image file under `dir` (recursively), sorted.
fn image_files(dir: &Path) -> Result<Vec<PathBuf>, TextureError> {
    crate::files::files_under(dir, |p| {
        crate::files::has_extension(p, &["png", "jpg", "jpeg"])
    })
    .map_err(|(path, source)| TextureError::Folder { path, source })
}

/// Checks one file: its header's size and its bytes' hash.
fn entry_of(path: &Path) -> Result<TextureEntry, String> {
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    let (width, height) = crate::image_file::header_size(&bytes)
        .map_err(|e| format!("is not a readable image ({e})"))?;
    if width == 0 || height == 0 {
        return Err(format!("has no pixels ({width}×{height})"));
    }
    if width > MAX_SIDE || height > MAX_SIDE {
        return Err(format!(
            "is {width}×{height} pixels, over the {MAX_SIDE}-pixel limit"
        ));
    }
    let sha256 = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok(TextureEntry {
        path: path.display().to_string(),
        sha256,
        width,
        height,
    })
}

/// Scans `folders` into one library; returns it with the files left out.
pub fn scan(folders: &[PathBuf]) -> Result<(TextureLibrary, Vec<Skipped>), TextureError> {
    let mut entries = Vec::new();
    let mut skipped = Vec::new();
    for dir in folders {
        let files = image_files(dir)?;
        let before = (entries.len(), skipped.len());
        for f in files {
            match entry_of(&f) {
                Ok(e) => entries.push(e),
                Err(reason) => skipped.push(Skipped { path: f, reason }),
            }
        }
        if entries.len() == before.0 {
            let n = skipped.len() - before.1;
            return Err(TextureError::Empty {
                path: dir.clone(),
                detail: if n > 0 {
                    format!(
                        " ({n} image files skipped, e.g. {}: {})",
                        skipped[before.1].path.display(),
                        skipped[before.1].reason
                    )
                } else {
                    String::new()
                },
            });
        }
    }
    entries.sort_by(|a, b| a.path.cmp(&b.path));
    entries.dedup_by(|a, b| a.path == b.path);
    Ok((TextureLibrary { entries }, skipped))
}

/// `image` scaled down (never up) so its longest side is at most `side`.
pub(crate) fn at_most(image: image::RgbImage, side: u32) -> image::RgbImage {
    let (w, h) = image.dimensions();
    let longest = w.max(h);
    if longest <= side {
        return image;
    }
    let scaled = |v: u32| (u64::from(v) * u64::from(side) / u64::from(longest)).max(1) as u32;
    image::imageops::resize(
        &image,
        scaled(w),
        scaled(h),
        image::imageops::FilterType::Triangle,
    )
}

/// Decodes the image `photo` names, scaled down to at most [`LOAD_SIDE`]
/// pixels a side, as RGBA8 rows; checks the file still has its indexed hash.
pub fn load_image(photo: &PhotoTexture) -> Result<image::RgbaImage, TextureError> {
    let fail = |message: String| TextureError::Image {
        path: photo.path.clone(),
        message,
    };
    let bytes = std::fs::read(&photo.path).map_err(|e| fail(e.to_string()))?;
    let sha: String = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    if sha != photo.sha256 {
        return Err(fail(format!(
            "changed since the library was indexed (sha256 {sha}, indexed {})",
            photo.sha256
        )));
    }
    let rgb = crate::image_file::decode_rgb(&bytes).map_err(fail)?;
    Ok(image::DynamicImage::ImageRgb8(at_most(rgb, LOAD_SIDE)).to_rgba8())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_png(path: &Path, w: u32, h: u32) {
        let img = image::RgbImage::from_fn(w, h, |x, y| {
            image::Rgb([(x * 10) as u8, (y * 10) as u8, 99])
        });
        img.save(path).expect("png");
    }

    #[test]
    fn scan_sorts_hashes_and_skips_and_images_load_checked() {
        let tmp = tempfile::tempdir().expect("tmp");
        let dir = tmp.path();
        std::fs::create_dir(dir.join("b")).expect("mkdir");
        write_png(&dir.join("b").join("z.png"), 16, 8);
        write_png(&dir.join("a.png"), 4, 4);
        std::fs::write(dir.join("c.png"), b"junk").expect("write");
        std::fs::write(dir.join("readme.txt"), b"not an image name").expect("write");
        let (lib, skipped) = scan(&[dir.to_path_buf(), dir.to_path_buf()]).expect("scans");
        let names: Vec<&str> = lib.entries.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(names.len(), 2, "{names:?}: sorted, each once");
        assert!(names[0].ends_with("a.png") && names[1].ends_with("z.png"));
        assert_eq!((lib.entries[1].width, lib.entries[1].height), (16, 8));
        assert_eq!(lib.entries[0].sha256.len(), 64);
        assert!(
            skipped.iter().all(|s| s.path.ends_with("c.png")),
            "{skipped:?}"
        );

        let e = &lib.entries[1];
        let mut photo = PhotoTexture {
            path: e.path.clone(),
            sha256: e.sha256.clone(),
            crop: [4, 0, 8, 8],
            scale: 1.0,
            rotation_deg: 0.0,
            offset: [0.0, 0.0],
        };
        let image = load_image(&photo).expect("loads");
        assert_eq!(image.dimensions(), (16, 8));
        assert_eq!(image.get_pixel(8, 0).0, [80, 0, 99, 255]);
        photo.sha256 = "0".repeat(64);
        let err = load_image(&photo).unwrap_err().to_string();
        assert!(err.contains("z.png") && err.contains("changed"), "{err}");
    }

    #[test]
    fn missing_or_empty_folders_are_errors_naming_them() {
        let tmp = tempfile::tempdir().expect("tmp");
        let err = scan(&[tmp.path().join("nope")]).unwrap_err().to_string();
        assert!(err.contains("nope"), "{err}");
        let err = scan(&[tmp.path().to_path_buf()]).unwrap_err().to_string();
        assert!(err.contains("no usable"), "{err}");
    }
}
