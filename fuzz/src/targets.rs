//! The readers of outside files, each with valid seed inputs built here:
//! IDX, CIFAR-10 batches, npy, npz, PFM, disparity PNG, PNG/JPEG images,
//! dataset shards and manifests, scene / training / comparison TOML, run
//! folders, OBJ and glTF meshes. A reader may refuse its input; it must not
//! panic, abort or allocate far beyond what the input holds.

use std::path::Path;

use engine::dataset::{DatasetReader, Layout, Manifest, ShardEntry, encode_sample};
use engine::plan::Plan;
use engine::sample::{Intrinsics, Sample, SampleMeta};
use trainer::eval::arrays;
use trainer::eval::labelled::{self, LoadOptions};

/// One reader under test.
pub struct Target {
    /// Name on the command line and in reports.
    pub name: &'static str,
    /// Valid inputs to mutate.
    pub seeds: fn() -> Vec<Vec<u8>>,
    /// Runs the reader on `input`, with `dir` a scratch folder of its own for
    /// readers of files and folders; returns what came out (`ok`, or the
    /// error's text), which tells the driver when an input reached new ground.
    pub run: fn(input: &[u8], dir: &Path) -> String,
}

/// `ok`, or the error's text.
fn outcome<T, E: std::fmt::Display>(r: Result<T, E>) -> String {
    match r {
        Ok(_) => "ok".into(),
        Err(e) => e.to_string(),
    }
}

/// Every target.
pub fn all() -> Vec<Target> {
    vec![
        Target {
            name: "idx",
            seeds: || vec![trainer::real::idx::encode(&[3, 4, 4], &[7; 48])],
            run: |b, _| outcome(trainer::real::idx::parse(b)),
        },
        Target {
            name: "cifar",
            seeds: || vec![[vec![3u8], vec![90; 3072]].concat()],
            run: |b, dir| {
                write(dir, "data_batch_1.bin", b);
                write(dir, "test_batch.bin", b);
                write(dir, "batches.meta.txt", b"a\nb\nc\nd\n");
                outcome(labelled::open(dir, &LoadOptions::default()))
            },
        },
        Target {
            name: "npy",
            seeds: || vec![npy("<f4", "2, 3", &[0; 24]), npy("<u2", "2, 2", &[1; 8])],
            run: |b, _| outcome(arrays::npy(b)),
        },
        Target {
            name: "npz",
            seeds: || vec![stored_zip("disp.npy", &npy("<f4", "2, 2", &[0; 16]))],
            run: |b, _| outcome(arrays::npz(b)),
        },
        Target {
            name: "pfm",
            seeds: || vec![[b"Pf\n2 2\n-1.0\n".to_vec(), vec![0; 16]].concat()],
            run: |b, _| outcome(arrays::pfm(b)),
        },
        Target {
            name: "disparity-png",
            seeds: || vec![png_grey(6, 4)],
            run: |b, _| outcome(arrays::disparity_png(b, 4.0)),
        },
        Target {
            name: "image",
            seeds: || vec![png_rgb(5, 3), jpeg_grey_8x8()],
            run: |b, _| {
                let _ = engine::image_file::header_size(b);
                let _ = trainer::real::decode::decode(b);
                outcome(engine::image_file::decode_rgb(b))
            },
        },
        Target {
            name: "shard",
            seeds: || vec![shard()],
            run: |b, dir| {
                write(dir, "shard-000000.tar", b);
                let mut seen = String::from("ok");
                if let Ok(r) = DatasetReader::open(dir) {
                    r.read_shard(0, &mut |s| {
                        seen = outcome(s);
                        true
                    });
                }
                seen
            },
        },
        Target {
            name: "manifest",
            seeds: || vec![manifest()],
            run: |b, dir| {
                write(dir, "manifest.json", b);
                let _ = DatasetReader::open(dir);
                outcome(Manifest::read(&dir.join("manifest.json")))
            },
        },
        Target {
            name: "scene-config",
            seeds: || vec![scenes::Config::default().to_toml().into_bytes()],
            run: |b, _| {
                outcome(scenes::Config::from_toml_str(
                    &String::from_utf8_lossy(b),
                    "fuzz",
                ))
            },
        },
        Target {
            name: "train-config",
            seeds: || {
                vec![
                    trainer::config::TrainConfig::default()
                        .to_toml()
                        .into_bytes(),
                ]
            },
            run: |b, _| match toml::from_str::<trainer::config::TrainConfig>(
                &String::from_utf8_lossy(b),
            ) {
                Ok(c) => outcome(c.validate()),
                Err(e) => e.to_string(),
            },
        },
        Target {
            name: "compare-config",
            seeds: || vec![trainer::compare::DEFAULT_CONFIG.as_bytes().to_vec()],
            run: |b, dir| {
                outcome(trainer::compare::CompareConfig::parse(
                    &String::from_utf8_lossy(b),
                    Path::new("compare.toml"),
                    dir,
                ))
            },
        },
        Target {
            name: "run-folder",
            seeds: || {
                let c = trainer::config::TrainConfig::default();
                let config = serde_json::json!({"train": c, "source": {"kind": "data"}});
                vec![
                    serde_json::to_vec(&config).unwrap_or_default(),
                    br#"{"step": 3, "samples_seen": 24, "lr": 0.001, "dir": "checkpoints/step-00000003"}"#.to_vec(),
                ]
            },
            run: |b, dir| {
                write(dir, "config.json", b);
                write(dir, "checkpoint.json", b);
                let _ = trainer::checkpoint::latest(dir);
                outcome(trainer::run::saved_config(dir))
            },
        },
        Target {
            name: "obj",
            seeds: || {
                vec![b"v 0 0 0\nv 1 0 0\nv 0 1 0\nvt 0 0\nvn 0 0 1\nf 1/1/1 2/1/1 3/1/1\n".to_vec()]
            },
            run: |b, dir| {
                write(dir, "m.obj", b);
                outcome(engine::assets::load(&dir.join("m.obj"), true))
            },
        },
        Target {
            name: "gltf",
            seeds: glb_seeds,
            run: |b, dir| {
                write(dir, "m.glb", b);
                outcome(engine::assets::load(&dir.join("m.glb"), true))
            },
        },
    ]
}

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    let _ = std::fs::write(dir.join(name), bytes);
}

