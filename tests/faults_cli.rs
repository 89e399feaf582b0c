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

#[test]
fn a_full_disk_stops_train_with_the_path_and_its_cause_and_leaves_no_partial_checkpoint() {
    let _guard = RENDER.lock().unwrap_or_else(|p| p.into_inner());
    let tmp = tempfile::tempdir().expect("tmp");
    let mnt = tmp.path().join("small");
    std::fs::create_dir(&mnt).expect("mkdir");
    if !mount_tmpfs(&mnt, "150k") {
        eprintln!("skipped: cannot mount a tmpfs here (needs root)");
        return;
    }
    let _mounted = Mounted(&mnt);
    let data = tmp.path().join("data");
    let d = data.to_str().expect("utf8");
    let o = synthfeat(&[
        "generate",
        "--out",
        d,
        "--count",
        "16",
        "--size",
        "64",
        "--shard-size",
        "16",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let run = mnt.join("run");
    let start = Instant::now();
    let o = synthfeat(&[
        "train",
        "--data",
        d,
        "--out",
        run.to_str().expect("utf8"),
        "--steps",
        "40",
        "--tasks",
        "depth,normal",
        "--val-every",
        "20",
        "--checkpoint-every",
        "20",
    ]);
    assert!(!o.status.success(), "a full disk must fail the run");
    assert!(
        start.elapsed() < Duration::from_secs(120),
        "took {:?}",
        start.elapsed()
    );
    let err = stderr(&o);
    assert!(err.contains("No space left"), "the cause is named: {err}");
    assert!(
        err.contains(&run.display().to_string()),
        "the path is named: {err}"
    );
    let checkpoints = run.join("checkpoints");
    let left: Vec<String> = std::fs::read_dir(&checkpoints)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().to_string())
                .collect()
        })
        .unwrap_or_default();
    assert!(
        left.iter()
            .all(|n| !n.contains("partial") && !n.contains("probe")),
        "{left:?}"
    );
}

/// Every training step's loss of run `dir`, as `metrics.jsonl` records them.
fn losses(dir: &Path) -> Vec<(u64, String)> {
    metrics(dir)
        .iter()
        .filter(|l| l["split"] == "train")
        .map(|l| (l["step"].as_u64().unwrap_or(0), l["loss"].to_string()))
        .collect()
}

#[test]
fn sigterm_mid_train_checkpoints_and_resume_matches_an_uninterrupted_run() {
    let tmp = tempfile::tempdir().expect("tmp");
    let data = tmp.path().join("data");
    let d = data.to_str().expect("utf8");
    {
        let _guard = RENDER.lock().unwrap_or_else(|p| p.into_inner());
        let o = synthfeat(&[
            "generate",
            "--out",
            d,
            "--count",
            "16",
            "--size",
            "48",
            "--shard-size",
            "16",
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let args = |out: &Path, steps: &str| -> Vec<String> {
        [
            "train",
            "--data",
            d,
            "--size",
            "32",
            "--batch",
            "2",
            "--width",
            "4",
            "--tasks",
            "depth,normal",
            "--val-every",
            "1000",
            "--checkpoint-every",
            "1000",
            "--steps",
            steps,
            "--out",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain([out.display().to_string()])
        .collect()
    };
    let whole = tmp.path().join("whole");
    let o = Command::new(env!("CARGO_BIN_EXE_synthfeat"))
        .args(args(&whole, "1200"))
        .output()
        .expect("runs");
    assert!(o.status.success(), "{}", stderr(&o));
    let want = losses(&whole);
    assert_eq!(want.len(), 1200);

    // Killed at random times (seeded), resumed each time until done.
    let cut = tmp.path().join("cut");
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut stops = 0;
    for _ in 0..10 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let wait = Duration::from_millis(1000 + state % 2000);
        let mut a = args(&cut, "1200");
        if cut.join("checkpoint.json").is_file() {
            a.push("--resume".into());
        }
        let mut child = Command::new(env!("CARGO_BIN_EXE_synthfeat"))
            .args(&a)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starts");
        std::thread::sleep(wait);
        // SIGTERM, as Slurm and Kubernetes send.
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let status = child.wait().expect("waits");
        let mut err = String::new();
        if let Some(mut e) = child.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut e, &mut err);
        }
        if status.success() {
            break; // It finished before the signal.
        }
        assert_eq!(status.code(), Some(143), "{err}");
        assert!(err.contains("SIGTERM") && err.contains("--resume"), "{err}");
        stops += 1;
    }
    let mut a = args(&cut, "1200");
    if cut.join("checkpoint.json").is_file() {
        a.push("--resume".into());
    }
    let o = Command::new(env!("CARGO_BIN_EXE_synthfeat"))
        .args(&a)
        .output()
        .expect("runs");
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stops >= 1, "no run was stopped");
    let got = losses(&cut);
    assert_eq!(
        got.len(),
        want.len(),
        "every step once, after {stops} stops"
    );
    let first_difference = got.iter().zip(&want).position(|(a, b)| a != b);
    assert_eq!(
        first_difference, None,
        "resumed after {stops} stops: the same losses"
    );
}

