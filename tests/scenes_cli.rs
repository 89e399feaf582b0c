//! What scenes hold, as a user sees it: `stats`, and photo texture libraries
//! (drawn, recorded, hashed into the config, bad files skipped or refused).

mod common;

use common::*;
use std::path::Path;

/// Writes a `w × h` PNG of one colour.
fn png(path: &Path, w: u32, h: u32, rgb: [u8; 3]) {
    image::RgbImage::from_pixel(w, h, image::Rgb(rgb))
        .save(path)
        .expect("writes png");
}

/// A PNG whose header claims `w × h` pixels (with an empty data chunk).
fn png_header(path: &Path, w: u32, h: u32) {
    fn chunk(kind: &[u8], data: &[u8]) -> Vec<u8> {
        let mut c = (data.len() as u32).to_be_bytes().to_vec();
        c.extend_from_slice(kind);
        c.extend_from_slice(data);
        let mut crc = 0xFFFF_FFFFu32;
        for &b in kind.iter().chain(data) {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 != 0 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        c.extend_from_slice(&(!crc).to_be_bytes());
        c
    }
    let mut ihdr = w.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.extend(chunk(b"IHDR", &ihdr));
    bytes.extend(chunk(
        b"IDAT",
        &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
    ));
    bytes.extend(chunk(b"IEND", &[]));
    std::fs::write(path, bytes).expect("writes");
}

fn generate(out: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "generate",
        "--out",
        out.to_str().expect("utf8"),
        "--count",
        "8",
        "--size",
        "40",
        "--views",
        "4",
        "--shard-size",
        "8",
        "--layout",
        "dir",
        "--seed",
        "3",
    ];
    args.extend_from_slice(extra);
    synthfeat(&args)
}

