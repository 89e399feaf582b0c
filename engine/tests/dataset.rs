//! Dataset I/O without a renderer: round trips, integrity, damage, resume.

use engine::dataset::{
    DatasetError, DatasetReader, DatasetWriter, Layout, Manifest, OnError, encode_sample,
};
use engine::plan::Plan;
use engine::sample::{InstanceInfo, Intrinsics, Sample, SampleMeta, sample_key};
use std::path::Path;

fn sample(seed: u64, view: u32) -> Sample {
    let (w, h) = (16u32, 12u32);
    let n = (w * h) as usize;
    let f = |i: usize, k: u64| ((i as u64 * 2654435761 + seed * 97 + k) % 1000) as f32 / 1000.0;
    let mut normal = Vec::with_capacity(3 * n);
    for i in 0..n {
        let (x, y) = (f(i, 1) - 0.5, f(i, 2) - 0.5);
        let z = -(1.0 - x * x - y * y).sqrt();
        normal.extend_from_slice(&[x, y, z]);
    }
    let instance: Vec<u16> = (0..n).map(|i| (i % 5) as u16).collect();
    let depth_m: Vec<f32> = (0..n)
        .map(|i| {
            if instance[i] == 0 {
                0.0
            } else {
                0.5 + 7.0 * f(i, 3)
            }
        })
        .collect();
    Sample {
        meta: SampleMeta {
            key: sample_key(seed, view),
            scene_seed: seed,
            view,
            width: w,
            height: h,
            intrinsics: Intrinsics::from_vfov(w, h, 60.0),
            world_from_camera: [
                [1.0, 0.0, 0.0, 0.5],
                [0.0, 1.0, 0.0, 1.5],
                [0.0, 0.0, 1.0, 0.0],
                [0.0, 0.0, 0.0, 1.0],
            ],
            near: 0.05,
            far: 20.0,
            depth_unit: "mm".into(),
            normal_frame: "camera_opencv".into(),
            instances: vec![InstanceInfo {
                id: 1,
                category: "floor".into(),
                shape: "box".into(),
                textures: vec!["pattern:checker/8/0.4".into()],
                asset: Some(engine::sample::AssetRef {
                    path: "lib/mug/a.glb".into(),
                    sha256: "ab".repeat(32),
                }),
            }],
            generator: "test".into(),
            config_hash: "0".into(),
            shading_profile: "full".into(),
            synthfeat_version: engine::VERSION.into(),
        },
        rgb: (0..3 * n).map(|i| (i * 7 + seed as usize) as u8).collect(),
        depth_m,
        normal_camera: normal,
        instance: instance.clone(),
        contour: engine::contour::contours(&instance, &vec![1.0; n], w as usize, h as usize, 0.1),
    }
}

fn header(layout: Layout, plan: Plan) -> Manifest {
    let config = scenes::Config::default();
    Manifest {
        format: "synthfeat-webdataset".into(),
        format_version: 1,
        synthfeat_version: engine::VERSION.into(),
        layout,
        width: 16,
        height: 12,
        plan,
        num_shards: plan.num_shards(),
        config_hash: config.hash_hex(),
        config,
        shards: vec![],
        updated_unix_s: 0,
    }
}

const PLAN: Plan = Plan {
    seed: 0,
    views: 2,
    count: 6,
    shard_size: 3,
};

/// Writes PLAN's two shards of synthetic samples and returns the samples.
fn write_dataset(dir: &Path, layout: Layout) -> Vec<Sample> {
    let mut w = DatasetWriter::open(dir, header(layout, PLAN), (0, 1)).expect("open");
    let mut all = Vec::new();
    for shard in 0..PLAN.num_shards() {
        let mut sw = w.begin_shard(shard).expect("begin");
        for i in PLAN.shard_range(shard) {
            let s = sample(i / 2 + 100, (i % 2) as u32);
            sw.append(&encode_sample(&s).expect("encode"))
                .expect("append");
            all.push(s);
        }
        let entry = sw.finish().expect("finish");
        w.record(entry).expect("record");
    }
    all
}

