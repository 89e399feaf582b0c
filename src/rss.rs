//! Peak memory of this process, for benchmark reports.

/// Peak resident set size in MiB (Linux `VmHWM` from `/proc/self/status`), if known.
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// `peak RSS N MiB`, or an empty string where it cannot be read.
pub fn peak_rss_text() -> String {
    peak_rss_mib().map_or_else(String::new, |m| format!("peak RSS {m:.0} MiB"))
}
