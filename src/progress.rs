//! The commands' progress bars.

use indicatif::{ProgressBar, ProgressStyle};

/// A bar of `len` positions drawn with indicatif's `template` (the default
/// style if the template does not parse).
pub fn bar(len: u64, template: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}
