//! Listing the files of a folder tree, as the texture and asset libraries
//! scan them.

use std::path::{Path, PathBuf};

/// Every file under `dir` (recursively) whose path `accept` takes, sorted.
/// An error names the folder that could not be listed (`dir` itself when it
/// is missing or not a folder).
pub(crate) fn files_under(
    dir: &Path,
    accept: impl Fn(&Path) -> bool,
) -> Result<Vec<PathBuf>, (PathBuf, std::io::Error)> {
    let meta = std::fs::metadata(dir).map_err(|e| (dir.to_path_buf(), e))?;
    if !meta.is_dir() {
        return Err((
            dir.to_path_buf(),
            std::io::Error::new(std::io::ErrorKind::NotADirectory, "not a folder"),
        ));
    }
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = std::fs::read_dir(&d).map_err(|e| (d.clone(), e))?;
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if accept(&p) {
                out.push(p);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Whether `p`'s extension is one of `extensions` (lower case), in any case.
pub(crate) fn has_extension(p: &Path, extensions: &[&str]) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| extensions.contains(&e.to_ascii_lowercase().as_str()))
}
