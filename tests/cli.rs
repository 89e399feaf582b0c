//! The binary as a user runs it: generation, resume, preview, and bad input.

mod common;

use common::*;
use std::path::{Path, PathBuf};

#[test]
fn bad_input_is_a_clear_error_and_writes_nothing() {
    let tmp = tempfile::tempdir().expect("tmp");
    let out = tmp.path().join("out");
    let o = out.to_str().expect("utf8");
    fails_naming(&["generate", "--out", o, "--size", "0"], "--size");
    fails_naming(&["generate", "--out", o, "--count", "0"], "--count");
    fails_naming(&["generate", "--out", o, "--views", "0"], "--views");
    fails_naming(
        &[
            "generate",
            "--out",
            o,
            "--shard-index",
            "2",
            "--num-shards",
            "2",
        ],
        "--shard-index",
    );
    let write = |name: &str, text: &str| -> PathBuf {
        let p = tmp.path().join(name);
        std::fs::write(&p, text).expect("write");
        p
    };
    // A generation config with one bad value fails naming it.
    for (name, text, needle) in [
        (
            "passes.toml",
            "[render]\nviews_per_pass = 65\n",
            "render.views_per_pass",
        ),
        ("profile.toml", "[render]\nprofile = \"quick\"\n", "profile"),
        ("unknown.toml", "[camera]\nfovv = [40.0, 60.0]\n", "fovv"),
        (
            "fov.toml",
            "[camera]\nvfov_deg = [60.0, 180.0]\n",
            "camera.vfov_deg",
        ),
        ("neg.toml", "[room]\nwidth = [-4.0, 5.0]\n", "room.width"),
    ] {
        let config = write(name, text);
        let config = config.to_str().expect("utf8");
        fails_naming(&["generate", "--out", o, "--config", config], needle);
    }
    fails_naming(
        &["bench", "render", "--frames", "1", "--views-per-pass", "0"],
        "render.views_per_pass",
    );
    fails_naming(
        &["bench", "render", "--frames", "1", "--processes", "0"],
        "--processes",
    );
    assert!(!out.exists(), "nothing is written on bad input");
    let file = write("a-file", "precious");
    fails_naming(
        &[
            "generate",
            "--out",
            file.to_str().expect("utf8"),
            "--count",
            "1",
        ],
        "a-file",
    );
    assert_eq!(std::fs::read_to_string(&file).expect("read"), "precious");
    fails_naming(
        &[
            "generate",
            "--out",
            "/proc/synthfeat-cannot-write",
            "--count",
            "1",
        ],
        "/proc/synthfeat-cannot-write",
    );
    fails_naming(
        &[
            "preview",
            "--data",
            tmp.path().join("missing").to_str().expect("utf8"),
            "--out",
            "x.png",
        ],
        "missing",
    );
}