fn read_all(dir: &Path) -> Vec<Result<Sample, DatasetError>> {
    DatasetReader::open(dir)
        .expect("open")
        .samples(OnError::SkipShard, 2)
        .collect()
}

#[test]
fn shards_round_trip_bit_exactly_in_both_layouts() {
    for layout in [Layout::Tar, Layout::Dir] {
        let tmp = tempfile::tempdir().expect("tmp");
        let written = write_dataset(tmp.path(), layout);
        let read: Vec<Sample> = read_all(tmp.path())
            .into_iter()
            .map(|r| r.expect("sample"))
            .collect();
        assert_eq!(read.len(), written.len());
        for (r, w) in read.iter().zip(&written) {
            assert_eq!(r, &w.quantized(), "{layout:?} {}", w.meta.key);
            // Writing what was read gives the same bytes again.
            let again = encode_sample(r).expect("encode");
            let first = encode_sample(w).expect("encode");
            assert_eq!(again.members, first.members);
        }
    }
}

#[test]
fn manifest_sha256_matches_the_shards() {
    let tmp = tempfile::tempdir().expect("tmp");
    write_dataset(tmp.path(), Layout::Tar);
    let reader = DatasetReader::open(tmp.path()).expect("open");
    let m = reader.manifest().expect("manifest");
    assert_eq!(m.shards.len(), 2);
    assert_eq!(m.shards.iter().map(|s| s.samples).sum::<u64>(), 6);
    assert!(reader.verify().is_empty());
    // Flip one byte: verify names the shard.
    let path = tmp.path().join("shard-000001.tar");
    let mut bytes = std::fs::read(&path).expect("read");
    bytes[700] ^= 0xFF;
    std::fs::write(&path, bytes).expect("write");
    let errors = reader.verify();
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].to_string().contains("shard-000001.tar"),
        "{}",
        errors[0]
    );
}

#[test]
fn truncated_shard_is_named_and_the_reader_carries_on() {
    let tmp = tempfile::tempdir().expect("tmp");
    write_dataset(tmp.path(), Layout::Tar);
    let path = tmp.path().join("shard-000000.tar");
    let bytes = std::fs::read(&path).expect("read");
    std::fs::write(&path, &bytes[..bytes.len() / 2]).expect("truncate");
    let results = read_all(tmp.path());
    let errors: Vec<String> = results
        .iter()
        .filter_map(|r| r.as_ref().err().map(|e| e.to_string()))
        .collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].contains("shard-000000.tar"), "{}", errors[0]);
    assert!(
        errors[0].contains(".png") || errors[0].contains(".json"),
        "names a member: {}",
        errors[0]
    );
    // Every sample of the intact second shard still comes through.
    let ok: Vec<String> = results
        .iter()
        .filter_map(|r| r.as_ref().ok().map(|s| s.meta.key.clone()))
        .collect();
    for k in [sample_key(101, 1), sample_key(102, 0), sample_key(102, 1)] {
        assert!(ok.contains(&k), "{k} missing from {ok:?}");
    }
    // Asked to stop, the reader ends at the error.
    let stopped: Vec<_> = DatasetReader::open(tmp.path())
        .expect("open")
        .samples(OnError::Stop, 2)
        .collect();
    assert!(stopped.last().expect("some").is_err());
    assert!(
        stopped
            .iter()
            .all(|r| r.as_ref().map_or(true, |s| s.meta.scene_seed < 101))
    );
}

#[test]
fn corrupt_member_is_named() {
    let tmp = tempfile::tempdir().expect("tmp");
    write_dataset(tmp.path(), Layout::Dir);
    let member = tmp
        .path()
        .join("shard-000001")
        .join(format!("{}.depth.png", sample_key(102, 0)));
    std::fs::write(&member, b"not a png").expect("write");
    let errors: Vec<String> = read_all(tmp.path())
        .into_iter()
        .filter_map(|r| r.err().map(|e| e.to_string()))
        .collect();
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].contains(&format!("{}.depth.png", sample_key(102, 0))),
        "{}",
        errors[0]
    );
    assert!(errors[0].contains("shard-000001"), "{}", errors[0]);
}

