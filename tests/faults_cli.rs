//! Faults a long job meets: a disk that fills up while `generate` writes.
//! The test mounts a small tmpfs, so it runs where the tests run as root
//! and mounting is allowed (it says so and passes elsewhere).

mod common;

use common::*;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Mounts a tmpfs of `size` at `dir`; false where that is not allowed.
fn mount_tmpfs(dir: &Path, size: &str) -> bool {
    Command::new("mount")
        .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
        .arg(dir)
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Unmounts `dir` when dropped, whatever the test's outcome.
struct Mounted<'a>(&'a Path);

impl Drop for Mounted<'_> {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.0).status();
    }
}

/// Runs `generate` into `out`; its exit status and stderr, or a failure after `limit`.
fn generate_within(out: &Path, limit: Duration) -> (bool, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_synthfeat"))
        .args(["generate", "--count", "96", "--size", "64", "--views", "4"])
        .args(["--shard-size", "8", "--seed", "2", "--out"])
        .arg(out)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts");
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("waits") {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                let _ = std::io::Read::read_to_string(&mut e, &mut err);
            }
            return (status.success(), err);
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("generate still running after {limit:?} on a full disk: it hangs");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_full_disk_stops_generate_with_the_path_keeps_complete_shards_and_resumes() {
    let _guard = RENDER.lock().unwrap_or_else(|p| p.into_inner());
    let tmp = tempfile::tempdir().expect("tmp");
    let mnt = tmp.path().join("small");
    std::fs::create_dir(&mnt).expect("mkdir");
    if !mount_tmpfs(&mnt, "400k") {
        eprintln!("skipped: cannot mount a tmpfs here (needs root)");
        return;
    }
    let _mounted = Mounted(&mnt);
    let out = mnt.join("out");
    let (ok, err) = generate_within(&out, Duration::from_secs(90));
    assert!(!ok, "a full disk must fail the run");
    assert!(err.contains("No space left"), "{err}");
    assert!(
        err.contains(&out.display().to_string()),
        "names the path: {err}"
    );
    let names: Vec<String> = std::fs::read_dir(&out)
        .expect("out")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect();
    assert!(
        names.iter().all(|n| !n.ends_with(".tmp")),
        "no partial shard left: {names:?}"
    );
    let complete = names.iter().filter(|n| n.ends_with(".tar")).count();
    assert!((1..12).contains(&complete), "{names:?}");
    // What was complete reads back whole.
    let reader = engine::dataset::DatasetReader::open(&out).expect("opens");
    let mut n = 0;
    for s in reader.samples(engine::dataset::OnError::Stop, 2) {
        s.expect("a complete shard decodes");
        n += 1;
    }
    assert_eq!(n, 8 * complete);

    // With space again, the rerun resumes and finishes.
    let grown = Command::new("mount")
        .args(["-o", "remount,size=64m"])
        .arg(&mnt)
        .status()
        .is_ok_and(|s| s.success());
    assert!(grown, "remount");
    let (ok, err) = generate_within(&out, Duration::from_secs(300));
    assert!(ok, "{err}");
    let o = synthfeat(&["stats", "--data", out.to_str().expect("utf8")]);
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("96 frames"),
        "{}",
        stderr(&o)
    );
}
