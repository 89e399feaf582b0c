//! What a data set's frames show: per-frame figures and their spread, so a
//! user sees what a scene config produces before training on it.
//!
//! Objects are every instance whose category is not one of the room's own
//! surfaces ([`scenes::is_room_surface`]); an object is *visible* in a frame
//! when it covers at least [`scenes::VISIBLE_SHARE`] of it.

use serde::Serialize;

use crate::sample::Sample;

/// Figures of one frame.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct FrameStats {
    /// Share of pixels showing an object, in `[0, 1]`.
    pub object_share: f32,
    /// Objects covering at least 0.5 % of the frame.
    pub visible_objects: u32,
    /// Nearest surface's planar depth, metres (0 when the frame shows none).
    pub depth_near_m: f32,
    /// Farthest surface's planar depth, metres (0 when the frame shows none).
    pub depth_far_m: f32,
    /// Share of pixels on an instance contour.
    pub contour_share: f32,
    /// Mean Rec. 709 luma of the sRGB image, in `[0, 1]`.
    pub brightness: f32,
}

impl FrameStats {
    /// Measures one sample from its instance map, depth, contours and RGB.
    pub fn of(sample: &Sample) -> Self {
        let n = sample.pixels().max(1);
        let max_id = sample.instance.iter().copied().max().unwrap_or(0) as usize;
        let mut is_object = vec![false; max_id + 1];
        for info in &sample.meta.instances {
            if let Some(slot) = is_object.get_mut(info.id as usize) {
                *slot = info.id != 0 && !scenes::is_room_surface(&info.category);
            }
        }
        let mut per_id = vec![0u32; max_id + 1];
        for &id in &sample.instance {
            per_id[id as usize] += 1;
        }
        let object_pixels: u32 = per_id
            .iter()
            .zip(&is_object)
            .filter(|&(_, &o)| o)
            .map(|(&c, _)| c)
            .sum();
        let floor = scenes::VISIBLE_SHARE * n as f32;
        let visible_objects = per_id
            .iter()
            .zip(&is_object)
            .filter(|&(&c, &o)| o && c as f32 >= floor)
            .count() as u32;
        let (mut near, mut far) = (f32::INFINITY, 0.0f32);
        for &d in &sample.depth_m {
            if d > 0.0 && d.is_finite() {
                near = near.min(d);
                far = far.max(d);
            }
        }
        let contour = sample.contour.iter().filter(|&&c| c != 0).count();
        let luma: f64 = sample
            .rgb
            .chunks_exact(3)
            .map(|p| 0.2126 * f64::from(p[0]) + 0.7152 * f64::from(p[1]) + 0.0722 * f64::from(p[2]))
            .sum();
        FrameStats {
            object_share: object_pixels as f32 / n as f32,
            visible_objects,
            depth_near_m: if far > 0.0 { near } else { 0.0 },
            depth_far_m: far,
            contour_share: contour as f32 / n as f32,
            brightness: (luma / 255.0 / n as f64) as f32,
        }
    }
}

/// Lower quartile, median and upper quartile of one figure, with its extremes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Spread {
    /// Smallest value.
    pub min: f32,
    /// 25th percentile.
    pub q25: f32,
    /// 50th percentile.
    pub median: f32,
    /// 75th percentile.
    pub q75: f32,
    /// Largest value.
    pub max: f32,
}

impl Spread {
    /// The spread of `values` (nearest rank; all zeros when empty).
    pub fn of(mut values: Vec<f32>) -> Self {
        if values.is_empty() {
            return Spread::default();
        }
        values.sort_by(f32::total_cmp);
        let at = |p: f64| values[((values.len() - 1) as f64 * p).round() as usize];
        Spread {
            min: at(0.0),
            q25: at(0.25),
            median: at(0.5),
            q75: at(0.75),
            max: at(1.0),
        }
    }
}

/// Frames under this object share count as bare (a wall or floor alone).
pub const BARE_SHARE: f32 = 0.05;
/// Frames under this mean brightness count as near-black.
pub const DARK_BRIGHTNESS: f32 = 0.08;

/// The spread of every figure over a set of frames.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct StatsSummary {
    /// Frames measured.
    pub frames: u64,
    /// Share of pixels showing objects.
    pub object_share: Spread,
    /// Objects covering at least 0.5 % of a frame.
    pub visible_objects: Spread,
    /// Nearest surface, metres.
    pub depth_near_m: Spread,
    /// Farthest surface, metres.
    pub depth_far_m: Spread,
    /// Share of contour pixels.
    pub contour_share: Spread,
    /// Mean brightness.
    pub brightness: Spread,
    /// Share of frames whose objects cover under [`BARE_SHARE`] of them.
    pub bare_frames: f32,
    /// Share of frames darker than [`DARK_BRIGHTNESS`].
    pub dark_frames: f32,
}

/// Collects [`FrameStats`] frame by frame (a few bytes each).
#[derive(Clone, Debug, Default)]
pub struct StatsAccumulator {
    frames: Vec<FrameStats>,
}

impl StatsAccumulator {
    /// Measures `sample` and keeps its figures.
    pub fn add(&mut self, sample: &Sample) {
        self.push(FrameStats::of(sample));
    }

    /// Keeps figures measured elsewhere (e.g. on an encoder thread).
    pub fn push(&mut self, frame: FrameStats) {
        self.frames.push(frame);
    }

    /// Frames measured so far.
    pub fn len(&self) -> usize {
        self.frames.len()
    }