#[test]
fn bench_render_sums_the_rates_of_its_processes() {
    let o = synthfeat(&[
        "bench",
        "render",
        "--size",
        "32",
        "--frames",
        "8",
        "--warmup",
        "4",
        "--views",
        "4",
        "--mode",
        "labels",
        "--processes",
        "2",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    let rate = |prefix: &str| -> Vec<f64> {
        text.lines()
            .filter_map(|l| l.strip_prefix(prefix))
            .filter_map(|l| l.split([' ', ',']).find(|w| !w.is_empty())?.parse().ok())
            .collect()
    };
    let each: Vec<f64> = ["process 0: rgb + labels ", "process 1: rgb + labels "]
        .iter()
        .flat_map(|p| rate(p))
        .collect();
    assert_eq!(each.len(), 2, "{text}");
    assert!(text.contains("summed over 2 processes"), "{text}");
    let sum = rate("rgb + labels:");
    assert_eq!(sum.len(), 1, "{text}");
    assert!(each.iter().all(|&r| r > 0.0));
    assert!((sum[0] - each.iter().sum::<f64>()).abs() < 0.02, "{text}");
}

#[test]
fn default_config_prints_and_parses_back() {
    let o = synthfeat(&["generate", "--print-default-config"]);
    assert!(o.status.success());
    let text = String::from_utf8(o.stdout).expect("utf8");
    assert!(text.contains("[camera]") && text.contains("vfov_deg"));
    let parsed = scenes::Config::from_toml_str(&text, "printed").expect("parses");
    assert_eq!(parsed, scenes::Config::default());
}

#[test]
fn missing_gpu_adapter_names_the_package() {
    let tmp = tempfile::tempdir().expect("tmp");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_synthfeat"))
        .args([
            "generate",
            "--out",
            tmp.path().join("d").to_str().expect("utf8"),
            "--count",
            "1",
        ])
        .env("WGPU_ADAPTER_NAME", "no-such-adapter-anywhere")
        .output()
        .expect("runs");
    assert!(!o.status.success());
    assert!(stderr(&o).contains("mesa-vulkan-drivers"), "{}", stderr(&o));
}

#[test]
fn interrupted_generation_resumes_to_identical_shards() {
    let _guard = RENDER.lock().unwrap_or_else(|p| p.into_inner());
    let tmp = tempfile::tempdir().expect("tmp");
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    let common = [
        "--count",
        "7",
        "--size",
        "48",
        "--views",
        "2",
        "--shard-size",
        "3",
        "--seed",
        "11",
    ];
    let run = |out: &Path, extra: &[&str]| {
        let mut args = vec!["generate", "--out", out.to_str().expect("utf8")];
        args.extend_from_slice(&common);
        args.extend_from_slice(extra);
        synthfeat(&args)
    };
    let o = run(&a, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let complete = shard_files(&a);
    assert_eq!(complete.len(), 3, "7 samples in shards of 3");

    // Killed in the middle of the second shard: one complete shard and a temporary file.
    let o = run(&b, &["--abort-after", "4"]);
    assert!(!o.status.success());
    let names: Vec<String> = shard_files(&b).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, vec!["shard-000000.tar", "shard-000001.tar.tmp"]);
    let o = run(&b, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("1 shards were already complete"));
    assert_eq!(
        shard_files(&b),
        complete,
        "resumed shards equal an uninterrupted run's, byte for byte"
    );

    // Running it again changes nothing; another seed into the same folder is refused.
    let before = files(&b);
    let o = run(&b, &[]);
    assert!(o.status.success());
    assert_eq!(shard_files(&b), complete);
    let o = synthfeat(&[
        "generate",
        "--out",
        b.to_str().expect("utf8"),
        "--count",
        "7",
        "--size",
        "48",
        "--views",
        "2",
        "--shard-size",
        "3",
        "--seed",
        "12",
    ]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("seed"), "{}", stderr(&o));
    assert_eq!(
        shard_files(&b),
        before
            .into_iter()
            .filter(|(n, _)| n.starts_with("shard-"))
            .collect::<Vec<_>>()
    );

    // The manifest's sha256 values match, and a preview sheet has one row per sample.
    let reader = engine::dataset::DatasetReader::open(&a).expect("open");
    assert!(reader.verify().is_empty());
    assert_eq!(reader.expected_samples(), Some(7));
    let sheet = tmp.path().join("sheet.png");
    let o = synthfeat(&[
        "preview",
        "--data",
        a.to_str().expect("utf8"),
        "--out",
        sheet.to_str().expect("utf8"),
        "--count",
        "3",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let img = image::open(&sheet).expect("png");
    assert_eq!(
        (img.width(), img.height()),
        (5 * 48 + 4 * 2, 3 * 48 + 2 * 2)
    );
}

#[test]
fn train_rejects_bad_input_naming_it() {
    let tmp = tempfile::tempdir().expect("tmp");
    let out = tmp.path().join("run");
    let o = out.to_str().expect("utf8");
    let missing = tmp.path().join("no-data");
    let m = missing.to_str().expect("utf8");
    fails_naming(
        &["train", "--out", o, "--data", m, "--batch", "0"],
        "--batch",
    );
    fails_naming(
        &["train", "--out", o, "--data", m, "--size", "40"],
        "--size",
    );
    fails_naming(
        &["train", "--out", o, "--data", m, "--tasks", "depth,depht"],
        "depht",
    );
    fails_naming(&["train", "--out", o, "--data", m], "no-data");
    fails_naming(
        &["train", "--out", o, "--data", m, "--resume"],
        "run folder",
    );
    fails_naming(&["train", "--out", o], "--data");
    fails_naming(
        &["train", "--out", o, "--data", m, "--da", "dann"],
        "possible values: none, adversarial, grl, mmd, coral",
    );
    fails_naming(&["train", "--out", o, "--data", m, "--da", "mmd"], "--real");
    let real = tmp.path().join("real");
    std::fs::create_dir_all(real.join("sub")).expect("mkdir");
    let r = real.to_str().expect("utf8");
    fails_naming(
        &["train", "--out", o, "--data", m, "--da", "grl", "--real", r],
        "no PNG or JPEG image",
    );
    fails_naming(
        &[
            "train",
            "--out",
            o,
            "--data",
            m,
            "--real",
            r,
            "--da-layer",
            "fc9",
        ],
        "`fc9` is not a layer of the small backbone",
    );
    let empty = tmp.path().join("empty");
    std::fs::create_dir_all(&empty).expect("mkdir");
    let e = empty.to_str().expect("utf8");
    fails_naming(&["train", "--out", o, "--data", e], "no shards");
    fails_naming(&["export", "--run", o, "--out", m], "run folder");
    let bad = tmp.path().join("train.toml");
    std::fs::write(&bad, "bacth = 4\n").expect("write");
    let b = bad.to_str().expect("utf8");
    fails_naming(&["train", "--out", o, "--data", m, "--config", b], "bacth");
    // Pretext tasks: unknown names and settings the images cannot hold.
    fails_naming(
        &[
            "train",
            "--out",
            o,
            "--data",
            m,
            "--tasks",
            "rotation,jigsw",
        ],
        "unknown task `jigsw`",
    );
    fails_naming(
        &[
            "train",
            "--out",
            o,
            "--data",
            m,
            "--task-weight",
            "rotaton=2",
        ],
        "unknown task `rotaton`",
    );
    fails_naming(
        &[
            "train",
            "--out",
            o,
            "--data",
            m,
            "--task-weight",
            "rotation=much",
        ],
        "`much` is not a weight",
    );
    for (toml, needle) in [
        (
            "[pretext.jigsaw]\ntile = 48\n",
            "48 px is larger than a cell of the image (64 px / 3 = 21 px)",
        ),
        (
            "[pretext.jigsaw]\ngrid = 2\npermutations = 30\n",
            "must lie in 1..=24",
        ),
        (
            "[pretext.next_pixel]\npalette = 0\n",
            "`pretext.next_pixel.palette` (in the training config) must be at least 1, got 0",
        ),
        (
            "[pretext.simclr]\ntemperature = 0.0\n",
            "`pretext.simclr.temperature` (in the training config) must lie in (0, 10], got 0",
        ),
        (
            "[pretext.simclr]\ntemprature = 0.5\n",
            "unknown field `temprature`",
        ),
        (
            "batch = 1\n# simclr",
            "--batch (`batch` in the config) must be at least 2 for `simclr`",
        ),
    ] {
        let tasks = if toml.contains("jigsaw") {
            "jigsaw"
        } else if toml.contains("simclr") {
            "simclr"
        } else {
            "next-pixel"
        };
        std::fs::write(&bad, toml).expect("write");
        fails_naming(
            &[
                "train", "--out", o, "--data", m, "--config", b, "--tasks", tasks,
            ],
            needle,
        );
    }
    fails_naming(
        &[
            "train",
            "--out",
            o,
            "--real",
            m,
            "--tasks",
            "depth,rotation",
        ],
        "depth need labelled synthetic frames",
    );
    assert!(!out.join("checkpoints").exists(), "nothing half-written");
}

#[test]
fn train_runs_end_to_end_on_generated_shards() {
    let _guard = RENDER.lock().unwrap_or_else(|p| p.into_inner());
    let tmp = tempfile::tempdir().expect("tmp");
    let data = tmp.path().join("data");
    let o = synthfeat(&[
        "generate",
        "--out",
        data.to_str().expect("utf8"),
        "--count",
        "12",
        "--size",
        "64",
        "--views",
        "2",
        "--shard-size",
        "6",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let run = tmp.path().join("run");
    let o = synthfeat(&[
        "train",
        "--data",
        data.to_str().expect("utf8"),
        "--out",
        run.to_str().expect("utf8"),
        "--size",
        "32",
        "--batch",
        "2",
        "--steps",
        "3",
        "--width",
        "4",
        "--val-percent",
        "50",
        "--val-every",
        "3",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let lines = metrics(&run);
    let train: Vec<&serde_json::Value> = lines.iter().filter(|l| l["split"] == "train").collect();
    assert_eq!(train.len(), 3);
    for key in ["depth_loss", "normal_loss", "contour_loss", "samples_per_s"] {
        assert!(
            train[2][key].as_f64().is_some_and(f64::is_finite),
            "{key} in {}",
            train[2]
        );
    }
    let info = read_json(&run.join("checkpoint.json"));
    assert_eq!(info["step"], 3);
    let ckpt = run.join(info["dir"].as_str().expect("dir"));
    assert!(run.join("config.json").exists() && ckpt.join("model.mpk").exists());
    for png in ["curves.png", "predictions.png"] {
        assert!(run.join(png).is_file(), "{png}");
    }
    // Resume to more steps, then export the encoder.
    let r = run.to_str().expect("utf8");
    let d = data.to_str().expect("utf8");
    let o = synthfeat(&["train", "--data", d, "--out", r, "--steps", "4", "--resume"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let steps: Vec<u64> = metrics(&run)
        .iter()
        .filter(|l| l["split"] == "train")
        .filter_map(|l| l["step"].as_u64())
        .collect();
    assert_eq!(steps, vec![1, 2, 3, 4]);
    let enc = tmp.path().join("encoder.safetensors");
    let o = synthfeat(&["export", "--run", r, "--out", enc.to_str().expect("utf8")]);
    assert!(o.status.success(), "{}", stderr(&o));
    let bytes = std::fs::read(&enc).expect("export");
    let header_len = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes")) as usize;
    let header: serde_json::Value =
        serde_json::from_slice(&bytes[8..8 + header_len]).expect("header json");
    assert_eq!(
        header["conv1.weight"]["shape"],
        serde_json::json!([4, 3, 3, 3])
    );
    assert_eq!(header["__metadata__"]["step"], "4");

    // Real depth on a hand-made pair: a 16-bit PNG in millimetres, a ramp from 1 to 4 m.
    let rgbd = tmp.path().join("rgbd");
    std::fs::create_dir_all(&rgbd).expect("mkdir");
    image::RgbImage::from_fn(48, 40, |x, y| {
        image::Rgb([(x * 5) as u8, (y * 6) as u8, 90])
    })
    .save(rgbd.join("room.png"))
    .expect("png");
    image::ImageBuffer::<image::Luma<u16>, Vec<u16>>::from_fn(48, 40, |x, _| {
        image::Luma([1000 + (x as u16) * 60])
    })
    .save(rgbd.join("room_depth.png"))
    .expect("depth png");
    let depth_json = tmp.path().join("depth.json");
    let o = synthfeat(&[
        "eval",
        "depth",
        "--run",
        r,
        "--data",
        rgbd.to_str().expect("utf8"),
        "--json",
        depth_json.to_str().expect("utf8"),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v = read_json(&depth_json);
    let rows = v["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 3, "the run, random init and the constant: {v}");
    for row in rows {
        let m = &row["metrics"];
        assert!(
            m["abs_rel"]
                .as_f64()
                .is_some_and(|x| (0.0..1.0).contains(&x)),
            "{row}"
        );
        assert!(
            m["delta1"]
                .as_f64()
                .is_some_and(|x| (0.0..=1.0).contains(&x)),
            "{row}"
        );
    }
    let lonely = tmp.path().join("no-pairs");
    std::fs::create_dir_all(&lonely).expect("mkdir");
    image::RgbImage::new(8, 8)
        .save(lonely.join("lonely.png"))
        .expect("png");
    fails_naming(
        &[
            "eval",
            "depth",
            "--run",
            r,
            "--data",
            lonely.to_str().expect("utf8"),
        ],
        "no RGB image with a depth or disparity file",
    );

    // `compare` with two tiny entries, the second added after the first finished.
    let colours = tmp.path().join("colours");
    for (class, base) in [("warm", [220u8, 60, 30]), ("cool", [30, 60, 220])] {
        std::fs::create_dir_all(colours.join(class)).expect("mkdir");
        for i in 0..6u32 {
            image::RgbImage::from_fn(20, 20, |x, y| {
                image::Rgb(base.map(|c| c.saturating_add(((x * 7 + y * 3 + i * 11) % 30) as u8)))
            })
            .save(colours.join(class).join(format!("{i}.png")))
            .expect("png");
        }
    }
    let entries = [("depth", "depth"), ("normal only", "normal")];
    let config_with = |n: usize| {
        let mut t = format!(
            "steps = 2\nseed = 1\ndata = {d:?}\ntrain_args = [\"--size\", \"32\", \"--batch\", \"2\", \
             \"--width\", \"4\", \"--val-percent\", \"50\", \"--val-every\", \"2\"]\n\
             [[probe]]\nname = \"colours\"\npath = {:?}\nlayers = [\"conv2\", \"conv5\"]\n",
            colours.to_str().expect("utf8")
        );
        for (name, task) in &entries[..n] {
            t += &format!("[[entry]]\nname = {name:?}\ntasks = [{task:?}]\n");
        }
        let path = tmp.path().join(format!("compare{n}.toml"));
        std::fs::write(&path, t).expect("write");
        path
    };
    let report = tmp.path().join("report");
    let rep = report.to_str().expect("utf8");
    let run_compare = |n: usize| {
        let config = config_with(n);
        let o = synthfeat(&[
            "compare",
            "--config",
            config.to_str().expect("utf8"),
            "--out",
            rep,
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        o
    };
    run_compare(1);
    let o = run_compare(2);
    assert!(
        stderr(&o).contains("depth: trained already (step 2)"),
        "{}",
        stderr(&o)
    );
    let table = std::fs::read_to_string(report.join("table.md")).expect("table.md");
    for row in ["| random init |", "| depth |", "| normal only |"] {
        assert!(table.contains(row), "{row} in {table}");
    }
    assert!(
        table.contains("colours conv2") && table.contains("**"),
        "{table}"
    );
    let results = read_json(&report.join("results.json"));
    assert_eq!(results.as_array().map(Vec::len), Some(3));
    assert!(report.join("comparison.png").is_file());
    assert!(table.contains("## k-NN probe"), "{table}");
    // A second seed: the first seed's runs are kept, the second's trained,
    // and every cell becomes a mean ± sd.
    let config = config_with(2);
    let o = synthfeat(&[
        "compare",
        "--config",
        config.to_str().expect("utf8"),
        "--out",
        rep,
        "--seeds",
        "2",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("depth: trained already")
            && stderr(&o).contains("depth (seed 2): training"),
        "{}",
        stderr(&o)
    );
    let table = std::fs::read_to_string(report.join("table.md")).expect("table.md");
    assert!(
        table.contains(" ± ") && table.contains("2 seeds (1, 2)"),
        "{table}"
    );
    let results = read_json(&report.join("results.json"));
    let cell = &results[1]["probe"]["colours"]["conv2"];
    assert_eq!(
        cell["values"].as_array().map(Vec::len),
        Some(2),
        "{results}"
    );
    assert!(report.join("runs/depth/seed-2").is_dir());
    fails_naming(
        &[
            "compare",
            "--config",
            config.to_str().expect("utf8"),
            "--out",
            rep,
            "--seeds",
            "0",
        ],
        "--seeds must be at least 1",
    );

    // Adversarial adaptation toward a folder of real images and an IDX file.
    let real = tmp.path().join("real");
    std::fs::create_dir_all(&real).expect("mkdir");
    for (i, c) in [[200u8, 40, 40], [40, 200, 40], [40, 40, 200]]
        .iter()
        .enumerate()
    {
        image::RgbImage::from_pixel(40, 30, image::Rgb(*c))
            .save(real.join(format!("{i}.png")))
            .expect("png");
    }
    std::fs::write(real.join("damaged.png"), b"\x89PNG\r\n\x1a\n?").expect("write");
    let idx = tmp.path().join("digits-idx3-ubyte");
    let pixels: Vec<u8> = (0..60 * 28 * 28).map(|i| (i % 251) as u8).collect();
    std::fs::write(&idx, trainer::real::idx::encode(&[60, 28, 28], &pixels)).expect("idx");
    let adapted = tmp.path().join("adapted");
    let (a, r, x) = (
        adapted.to_str().expect("utf8"),
        real.to_str().expect("utf8"),
        idx.to_str().expect("utf8"),
    );
    let common = [
        "train",
        "--data",
        d,
        "--out",
        a,
        "--size",
        "32",
        "--batch",
        "4",
        "--width",
        "4",
        "--val-percent",
        "50",
        "--val-every",
        "2",
        "--real",
        r,
        "--real",
        x,
        "--da",
        "adversarial",
        "--da-layer",
        "conv4",
    ];
    let o = synthfeat(&[&common[..], &["--steps", "3"]].concat());
    assert!(o.status.success(), "{}", stderr(&o));
    let info = read_json(&adapted.join("checkpoint.json"));
    let ckpt = adapted.join(info["dir"].as_str().expect("dir"));
    for f in ["critic.mpk", "critic_optimizer.mpk"] {
        assert!(
            ckpt.join(f).is_file(),
            "the discriminator is checkpointed: {f}"
        );
    }
    // Resumed, with its discriminator, to step 4.
    let o = synthfeat(&[&common[..], &["--steps", "4", "--resume"]].concat());
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("domain gap at conv4"), "{out}");
    let lines = metrics(&adapted);
    let last_train = lines
        .iter()
        .rfind(|l| l["split"] == "train")
        .expect("train line");
    for key in ["adapt_loss", "adapt_critic_loss", "adapt_critic_accuracy"] {
        assert!(
            last_train[key].as_f64().is_some_and(f64::is_finite),
            "{key}: {last_train}"
        );
    }
    let last_val = lines
        .iter()
        .rfind(|l| l["split"] == "val")
        .expect("val line");
    let accuracy = last_val["domain_accuracy"]
        .as_f64()
        .expect("domain accuracy");
    assert!((0.0..=1.0).contains(&accuracy), "{last_val}");
    assert!(last_val["domain_mmd"].as_f64().is_some_and(f64::is_finite));

    // Synthetic and pretext tasks on one backbone.
    let mixed = tmp.path().join("mixed");
    let m = mixed.to_str().expect("utf8");
    let args = [
        "train",
        "--data",
        d,
        "--out",
        m,
        "--size",
        "48",
        "--batch",
        "2",
        "--width",
        "4",
        "--val-percent",
        "50",
        "--val-every",
        "2",
        "--tasks",
        "depth,rotation,jigsaw,dense-geometry",
        "--task-weight",
        "jigsaw=0.5",
    ];
    let o = synthfeat(&[&args[..], &["--steps", "2"]].concat());
    assert!(o.status.success(), "{}", stderr(&o));
    let o = synthfeat(&[&args[..], &["--steps", "3", "--resume"]].concat());
    assert!(o.status.success(), "{}", stderr(&o));
    let lines = metrics(&mixed);
    let last_val = lines
        .iter()
        .rfind(|l| l["split"] == "val")
        .expect("val line");
    assert_finite(
        last_val,
        &[
            "depth_abs_rel",
            "rotation_accuracy",
            "jigsaw_accuracy",
            "dense-geometry_loss",
            "dense-geometry_matches",
        ],
    );
    let state = read_json(&mixed.join("pretext.json"));
    assert_eq!(
        state["permutations"]["perms"].as_array().map(Vec::len),
        Some(100)
    );
    assert!(mixed.join("predictions.png").is_file());
    let config = read_json(&mixed.join("config.json"));
    assert_eq!(config["train"]["weights"]["jigsaw"], 0.5);

    // Real images alone: the pretext tasks, validated on held-out real images.
    let pretext = tmp.path().join("pretext");
    let p = pretext.to_str().expect("utf8");
    let o = synthfeat(&[
        "train",
        "--real",
        r,
        "--real",
        x,
        "--out",
        p,
        "--size",
        "48",
        "--batch",
        "2",
        "--width",
        "4",
        "--steps",
        "2",
        "--val-every",
        "2",
        "--tasks",
        "rotation,relative-position,colorization,inpainting,next-pixel,simclr",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let lines = metrics(&pretext);
    let last_val = lines
        .iter()
        .rfind(|l| l["split"] == "val")
        .expect("val line");
    assert_finite(
        last_val,
        &[
            "rotation_accuracy",
            "relative-position_accuracy",
            "colorization_top5_accuracy",
            "colorization_psnr_db",
            "inpainting_psnr_hole_db",
            "next-pixel_accuracy",
            "next-pixel_bits_per_subpixel",
            "simclr_accuracy",
        ],
    );
    assert!(pretext.join("predictions.png").is_file());
}

#[test]
fn train_live_streams_frames_from_the_renderer() {
    let _guard = RENDER.lock().unwrap_or_else(|p| p.into_inner());
    let tmp = tempfile::tempdir().expect("tmp");
    let run = tmp.path().join("run");
    let o = synthfeat(&[
        "train",
        "--live",
        "--out",
        run.to_str().expect("utf8"),
        "--render-size",
        "64",
        "--size",
        "32",
        "--batch",
        "2",
        "--steps",
        "3",
        "--width",
        "4",
        "--val-frames",
        "4",
        "--val-every",
        "3",
        "--tasks",
        "depth,next-pixel",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    // The palette was learnt from rendered frames before the first step.
    let state = read_json(&run.join("pretext.json"));
    assert_eq!(
        state["palette"]["colours"].as_array().map(Vec::len),
        Some(32)
    );
    let last = metrics(&run).pop().expect("a line");
    assert_finite(&last, &["depth_abs_rel", "next-pixel_accuracy"]);
    let splits: Vec<String> = metrics(&run)
        .iter()
        .map(|l| l["split"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(splits, vec!["train", "train", "train", "val"]);
}

#[test]
fn eval_probe_and_finetune_score_a_random_backbone_and_reject_bad_input() {
    let tmp = tempfile::tempdir().expect("tmp");
    let data = tmp.path().join("colours");
    for (class, base) in [("warm", [220u8, 60, 30]), ("cool", [30, 60, 220])] {
        std::fs::create_dir_all(data.join(class)).expect("mkdir");
        for i in 0..12u32 {
            let img = image::RgbImage::from_fn(24, 20, |x, y| {
                let n = ((x * 7 + y * 13 + i * 31) % 40) as u8;
                image::Rgb(base.map(|c| c.saturating_add(n)))
            });
            img.save(data.join(class).join(format!("{i}.png")))
                .expect("png");
        }
    }
    let d = data.to_str().expect("utf8");
    let json = tmp.path().join("probe.json");
    let o = synthfeat(&[
        "eval",
        "probe",
        "--run",
        "random",
        "--data",
        d,
        "--layers",
        "conv1,conv5",
        "--epochs",
        "10",
        "--json",
        json.to_str().expect("utf8"),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("| conv1 |") && stdout.contains("| conv5 |"),
        "{stdout}"
    );
    let v = read_json(&json);
    let layers = v["result"]["layers"].as_array().expect("layers");
    assert_eq!(layers.len(), 2);
    for l in layers {
        let top1 = l["top1"]["test"].as_f64().expect("test top-1");
        assert!(
            top1 >= 0.75,
            "warm vs cool colours are easy even for random features: {l}"
        );
        let knn = l["knn_top1"].as_f64().expect("k-NN top-1");
        assert!(knn >= 0.75, "and for the k-NN probe: {l}");
    }
    assert!(stdout.contains("k-NN top-1"), "{stdout}");

    let o = synthfeat(&[
        "eval",
        "finetune",
        "--run",
        "random",
        "--data",
        d,
        "--steps",
        "30",
        "--batch",
        "8",
        "--json",
        json.to_str().expect("utf8"),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v = read_json(&json);
    let top1 = v["result"]["test_top1"].as_f64().expect("top-1");
    assert!(top1 >= 0.75, "fine-tuning separates warm from cool: {v}");

    let missing = tmp.path().join("nowhere");
    fails_naming(
        &[
            "eval",
            "probe",
            "--run",
            "random",
            "--data",
            missing.to_str().expect("utf8"),
        ],
        "nowhere: no such folder",
    );
    fails_naming(
        &[
            "eval", "probe", "--run", "random", "--data", d, "--format", "cifar",
        ],
        "not a data set in the cifar format",
    );
    fails_naming(
        &[
            "eval",
            "probe",
            "--run",
            "random",
            "--data",
            d,
            "--layers",
            "conv1,fc9",
        ],
        "`fc9` is not a layer",
    );
    let run = tmp.path().join("run");
    std::fs::create_dir_all(&run).expect("mkdir");
    let config = serde_json::json!({"train": trainer::config::TrainConfig::default()});
    std::fs::write(run.join("config.json"), config.to_string()).expect("write");
    fails_naming(
        &[
            "eval",
            "probe",
            "--run",
            run.to_str().expect("utf8"),
            "--data",
            d,
        ],
        "checkpoint",
    );
}