#[test]
fn sigterm_mid_generate_drops_the_partial_shard_and_the_rerun_matches() {
    let _guard = RENDER.lock().unwrap_or_else(|p| p.into_inner());
    let tmp = tempfile::tempdir().expect("tmp");
    let args = |out: &Path| -> Vec<String> {
        [
            "generate",
            "--count",
            "160",
            "--size",
            "48",
            "--shard-size",
            "8",
            "--seed",
            "4",
            "--out",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain([out.display().to_string()])
        .collect()
    };
    let cut = tmp.path().join("cut");
    let mut child = Command::new(env!("CARGO_BIN_EXE_synthfeat"))
        .args(args(&cut))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts");
    // Once the first shard is complete, send SIGTERM.
    let start = Instant::now();
    while !cut.join("shard-000000.tar").is_file() && start.elapsed() < Duration::from_secs(120) {
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(300));
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let status = child.wait().expect("waits");
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut e, &mut err);
    }
    assert_eq!(status.code(), Some(143), "{err}");
    assert!(err.contains("SIGTERM"), "{err}");
    let names: Vec<String> = std::fs::read_dir(&cut)
        .expect("out")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect();
    assert!(names.iter().all(|n| !n.ends_with(".tmp")), "{names:?}");
    assert!(
        names.iter().filter(|n| n.ends_with(".tar")).count() < 20,
        "{names:?}"
    );
    let o = Command::new(env!("CARGO_BIN_EXE_synthfeat"))
        .args(args(&cut))
        .output()
        .expect("runs");
    assert!(o.status.success(), "{}", stderr(&o));
    let whole = tmp.path().join("whole");
    let o = Command::new(env!("CARGO_BIN_EXE_synthfeat"))
        .args(args(&whole))
        .output()
        .expect("runs");
    assert!(o.status.success(), "{}", stderr(&o));
    let names = |d: &Path| -> Vec<String> { shard_files(d).into_iter().map(|(n, _)| n).collect() };
    assert_eq!(names(&cut), names(&whole));
    // Labels are identical. RGB may differ in a few pixels: the order in
    // which the renderer first meets meshes (and so draws shadow casters)
    // depends on where a run starts, and equal depths in a shadow map can
    // resolve either way (measured: 2 pixels of 2,304, by up to 10 levels).
    let read = |d: &Path| -> Vec<engine::Sample> {
        engine::dataset::DatasetReader::open(d)
            .expect("opens")
            .samples(engine::dataset::OnError::Stop, 2)
            .map(|s| s.expect("decodes"))
            .collect()
    };
    let (a, b) = (read(&cut), read(&whole));
    assert_eq!(a.len(), 160);
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.meta, y.meta);
        assert!(
            x.instance == y.instance && x.depth_m == y.depth_m,
            "{}",
            x.meta.key
        );
        assert!(
            x.normal_camera == y.normal_camera && x.contour == y.contour,
            "{}",
            x.meta.key
        );
        let differ = x
            .rgb
            .chunks(3)
            .zip(y.rgb.chunks(3))
            .filter(|(p, q)| p != q)
            .count();
        assert!(
            differ * 100 <= x.pixels(),
            "{}: {differ} RGB pixels differ",
            x.meta.key
        );
    }
}

