//! Shared fixtures: hand-made labelled samples and a dataset folder of them.

#![allow(dead_code)]

use engine::Sample;
use engine::dataset::{DatasetWriter, Layout, Manifest, encode_sample};
use engine::plan::Plan;
use engine::sample::{Intrinsics, SampleMeta, sample_key};
use std::path::Path;

/// A wall (far, facing the camera) above a floor (near, facing up); the horizon
/// row and the colours vary per sample, and the contour runs along the horizon.
pub fn sample(i: usize, size: usize) -> Sample {
    let horizon = size / 4 + i * size / 16;
    let (mut rgb, mut depth, mut normal, mut instance, mut contour) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for y in 0..size {
        for x in 0..size {
            let wall = y < horizon;
            let shade = (x * 3 + i * 7) as u8;
            if wall {
                rgb.extend_from_slice(&[200, 120 + shade / 4, 60]);
                depth.push(4.0 + 0.2 * i as f32);
                normal.extend_from_slice(&[0.0, 0.0, -1.0]);
                instance.push(2u16);
            } else {
                rgb.extend_from_slice(&[40, 90 + shade / 4, 210]);
                depth.push(1.0 + 3.0 * (size - y) as f32 / size as f32);
                normal.extend_from_slice(&[0.0, -1.0, 0.0]);
                instance.push(1u16);
            }
            contour.push(if y == horizon { 255 } else { 0 });
        }
    }
    Sample {
        meta: SampleMeta {
            key: sample_key(i as u64, 0),
            scene_seed: i as u64,
            view: 0,
            width: size as u32,
            height: size as u32,
            intrinsics: Intrinsics::from_vfov(size as u32, size as u32, 60.0),
            world_from_camera: [
                [1.0, 0.0, 0.0, 0.0],
                [0.0, 1.0, 0.0, 0.0],
                [0.0, 0.0, 1.0, 0.0],
                [0.0, 0.0, 0.0, 1.0],
            ],
            near: 0.05,
            far: 20.0,
            depth_unit: "mm".into(),
            normal_frame: "camera_opencv".into(),
            instances: vec![],
            generator: "test".into(),
            config_hash: "0".into(),
            shading_profile: "full".into(),
            synthfeat_version: engine::VERSION.into(),
        },
        rgb,
        depth_m: depth,
        normal_camera: normal,
        instance,
        contour,
    }
}

/// Writes `count` fixture samples of `size` px (scene seed = index) as tar
/// shards of `shard_size` into `dir`.
pub fn write_dataset(dir: &Path, count: u64, size: usize, shard_size: u64) {
    let plan = Plan {
        seed: 0,
        views: 1,
        count,
        shard_size,
    };
    let config = scenes::Config::default();
    let header = Manifest {
        format: "synthfeat-webdataset".into(),
        format_version: 1,
        synthfeat_version: engine::VERSION.into(),
        layout: Layout::Tar,
        width: size as u32,
        height: size as u32,
        plan,
        num_shards: plan.num_shards(),
        config_hash: config.hash_hex(),
        config,
        shards: vec![],
        updated_unix_s: 0,
    };
    let mut w = DatasetWriter::open(dir, header, (0, 1)).expect("open dataset");
    for shard in 0..plan.num_shards() {
        let mut sw = w.begin_shard(shard).expect("begin shard");
        for i in shard * shard_size..((shard + 1) * shard_size).min(count) {
            let s = sample(i as usize % 8, size);
            let s = Sample {
                meta: SampleMeta {
                    key: sample_key(i, 0),
                    scene_seed: i,
                    ..s.meta
                },
                ..s
            };
            sw.append(&encode_sample(&s).expect("encode"))
                .expect("append");
        }
        w.record(sw.finish().expect("finish")).expect("record");
    }
}
