//! Writing a result file whole or not at all: the bytes go to `PATH.partial`,
//! are synced and renamed; a failure (a full disk) removes the partial file
//! and names the path and the cause.

use anyhow::{Context, Result};
use std::io::Write;
use std::path::Path;

/// Writes `bytes` to `path` atomically.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut name = path.as_os_str().to_owned();
    name.push(".partial");
    let partial = std::path::PathBuf::from(name);
    let written = (|| -> std::io::Result<()> {
        let mut f = std::fs::File::create(&partial)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&partial, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    written.with_context(|| format!("writing {}", path.display()))
}

/// The PNG encoding of `image`, for [`write_file`].
pub fn png_bytes(image: &image::RgbImage) -> Result<Vec<u8>> {
    let mut out = std::io::Cursor::new(Vec::new());
    image
        .write_to(&mut out, image::ImageFormat::Png)
        .context("encoding PNG")?;
    Ok(out.into_inner())
}