#[test]
fn a_full_disk_fails_preview_stats_and_export_naming_the_file_and_leaves_nothing_half_written() {
    let _guard = RENDER.lock().unwrap_or_else(|p| p.into_inner());
    let tmp = tempfile::tempdir().expect("tmp");
    let mnt = tmp.path().join("small");
    std::fs::create_dir(&mnt).expect("mkdir");
    if !mount_tmpfs(&mnt, "16k") {
        eprintln!("skipped: cannot mount a tmpfs here (needs root)");
        return;
    }
    let _mounted = Mounted(&mnt);
    let data = tmp.path().join("data");
    let d = data.to_str().expect("utf8");
    let o = synthfeat(&[
        "generate",
        "--out",
        d,
        "--count",
        "8",
        "--size",
        "64",
        "--shard-size",
        "8",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let run = tmp.path().join("run");
    let r = run.to_str().expect("utf8");
    let o = synthfeat(&[
        "train", "--data", d, "--out", r, "--steps", "2", "--size", "32", "--width", "8",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    // Fill the disk to the last byte.
    {
        use std::io::Write;
        let mut filler = std::fs::File::create(mnt.join("filler")).expect("filler");
        while filler.write_all(&[0u8; 4096]).is_ok() {}
        while filler.write_all(&[0u8]).is_ok() {}
    }
    let at = |name: &str| mnt.join(name).display().to_string();
    let (sheet, json, weights) = (at("sheet.png"), at("stats.json"), at("encoder.safetensors"));
    for (args, file) in [
        (
            vec!["preview", "--data", d, "--count", "8", "--out", &sheet],
            &sheet,
        ),
        (vec!["stats", "--data", d, "--json", &json], &json),
        (vec!["export", "--run", r, "--out", &weights], &weights),
    ] {
        let o = synthfeat(&args);
        assert!(!o.status.success(), "{args:?} must fail on a full disk");
        let err = stderr(&o);
        assert!(
            err.contains(file.as_str()) && err.contains("No space left"),
            "{args:?}: {err}"
        );
    }
    let left: Vec<String> = std::fs::read_dir(&mnt)
        .expect("mnt")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect();
    assert_eq!(left, ["filler"], "nothing half-written stays");
}

#[test]
fn sigterm_mid_compare_keeps_the_entry_checkpoint_and_the_rerun_finishes() {
    let tmp = tempfile::tempdir().expect("tmp");
    let data = tmp.path().join("data");
    {
        let _guard = RENDER.lock().unwrap_or_else(|p| p.into_inner());
        let o = synthfeat(&[
            "generate",
            "--out",
            data.to_str().expect("utf8"),
            "--count",
            "8",
            "--size",
            "48",
            "--shard-size",
            "8",
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let colours = tmp.path().join("colours");
    for (class, base) in [("warm", [220u8, 60, 30]), ("cool", [30, 60, 220])] {
        std::fs::create_dir_all(colours.join(class)).expect("mkdir");
        for i in 0..4u32 {
            image::RgbImage::from_fn(16, 16, |x, y| {
                image::Rgb(base.map(|c| c.saturating_add(((x * 7 + y * 3 + i * 11) % 30) as u8)))
            })
            .save(colours.join(class).join(format!("{i}.png")))
            .expect("png");
        }
    }
    let config = tmp.path().join("compare.toml");
    std::fs::write(
        &config,
        format!(
            "steps = 100000\nseed = 0\ndata = {:?}\ntrain_args = [\"--size\", \"32\", \"--batch\", \"2\", \
             \"--width\", \"4\", \"--val-percent\", \"50\", \"--val-every\", \"100000\", \
             \"--checkpoint-every\", \"100000\"]\n[[probe]]\nname = \"colours\"\npath = {:?}\n\
             layers = [\"conv5\"]\n[[entry]]\nname = \"depth\"\ntasks = [\"depth\"]\n",
            data.to_str().expect("utf8"),
            colours.to_str().expect("utf8")
        ),
    )
    .expect("write");
    let report = tmp.path().join("report");
    let mut child = Command::new(env!("CARGO_BIN_EXE_synthfeat"))
        .args(["compare", "--config"])
        .arg(&config)
        .arg("--out")
        .arg(&report)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts");
    std::thread::sleep(Duration::from_secs(3));
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let status = child.wait().expect("waits");
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut e, &mut err);
    }
    assert_eq!(status.code(), Some(143), "{err}");
    assert!(
        err.contains("SIGTERM") && err.contains("run the same compare command again"),
        "{err}"
    );
    let run = report.join("runs/depth/seed-0");
    assert!(run.join("checkpoint.json").is_file(), "{err}");
    assert!(!report.join("table.md").exists());
    // The rerun resumes the entry from its checkpoint, with fewer steps to go.
    let step: u64 = std::fs::read_to_string(run.join("checkpoint.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|v| v["step"].as_u64())
        .expect("checkpoint step");
    assert!(step >= 1);
    let text = std::fs::read_to_string(&config).expect("read");
    std::fs::write(
        &config,
        text.replace("steps = 100000", &format!("steps = {}", step + 5)),
    )
    .expect("write");
    let o = Command::new(env!("CARGO_BIN_EXE_synthfeat"))
        .args(["compare", "--config"])
        .arg(&config)
        .arg("--out")
        .arg(&report)
        .output()
        .expect("runs");
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(report.join("table.md").is_file());
}