#[test]
fn writer_keeps_complete_shards_and_replaces_unfinished_ones() {
    let tmp = tempfile::tempdir().expect("tmp");
    write_dataset(tmp.path(), Layout::Tar);
    let before = std::fs::read(tmp.path().join("shard-000000.tar")).expect("read");
    // A stale unfinished shard left by a kill.
    std::fs::write(tmp.path().join("shard-000001.tar.tmp"), b"partial").expect("write");
    std::fs::remove_file(tmp.path().join("shard-000001.tar")).expect("rm");
    let w = DatasetWriter::open(tmp.path(), header(Layout::Tar, PLAN), (0, 1)).expect("reopen");
    assert!(w.is_complete(0));
    assert!(!w.is_complete(1), "a shard whose file is gone is redone");
    let mut sw = w.begin_shard(1).expect("begin");
    assert!(!tmp.path().join("shard-000001.tar.tmp").exists() || sw.samples() == 0);
    for i in PLAN.shard_range(1) {
        sw.append(&encode_sample(&sample(i / 2 + 100, (i % 2) as u32)).expect("enc"))
            .expect("append");
    }
    sw.finish().expect("finish");
    assert_eq!(
        std::fs::read(tmp.path().join("shard-000000.tar")).expect("read"),
        before
    );
}

#[test]
fn a_folder_holding_another_run_is_refused_untouched() {
    let tmp = tempfile::tempdir().expect("tmp");
    write_dataset(tmp.path(), Layout::Tar);
    let manifest = std::fs::read(tmp.path().join("manifest.json")).expect("read");
    let other = Plan { seed: 9, ..PLAN };
    let err = DatasetWriter::open(tmp.path(), header(Layout::Tar, other), (0, 1))
        .err()
        .expect("refused");
    assert!(err.to_string().contains("seed"), "{err}");
    assert_eq!(
        std::fs::read(tmp.path().join("manifest.json")).expect("read"),
        manifest
    );
    let mut changed = header(Layout::Tar, PLAN);
    changed.config.camera.near = 0.1;
    changed.config_hash = changed.config.hash_hex();
    let err = DatasetWriter::open(tmp.path(), changed, (0, 1))
        .err()
        .expect("refused");
    assert!(err.to_string().contains("config"), "{err}");
}

#[test]
fn output_path_that_is_a_file_is_an_error() {
    let tmp = tempfile::tempdir().expect("tmp");
    let file = tmp.path().join("f");
    std::fs::write(&file, b"keep me").expect("write");
    let err = DatasetWriter::open(&file, header(Layout::Tar, PLAN), (0, 1))
        .err()
        .expect("refused");
    assert!(matches!(err, DatasetError::NotAFolder(_)), "{err}");
    assert_eq!(std::fs::read(&file).expect("read"), b"keep me");
}

#[test]
fn workers_keep_separate_manifests_that_readers_merge() {
    let tmp = tempfile::tempdir().expect("tmp");
    for worker in 0..2u64 {
        let mut w =
            DatasetWriter::open(tmp.path(), header(Layout::Tar, PLAN), (worker, 2)).expect("open");
        let mut sw = w.begin_shard(worker).expect("begin");
        for i in PLAN.shard_range(worker) {
            sw.append(&encode_sample(&sample(i / 2 + 100, (i % 2) as u32)).expect("enc"))
                .expect("append");
        }
        let e = sw.finish().expect("finish");
        w.record(e).expect("record");
    }
    assert!(
        tmp.path()
            .join("manifest.worker-00000-of-00002.json")
            .exists()
    );
    assert!(
        tmp.path()
            .join("manifest.worker-00001-of-00002.json")
            .exists()
    );
    let read: Vec<_> = read_all(tmp.path())
        .into_iter()
        .map(|r| r.expect("ok"))
        .collect();
    assert_eq!(read.len(), 6);
}
