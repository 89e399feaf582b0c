//! Library meshes in rendered frames: depth, normals and instance ids of an
//! asset match its geometry, its own material is drawn, and a file that
//! changed after the library was scanned is drawn as its bounding box.

mod common;

use common::scene::*;
use scenes::{Material, Object, Part, Primitive, Texture, Transform};
use std::path::Path;

/// A cube OBJ of side 200 (say, centimetres) with one red material, no normals.
fn write_cube(dir: &Path) -> std::path::PathBuf {
    std::fs::write(dir.join("red.mtl"), "newmtl red\nKd 0.9 0.05 0.05\n").expect("mtl");
    let mut obj = String::from("mtllib red.mtl\nusemtl red\n");
    for z in [-100, 100] {
        for y in [0, 200] {
            for x in [-100, 100] {
                obj += &format!("v {x} {y} {z}\n");
            }
        }
    }
    // Vertex (x, y, z) is 1 + xi + 2 yi + 4 zi; faces counter-clockwise from outside.
    for f in [
        "1 3 4 2", "5 6 8 7", "1 2 6 5", "3 7 8 4", "1 5 7 3", "2 4 8 6",
    ] {
        obj += &format!("f {f}\n");
    }
    let path = dir.join("cube.obj");
    std::fs::write(&path, obj).expect("obj");
    path
}

/// The cube as instance 7, scaled to 1 m, centred 1.5 m in front of the wall view's eye.
fn cube_object(path: &str, sha256: &str) -> Object {
    Object {
        instance_id: 7,
        category: "cube".into(),
        shape: "asset".into(),
        world_from_object: Transform::from_translation([0.0, 1.5, -1.5]),
        parts: vec![Part {
            primitive: Primitive::Asset {
                path: path.into(),
                sha256: sha256.into(),
                size: [1.0; 3],
            },
            object_from_part: Transform::from_translation([0.0; 3]),
            material: Material {
                base_color: [1.0; 3],
                roughness: 0.5,
                metallic: 0.0,
                texture: Texture::plain(),
            },
        }],
    }
}

#[test]
fn an_asset_has_its_geometry_its_colour_and_a_box_when_its_file_changed() {
    let tmp = tempfile::tempdir().expect("tmp");
    let path = write_cube(tmp.path());
    let (lib, skipped) = engine::assets::scan(&[tmp.path().to_path_buf()]).expect("scans");
    assert!(skipped.is_empty(), "{skipped:?}");
    let entry = &lib.entries[0];
    assert_eq!(entry.extent(), [200.0; 3]);
    let scene = room(
        vec![wall_view()],
        vec![cube_object(&entry.path, &entry.sha256)],
    );
    let s = &render_specs(vec![scene.clone()], 96)[0];
    let (w, centre) = (96usize, 48 * 96 + 48);
    assert_eq!(s.instance[centre], 7, "the asset's id");
    // Its front face is 1.0 m away (1.5 m to its centre, less half its side).
    assert!(
        (s.depth_m[centre] - 1.0).abs() < 0.02,
        "depth {}",
        s.depth_m[centre]
    );
    let n = &s.normal_camera[3 * centre..3 * centre + 3];
    let a = angle_deg(
        [f64::from(n[0]), f64::from(n[1]), f64::from(n[2])],
        [0.0, 0.0, -1.0],
    );
    assert!(a < 2.0, "flat normal faces the camera: {n:?} ({a:.2}°)");
    // 1 m wide at 1 m with a 70° field of view: about 1 / (2 tan 35°) of the width.
    let row: usize = (0..w).filter(|&x| s.instance[48 * w + x] == 7).count();
    let expected = w as f64 / (2.0 * 35f64.to_radians().tan());
    assert!(
        (row as f64 - expected).abs() < 3.0,
        "{row} px wide, expected {expected:.1}"
    );
    let rgb = &s.rgb[3 * centre..3 * centre + 3];
    assert!(rgb[0] > 2 * rgb[1].max(rgb[2]), "its red material: {rgb:?}");
    let info = s.meta.instances.iter().find(|i| i.id == 7).expect("listed");
    let asset = info.asset.as_ref().expect("asset recorded");
    assert_eq!(
        (asset.path.as_str(), asset.sha256.as_str()),
        (entry.path.as_str(), entry.sha256.as_str())
    );
    assert_eq!(info.textures, ["asset"]);

    // Changed after the scan: its bounding box stands in, labels consistent.
    let obj = std::fs::read_to_string(&path).expect("read");
    std::fs::write(&path, obj.replace("v -100 0 -100", "v -150 0 -100")).expect("write");
    let boxed = &render_specs(vec![scene], 96)[0];
    assert_eq!(boxed.instance[centre], 7);
    assert!(
        (boxed.depth_m[centre] - 1.0).abs() < 0.02,
        "depth {}",
        boxed.depth_m[centre]
    );
}

#[test]
fn built_in_assets_draw_with_unit_normals_and_their_ids() {
    let tmp = tempfile::tempdir().expect("tmp");
    engine::assets::builtin::write_library(tmp.path(), 1).expect("writes");
    let (lib, _) = engine::assets::scan(&[tmp.path().to_path_buf()]).expect("scans");
    let mut config = scenes::Config {
        asset_library: lib,
        ..Default::default()
    };
    config.assets.clutter_probability = 1.0;
    let specs: Vec<scenes::SceneSpec> = (0..3)
        .map(|i| scenes::generate(&config, scenes::scene_seed(21, i), 2))
        .collect();
    let frames = render_specs(specs.clone(), 64);
    let mut seen_assets = 0;
    for (k, s) in frames.iter().enumerate() {
        let spec = &specs[k / 2];
        for i in 0..s.pixels() {
            let n = &s.normal_camera[3 * i..3 * i + 3];
            let len = (n[0] * n[0] + n[1] * n[1] + n[2] * n[2]).sqrt();
            assert!((len - 1.0).abs() < 1e-3, "frame {k} pixel {i}: |n| = {len}");
            let id = s.instance[i];
            let object = spec
                .objects
                .iter()
                .find(|o| o.instance_id == id)
                .expect("a known id");
            if object.shape == "asset" {
                seen_assets += 1;
                assert!(s.depth_m[i] > 0.0 && s.depth_m[i] < 20.0);
            }
        }
    }
    assert!(seen_assets > 200, "asset pixels: {seen_assets}");
}