    /// Whether no frame was measured.
    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    /// The spread of every figure so far.
    pub fn summary(&self) -> StatsSummary {
        let f = &self.frames;
        let col = |g: fn(&FrameStats) -> f32| Spread::of(f.iter().map(g).collect());
        let share_of = |p: fn(&FrameStats) -> bool| {
            f.iter().filter(|s| p(s)).count() as f32 / f.len().max(1) as f32
        };
        StatsSummary {
            frames: f.len() as u64,
            object_share: col(|s| s.object_share),
            visible_objects: col(|s| s.visible_objects as f32),
            depth_near_m: col(|s| s.depth_near_m),
            depth_far_m: col(|s| s.depth_far_m),
            contour_share: col(|s| s.contour_share),
            brightness: col(|s| s.brightness),
            bare_frames: share_of(|s| s.object_share < BARE_SHARE),
            dark_frames: share_of(|s| s.brightness < DARK_BRIGHTNESS),
        }
    }
}

impl std::fmt::Display for StatsSummary {
    /// A small table: one row per figure, its quartiles and extremes.
    fn fmt(&self, out: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(out, "{} frames", self.frames)?;
        writeln!(
            out,
            "{:<26} {:>8} {:>8} {:>8} {:>8} {:>8}",
            "figure", "min", "q25", "median", "q75", "max"
        )?;
        let rows = [
            ("object pixel share", &self.object_share),
            ("visible objects (>=0.5%)", &self.visible_objects),
            ("nearest depth, m", &self.depth_near_m),
            ("farthest depth, m", &self.depth_far_m),
            ("contour pixel share", &self.contour_share),
            ("mean brightness", &self.brightness),
        ];
        for (name, s) in rows {
            writeln!(
                out,
                "{name:<26} {:>8.3} {:>8.3} {:>8.3} {:>8.3} {:>8.3}",
                s.min, s.q25, s.median, s.q75, s.max
            )?;
        }
        writeln!(
            out,
            "frames with objects under {:.0} % of pixels: {:.1} %",
            BARE_SHARE * 100.0,
            self.bare_frames * 100.0
        )?;
        write!(
            out,
            "near-black frames (brightness under {DARK_BRIGHTNESS}): {:.1} %",
            self.dark_frames * 100.0
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::{InstanceInfo, Intrinsics, SampleMeta};

    fn sample(instance: Vec<u16>, depth_m: Vec<f32>, rgb_value: u8) -> Sample {
        let n = instance.len();
        let info = |id: u16, category: &str| InstanceInfo {
            id,
            category: category.to_string(),
            shape: "box".to_string(),
            textures: Vec::new(),
            asset: None,
        };
        Sample {
            meta: SampleMeta {
                key: "k".into(),
                scene_seed: 0,
                view: 0,
                width: n as u32,
                height: 1,
                intrinsics: Intrinsics::from_vfov(n as u32, 1, 60.0),
                world_from_camera: [[0.0; 4]; 4],
                near: 0.05,
                far: 10.0,
                depth_unit: "mm".into(),
                normal_frame: "camera_opencv".into(),
                instances: vec![
                    info(1, "floor"),
                    info(2, "wall"),
                    info(3, "table"),
                    info(4, "clutter"),
                ],
                generator: "room".into(),
                config_hash: "0".into(),
                shading_profile: "full".into(),
                synthfeat_version: "0".into(),
            },
            rgb: vec![rgb_value; 3 * n],
            depth_m,
            normal_camera: vec![0.0; 3 * n],
            instance,
            contour: (0..n).map(|i| if i % 10 == 0 { 255 } else { 0 }).collect(),
        }
    }

    #[test]
    fn frame_figures_count_objects_not_room_surfaces() {
        // 1,000 pixels: 500 floor, 200 wall, 295 table, 5 clutter (0.5 %: visible).
        let mut ids = vec![1u16; 500];
        ids.extend([2; 200]);
        ids.extend([3; 295]);
        ids.extend([4; 5]);
        let mut depth = vec![2.0f32; 1000];
        depth[10] = 0.5;
        depth[20] = 7.5;
        depth[30] = 0.0;
        let f = FrameStats::of(&sample(ids.clone(), depth.clone(), 255));
        assert!((f.object_share - 0.3).abs() < 1e-6, "{f:?}");
        assert_eq!(f.visible_objects, 2);
        assert_eq!((f.depth_near_m, f.depth_far_m), (0.5, 7.5));
        assert!((f.contour_share - 0.1).abs() < 1e-6);
        assert!((f.brightness - 1.0).abs() < 1e-4);
        // One clutter pixel fewer: under 0.5 %, no longer visible.
        ids[999] = 1;
        let f = FrameStats::of(&sample(ids, depth, 0));
        assert_eq!(f.visible_objects, 1);
        assert_eq!(f.brightness, 0.0);
    }

    #[test]
    fn summary_gives_quartiles_and_bare_and_dark_shares() {
        let mut acc = StatsAccumulator::default();
        assert_eq!(acc.summary().frames, 0);
        // Object shares 0 %, 25 %, 50 %, 75 %, 100 % in frames of 4 pixels.
        for k in 0..5u16 {
            let ids: Vec<u16> = (0..4).map(|i| if i < k { 3 } else { 1 }).collect();
            let ids = if k == 4 { vec![3; 4] } else { ids };
            acc.add(&sample(ids, vec![1.0; 4], if k == 0 { 5 } else { 128 }));
        }
        let s = acc.summary();
        assert_eq!(s.frames, 5);
        assert_eq!(s.object_share.min, 0.0);
        assert_eq!(s.object_share.q25, 0.25);
        assert_eq!(s.object_share.median, 0.5);
        assert_eq!(s.object_share.q75, 0.75);
        assert_eq!(s.object_share.max, 1.0);
        assert!((s.bare_frames - 0.2).abs() < 1e-6);
        assert!((s.dark_frames - 0.2).abs() < 1e-6);
        let text = s.to_string();
        assert!(
            text.contains("object pixel share") && text.contains("20.0 %"),
            "{text}"
        );
    }
}