/// A `.npy` file of `descr` and `shape` holding `data`.
fn npy(descr: &str, shape: &str, data: &[u8]) -> Vec<u8> {
    let mut header =
        format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': ({shape}), }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(data);
    out
}

/// A zip holding one stored (uncompressed) entry, as `numpy.savez` writes.
fn stored_zip(name: &str, data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x50, 0x4b, 0x03, 0x04, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    out.extend_from_slice(&[0; 4]); // CRC-32, not checked by the reader
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(&(name.len() as u16).to_le_bytes());
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(data);
    out
}

fn encode(img: image::DynamicImage, format: image::ImageFormat) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    let _ = img.write_to(&mut out, format);
    out.into_inner()
}

fn png_grey(w: u32, h: u32) -> Vec<u8> {
    let img = image::GrayImage::from_fn(w, h, |x, y| image::Luma([(x * 20 + y) as u8]));
    encode(img.into(), image::ImageFormat::Png)
}

fn png_rgb(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([x as u8 * 40, y as u8 * 60, 9]));
    encode(img.into(), image::ImageFormat::Png)
}

/// A baseline JPEG of one grey 8×8 block, written by hand (the build has no
/// JPEG encoder): a flat quantisation table, one-code Huffman tables for DC
/// category 0 and the end of block, and a scan of those two codes.
pub fn jpeg_grey_8x8() -> Vec<u8> {
    let mut out = vec![0xff, 0xd8];
    out.extend_from_slice(&[0xff, 0xdb, 0, 67, 0]);
    out.extend_from_slice(&[1; 64]);
    out.extend_from_slice(&[0xff, 0xc0, 0, 11, 8, 0, 8, 0, 8, 1, 1, 0x11, 0]);
    for class in [0x00u8, 0x10] {
        out.extend_from_slice(&[0xff, 0xc4, 0, 20, class, 1]);
        out.extend_from_slice(&[0; 15]);
        out.push(0);
    }
    out.extend_from_slice(&[0xff, 0xda, 0, 8, 1, 1, 0x00, 0, 63, 0]);
    // DC "0" (category 0), AC "0" (end of block), padded with ones.
    out.push(0b0011_1111);
    out.extend_from_slice(&[0xff, 0xd9]);
    out
}

fn sample() -> Sample {
    let (w, h) = (4u32, 3u32);
    let n = (w * h) as usize;
    Sample {
        meta: SampleMeta {
            key: "0000000000000001-00".into(),
            scene_seed: 1,
            view: 0,
            width: w,
            height: h,
            intrinsics: Intrinsics::from_vfov(w, h, 60.0),
            world_from_camera: [
                [1.0, 0.0, 0.0, 0.0],
                [0.0, 1.0, 0.0, 0.0],
                [0.0, 0.0, 1.0, 0.0],
                [0.0, 0.0, 0.0, 1.0],
            ],
            near: 0.1,
            far: 10.0,
            depth_unit: "mm".into(),
            normal_frame: "camera_opencv".into(),
            instances: vec![],
            generator: "fuzz".into(),
            config_hash: "0".into(),
            shading_profile: "full".into(),
            synthfeat_version: "0".into(),
        },
        rgb: (0..3 * n).map(|i| i as u8).collect(),
        depth_m: (0..n).map(|i| 1.0 + i as f32 * 0.1).collect(),
        normal_camera: (0..n).flat_map(|_| [0.0, 0.0, -1.0]).collect(),
        instance: (0..n as u16).collect(),
        contour: vec![0; n],
    }
}

/// A tar shard of one sample, as `generate` writes it.
fn shard() -> Vec<u8> {
    let Ok(encoded) = encode_sample(&sample()) else {
        return Vec::new();
    };
    let mut builder = tar::Builder::new(Vec::new());
    for (name, bytes) in &encoded.members {
        let mut header = tar::Header::new_ustar();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        let _ = builder.append_data(&mut header, name, bytes.as_slice());
    }
    builder.into_inner().unwrap_or_default()
}

fn manifest() -> Vec<u8> {
    let config = scenes::Config::default();
    let m = Manifest {
        format: "synthfeat-webdataset".into(),
        format_version: 1,
        synthfeat_version: "0.1.0".into(),
        layout: Layout::Tar,
        width: 4,
        height: 3,
        plan: Plan {
            seed: 1,
            views: 1,
            count: 1,
            shard_size: 1,
        },
        num_shards: 1,
        config_hash: config.hash_hex(),
        config,
        shards: vec![ShardEntry {
            index: 0,
            name: "shard-000000.tar".into(),
            samples: 1,
            sha256: "0".repeat(64),
            bytes: 4096,
        }],
        updated_unix_s: 0,
    };
    serde_json::to_vec_pretty(&m).unwrap_or_default()
}

fn glb_seeds() -> Vec<Vec<u8>> {
    let Ok(dir) = tempfile::tempdir() else {
        return Vec::new();
    };
    let Ok(files) = engine::assets::builtin::write_library(dir.path(), 1) else {
        return Vec::new();
    };
    files
        .iter()
        .take(3)
        .filter_map(|p| std::fs::read(p).ok())
        .collect()
}
