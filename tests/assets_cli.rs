//! Mesh asset libraries from the command line: the built-in library, assets
//! drawn and recorded, the library part of the config, bad files and folders.

mod common;

use common::*;
use std::path::Path;

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
        "4",
        "--layout",
        "dir",
        "--seed",
        "5",
    ];
    args.extend_from_slice(extra);
    synthfeat(&args)
}

/// Every instance of every sample JSON of a `--layout dir` data set.
fn instances(out: &Path) -> Vec<serde_json::Value> {
    let mut all = Vec::new();
    for shard in ["shard-000000", "shard-000001"] {
        let dir = out.join(shard);
        let mut names: Vec<_> = std::fs::read_dir(&dir)
            .expect("shard")
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        names.sort();
        for n in names {
            all.extend(
                read_json(&n)["instances"]
                    .as_array()
                    .expect("instances")
                    .clone(),
            );
        }
    }
    all
}

#[test]
fn built_in_assets_are_placed_recorded_and_part_of_the_config() {
    let _guard = RENDER.lock().unwrap_or_else(|p| p.into_inner());
    let tmp = tempfile::tempdir().expect("tmp");
    let lib = tmp.path().join("lib");
    let l = lib.to_str().expect("utf8");
    let o = synthfeat(&["make-assets", "--out", l, "--variants", "2"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(lib.join("mug").join("mug_01.glb").is_file());
    std::fs::write(lib.join("mug").join("broken.glb"), b"glTF but not really").expect("write");

    let out = tmp.path().join("out");
    let o = generate(&out, &["--assets", l]);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("broken.glb") && err.contains("skipping"),
        "{err}"
    );
    let all = instances(&out);
    let assets: Vec<&serde_json::Value> = all.iter().filter(|i| i["shape"] == "asset").collect();
    assert!(assets.len() >= 8, "{} asset instances", assets.len());
    for a in &assets {
        let path = a["asset"]["path"].as_str().expect("path");
        let category = a["category"].as_str().expect("category");
        assert!(
            path.contains(&format!("/{category}/")),
            "{path} is a {category}"
        );
        assert_eq!(a["asset"]["sha256"].as_str().map(str::len), Some(64));
        assert!(!path.contains("broken"));
    }
    assert!(
        all.iter()
            .filter(|i| i["shape"] != "asset")
            .all(|i| i.get("asset").is_none())
    );

    // The same inputs give the same bytes.
    let again = tmp.path().join("again");
    assert!(generate(&again, &["--assets", l]).status.success());
    assert_eq!(
        files(&out.join("shard-000000")),
        files(&again.join("shard-000000"))
    );

    // A changed library is refused on resume, and nothing written is touched.
    std::fs::remove_dir_all(out.join("shard-000001")).expect("rm");
    let before = files(&out.join("shard-000000"));
    let mug = lib.join("mug").join("mug_00.glb");
    let mut bytes = std::fs::read(&mug).expect("read");
    let last = bytes.len() - 1;
    bytes[last] ^= 0x55;
    std::fs::write(&mug, bytes).expect("write");
    let o = generate(&out, &["--assets", l]);
    assert!(!o.status.success(), "a changed library must not resume");
    assert_eq!(files(&out.join("shard-000000")), before);
}

#[test]
fn bad_asset_folders_and_settings_are_named() {
    let tmp = tempfile::tempdir().expect("tmp");
    let out = tmp.path().join("out");
    let o = out.to_str().expect("utf8");
    fails_naming(
        &["generate", "--out", o, "--assets", "/no/such/meshes"],
        "/no/such/meshes",
    );
    let junk = tmp.path().join("junk");
    std::fs::create_dir(&junk).expect("mkdir");
    std::fs::write(junk.join("a.obj"), "v 0 0 0\nv 1 0 0\n").expect("write");
    let j = junk.to_str().expect("utf8");
    fails_naming(&["generate", "--out", o, "--assets", j], "holds no usable");
    fails_naming(
        &["generate", "--out", o, "--assets", j],
        "draws no triangles",
    );
    let cfg = tmp.path().join("bad.toml");
    std::fs::write(&cfg, "[assets.sizes]\nmug = [0.3, 0.1]\n").expect("write");
    fails_naming(
        &[
            "generate",
            "--out",
            o,
            "--config",
            cfg.to_str().expect("utf8"),
        ],
        "assets.sizes.mug",
    );
    assert!(!out.exists(), "nothing written");
}
