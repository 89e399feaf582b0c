//! Helpers shared by the test files that run the binary.
#![allow(dead_code)]

pub mod scene;

use std::path::Path;
use std::process::{Command, Output};
use std::sync::Mutex;

/// Rendering runs one at a time (they share two cores).
pub static RENDER: Mutex<()> = Mutex::new(());

/// Runs the binary with `args`.
pub fn synthfeat(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_synthfeat"))
        .args(args)
        .output()
        .expect("runs")
}

/// Its standard error as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

/// Asserts the command fails with an error that contains `needle`.
pub fn fails_naming(args: &[&str], needle: &str) {
    let o = synthfeat(args);
    assert!(!o.status.success(), "{args:?} should fail");
    let e = stderr(&o);
    assert!(
        e.contains(needle),
        "{args:?}: error should name `{needle}`: {e}"
    );
}

/// Every file directly in `dir`, by name, with its bytes.
pub fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .expect("dir")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_file())
        .map(|e| {
            (
                e.file_name().to_string_lossy().to_string(),
                std::fs::read(e.path()).expect("read"),
            )
        })
        .collect();
    out.sort();
    out
}

/// Every line of a run's `metrics.jsonl`.
pub fn metrics(run: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(run.join("metrics.jsonl"))
        .expect("metrics")
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect()
}

/// A JSON file the binary wrote.
pub fn read_json(path: &Path) -> serde_json::Value {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Asserts that every key of a `metrics.jsonl` line is a finite number.
pub fn assert_finite(line: &serde_json::Value, keys: &[&str]) {
    for key in keys {
        let v = line[key].as_f64().unwrap_or(f64::NAN);
        assert!(v.is_finite(), "{key}: {line}");
    }
}

/// The shard files of a dataset folder, by name, with their bytes.
pub fn shard_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    files(dir)
        .into_iter()
        .filter(|(n, _)| n.starts_with("shard-"))
        .collect()
}
