//! `synthfeat bench render --processes K`: K renderer processes at once, as K
//! `generate --num-shards K` jobs would run on one machine, and their summed
//! frames/s.
//!
//! One renderer keeps one render thread busy and leaves a GPU mostly idle
//! (its per-view CPU work in Bevy's render world is the limit), so a GPU
//! machine renders fastest with several jobs side by side.

use anyhow::{Context, Result, bail};
use std::ffi::OsString;
use std::process::{Command, Output, Stdio};

use crate::bench::{RATE_LABELS, print_rate};

/// `args` without option `name` and its value (`--name V` or `--name=V`).
fn without_option(args: &[OsString], name: &str) -> Vec<OsString> {
    let with_value = format!("{name}=");
    let mut out = Vec::with_capacity(args.len());
    let mut skip_next = false;
    for a in args {
        if skip_next {
            skip_next = false;
            continue;
        }
        let s = a.to_string_lossy();
        if s == name {
            skip_next = true;
        } else if !s.starts_with(&with_value) {
            out.push(a.clone());
        }
    }
    out
}

/// The rate on a report line starting with `label`, if it is one.
fn rate(line: &str, label: &str) -> Option<f64> {
    line.trim_start()
        .strip_prefix(label)?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Runs `processes` copies of this `bench render` command at once, copy `i`
/// on scene seed `seed + i`, and prints each one's rates and their sums.
pub fn run(processes: u32, seed: u64) -> Result<()> {
    let exe = std::env::current_exe().context("finding this program to start the processes")?;
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    let args = without_option(&without_option(&args, "--processes"), "--seed");
    println!("{processes} renderer processes at once, scene seeds {seed}..");
    let children = (0..u64::from(processes))
        .map(|i| {
            Command::new(&exe)
                .args(&args)
                .args(["--processes", "1", "--seed"])
                .arg((seed + i).to_string())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .with_context(|| format!("starting renderer process {i}"))
        })
        .collect::<Result<Vec<_>>>()?;
    // Each child's output is drained on its own thread, so none can stall on
    // a full pipe while another is waited for.
    let outputs: Vec<std::io::Result<Output>> = std::thread::scope(|scope| {
        let waits: Vec<_> = children
            .into_iter()
            .map(|child| scope.spawn(move || child.wait_with_output()))
            .collect();
        waits
            .into_iter()
            .map(|w| {
                w.join()
                    .unwrap_or_else(|_| Err(std::io::Error::other("waiting thread panicked")))
            })
            .collect()
    });
    let mut sums = [0.0f64; RATE_LABELS.len()];
    let mut seen = [0u32; RATE_LABELS.len()];
    for (i, out) in outputs.into_iter().enumerate() {
        let out = out.with_context(|| format!("waiting for renderer process {i}"))?;
        let text = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() {
            bail!(
                "renderer process {i} failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        if i == 0 {
            for line in text.lines().filter(|l| l.starts_with("adapter:")) {
                println!("{line}");
            }
        }
        let mut mine = Vec::new();
        for line in text.lines() {
            for (k, label) in RATE_LABELS.iter().enumerate() {
                if let Some(r) = rate(line, label) {
                    sums[k] += r;
                    seen[k] += 1;
                    mine.push(format!("{} {r:.2}", label.trim_end_matches(':')));
                }
            }
        }
        println!("process {i}: {}", mine.join(", "));
    }
    for (k, label) in RATE_LABELS.iter().enumerate() {
        if seen[k] > 0 {
            print_rate(
                label,
                sums[k],
                &format!(" summed over {} processes", seen[k]),
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(v: &[&str]) -> Vec<OsString> {
        v.iter().map(OsString::from).collect()
    }

    #[test]
    fn options_are_removed_in_both_spellings() {
        let args = os(&[
            "bench",
            "render",
            "--processes",
            "8",
            "--size=128",
            "--seed=3",
        ]);
        let args = without_option(&without_option(&args, "--processes"), "--seed");
        assert_eq!(args, os(&["bench", "render", "--size=128"]));
    }

    #[test]
    fn rates_are_read_from_their_own_lines() {
        let line = "rgb + labels:            243.04 frames/s";
        assert_eq!(rate(line, "rgb + labels:"), Some(243.04));
        assert_eq!(rate(line, "rgb only:"), None);
        assert_eq!(
            rate("rgb + labels + shards:  43.0 frames/s", "rgb + labels:"),
            None
        );
    }
}