/// The sample JSON files and RGB images of a `--layout dir` data set.
fn samples(out: &Path) -> Vec<(serde_json::Value, image::RgbImage)> {
    let dir = out.join("shard-000000");
    let mut keys: Vec<String> = std::fs::read_dir(&dir)
        .expect("shard dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter_map(|n| n.strip_suffix(".json").map(str::to_string))
        .collect();
    keys.sort();
    keys.iter()
        .map(|k| {
            let meta = read_json(&dir.join(format!("{k}.json")));
            let rgb = image::open(dir.join(format!("{k}.rgb.png")))
                .expect("rgb")
                .to_rgb8();
            (meta, rgb)
        })
        .collect()
}

/// Share of pixels whose green clearly dominates red and blue.
fn green_share(images: &[image::RgbImage]) -> f64 {
    let (mut green, mut all) = (0usize, 0usize);
    for img in images {
        for p in img.pixels() {
            let [r, g, b] = p.0.map(u32::from);
            all += 1;
            if g > 24 && g > 2 * r && g > 2 * b {
                green += 1;
            }
        }
    }
    green as f64 / all.max(1) as f64
}

#[test]
fn stats_reports_what_the_frames_show_and_generate_prints_it_too() {
    let _guard = RENDER.lock().unwrap_or_else(|p| p.into_inner());
    let tmp = tempfile::tempdir().expect("tmp");
    let out = tmp.path().join("d");
    let o = generate(&out, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let printed = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(printed.contains("object pixel share"), "{printed}");

    let json = tmp.path().join("stats.json");
    let o = synthfeat(&[
        "stats",
        "--data",
        out.to_str().expect("utf8"),
        "--json",
        json.to_str().expect("utf8"),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout).to_string();
    for row in [
        "object pixel share",
        "visible objects",
        "nearest depth",
        "mean brightness",
    ] {
        assert!(text.contains(row), "{row}: {text}");
    }
    let s = read_json(&json);
    assert_eq!(s["frames"], 8);
    // Default scenes are full of objects: most of each frame, several objects.
    let share = s["object_share"]["median"].as_f64().expect("number");
    assert!(share > 0.3, "median object share {share}");
    assert!(s["visible_objects"]["median"].as_f64().expect("number") >= 3.0);
    let (near, far) = (
        s["depth_near_m"]["median"].as_f64().expect("number"),
        s["depth_far_m"]["median"].as_f64().expect("number"),
    );
    assert!(0.0 < near && near < far, "{near} {far}");
    let o = synthfeat(&[
        "stats",
        "--data",
        out.to_str().expect("utf8"),
        "--limit",
        "3",
    ]);
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("3 frames"));

    fails_naming(
        &["stats", "--data", "/nonexistent/data"],
        "/nonexistent/data",
    );
    fails_naming(
        &[
            "stats",
            "--data",
            out.to_str().expect("utf8"),
            "--limit",
            "0",
        ],
        "--limit",
    );
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).expect("mkdir");
    fails_naming(
        &["stats", "--data", empty.to_str().expect("utf8")],
        "no shards",
    );
}

#[test]
fn photo_textures_are_drawn_recorded_and_part_of_the_config() {
    let _guard = RENDER.lock().unwrap_or_else(|p| p.into_inner());
    let tmp = tempfile::tempdir().expect("tmp");
    let photos = tmp.path().join("photos");
    std::fs::create_dir_all(photos.join("nested")).expect("mkdir");
    png(&photos.join("green.png"), 64, 48, [20, 200, 30]);
    png(
        &photos.join("nested").join("also-green.PNG"),
        17,
        33,
        [10, 180, 40],
    );
    std::fs::write(photos.join("broken.png"), b"not an image at all").expect("write");
    png_header(&photos.join("huge.png"), 40_000, 40_000);
    std::fs::write(photos.join("notes.txt"), b"ignored: not an image name").expect("write");
    // Every surface but the ceiling carries a photo.
    let config = tmp.path().join("photos.toml");
    std::fs::write(&config, "[materials]\nphoto_probability = 1.0\n").expect("write");
    let cfg = config.to_str().expect("utf8");

    let with = tmp.path().join("with");
    let o = generate(
        &with,
        &[
            "--config",
            cfg,
            "--textures",
            photos.to_str().expect("utf8"),
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("broken.png") && err.contains("huge.png"),
        "{err}"
    );
    assert!(err.contains("40000"), "the size is named: {err}");
    let textured = samples(&with);
    let without = tmp.path().join("without");
    let o = generate(&without, &["--config", cfg]);
    assert!(o.status.success(), "{}", stderr(&o));
    let plain = samples(&without);
    let rgb = |s: &[(serde_json::Value, image::RgbImage)]| -> Vec<image::RgbImage> {
        s.iter().map(|(_, i)| i.clone()).collect()
    };
    let (g_with, g_without) = (green_share(&rgb(&textured)), green_share(&rgb(&plain)));
    assert!(
        g_with > 0.3 && g_with > 3.0 * g_without,
        "green {g_with} vs {g_without}"
    );

    // Each instance names its texture sources; photos by path and hash.
    let sources: Vec<String> = textured
        .iter()
        .flat_map(|(m, _)| m["instances"].as_array().expect("instances").clone())
        .flat_map(|i| i["textures"].as_array().expect("textures").clone())
        .map(|t| t.as_str().expect("string").to_string())
        .collect();
    assert!(
        sources
            .iter()
            .any(|t| t.starts_with("photo:") && t.contains("green.png#"))
    );
    assert!(
        sources
            .iter()
            .all(|t| !t.contains("broken") && !t.contains("huge"))
    );

    // The library is part of the config: a changed library is refused on resume.
    let before = files(&with.join("shard-000000"));
    png(&photos.join("green.png"), 64, 48, [20, 210, 30]);
    let o = generate(
        &with,
        &[
            "--config",
            cfg,
            "--textures",
            photos.to_str().expect("utf8"),
        ],
    );
    assert!(!o.status.success(), "a changed library must not resume");
    assert_eq!(
        files(&with.join("shard-000000")),
        before,
        "nothing written was touched"
    );
}

#[test]
fn bad_texture_folders_and_settings_are_named() {
    let tmp = tempfile::tempdir().expect("tmp");
    let out = tmp.path().join("out");
    let o = out.to_str().expect("utf8");
    fails_naming(
        &["generate", "--out", o, "--textures", "/no/such/photos"],
        "/no/such/photos",
    );
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).expect("mkdir");
    let e = empty.to_str().expect("utf8");
    fails_naming(
        &["generate", "--out", o, "--textures", e],
        "holds no usable",
    );
    let junk = tmp.path().join("junk");
    std::fs::create_dir(&junk).expect("mkdir");
    std::fs::write(junk.join("a.jpg"), b"\xFF\xD8\xFF\xE0 truncated").expect("write");
    png_header(&junk.join("zero.png"), 0, 0);
    let j = junk.to_str().expect("utf8");
    fails_naming(&["generate", "--out", o, "--textures", j], "a.jpg");
    let bad = tmp.path().join("bad.toml");
    for (text, field) in [
        (
            "[materials]\nphoto_scale = [0.0, 1.0]\n",
            "materials.photo_scale",
        ),
        (
            "[materials]\nphoto_scale = [-2.0, -1.0]\n",
            "materials.photo_scale",
        ),
        (
            "[materials]\nphoto_probability = 1.5\n",
            "materials.photo_probability",
        ),
        ("[camera]\nview_attempts = 0\n", "camera.view_attempts"),
        (
            "[objects]\nclutter_per_support = [4, 1]\n",
            "objects.clutter_per_support",
        ),
    ] {
        std::fs::write(&bad, text).expect("write");
        fails_naming(
            &[
                "generate",
                "--out",
                o,
                "--config",
                bad.to_str().expect("utf8"),
            ],
            field,
        );
    }
    assert!(!out.exists(), "a refused run writes nothing");
}
