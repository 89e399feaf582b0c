//! Augmentations on samples, before batching: random crop, horizontal flip
//! (which negates the normal's x) and the paper's "grey" (one random channel
//! copied into all three).

use engine::Sample;

/// Mirrors a sample left-right: every map, the normals' x component, `cx`,
/// and the pose's camera x axis (so that the mirrored pixels still unproject
/// to the points they show).
pub fn hflip(s: &Sample) -> Sample {
    let (w, h) = (s.meta.width as usize, s.meta.height as usize);
    let mut out = s.clone();
    for y in 0..h {
        for x in 0..w {
            let (dst, src) = (y * w + x, y * w + (w - 1 - x));
            out.depth_m[dst] = s.depth_m[src];
            out.instance[dst] = s.instance[src];
            out.contour[dst] = s.contour[src];
            for c in 0..3 {
                out.rgb[3 * dst + c] = s.rgb[3 * src + c];
            }
            out.normal_camera[3 * dst] = -s.normal_camera[3 * src];
            out.normal_camera[3 * dst + 1] = s.normal_camera[3 * src + 1];
            out.normal_camera[3 * dst + 2] = s.normal_camera[3 * src + 2];
        }
    }
    out.meta.intrinsics.cx = (w as f64 - 1.0) - s.meta.intrinsics.cx;
    // The mirrored image is a camera whose x axis points the other way.
    for row in out.meta.world_from_camera.iter_mut().take(3) {
        row[0] = -row[0];
    }
    out
}

/// The `size × size` window of `s` whose top-left pixel is `(x0, y0)`.
///
/// Returns `None` when the window does not fit.
pub fn crop(s: &Sample, x0: usize, y0: usize, size: usize) -> Option<Sample> {
    let (w, h) = (s.meta.width as usize, s.meta.height as usize);
    if size == 0 || x0 + size > w || y0 + size > h {
        return None;
    }
    let rows = y0..y0 + size;
    let mut out = s.clone();
    out.rgb.clear();
    out.depth_m.clear();
    out.normal_camera.clear();
    out.instance.clear();
    out.contour.clear();
    for y in rows {
        let a = y * w + x0;
        let b = a + size;
        out.rgb.extend_from_slice(&s.rgb[3 * a..3 * b]);
        out.depth_m.extend_from_slice(&s.depth_m[a..b]);
        out.normal_camera
            .extend_from_slice(&s.normal_camera[3 * a..3 * b]);
        out.instance.extend_from_slice(&s.instance[a..b]);
        out.contour.extend_from_slice(&s.contour[a..b]);
    }
    out.meta.width = size as u32;
    out.meta.height = size as u32;
    out.meta.intrinsics.cx -= x0 as f64;
    out.meta.intrinsics.cy -= y0 as f64;
    Some(out)
}

/// Copies colour channel `channel` (0–2) into all three.
pub fn grey(s: &Sample, channel: usize) -> Sample {
    let mut out = s.clone();
    let c = channel.min(2);
    for px in out.rgb.chunks_exact_mut(3) {
        let v = px[c];
        px.copy_from_slice(&[v, v, v]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use engine::sample::{Intrinsics, SampleMeta};

    fn sample() -> Sample {
        let (w, h) = (4usize, 2usize);
        let n = w * h;
        Sample {
            meta: SampleMeta {
                key: "k".into(),
                scene_seed: 0,
                view: 0,
                width: w as u32,
                height: h as u32,
                intrinsics: Intrinsics::from_vfov(w as u32, h as u32, 60.0),
                world_from_camera: [[0.0; 4]; 4],
                near: 0.1,
                far: 10.0,
                depth_unit: "mm".into(),
                normal_frame: "camera_opencv".into(),
                instances: vec![],
                generator: "t".into(),
                config_hash: "0".into(),
                shading_profile: "full".into(),
                synthfeat_version: "0".into(),
            },
            rgb: (0..3 * n as u8).collect(),
            depth_m: (0..n).map(|i| i as f32).collect(),
            normal_camera: (0..n).flat_map(|_| [0.6, 0.0, -0.8]).collect(),
            instance: (0..n as u16).collect(),
            contour: (0..n).map(|i| if i % 4 == 0 { 255 } else { 0 }).collect(),
        }
    }

    #[test]
    fn flip_mirrors_maps_and_negates_normal_x() {
        let s = sample();
        let f = hflip(&s);
        assert_eq!(&f.depth_m[..4], &[3.0, 2.0, 1.0, 0.0]);
        assert_eq!(&f.instance[4..], &[7, 6, 5, 4]);
        assert_eq!(&f.rgb[..3], &s.rgb[9..12]);
        assert_eq!(&f.normal_camera[..3], &[-0.6, 0.0, -0.8]);
        assert_eq!(f.contour[3], 255);
        assert_eq!(hflip(&f), s, "flipping twice restores the sample");
    }

    #[test]
    fn crop_keeps_the_window_and_shifts_the_principal_point() {
        let s = sample();
        let c = crop(&s, 1, 0, 2).expect("fits");
        assert_eq!(c.depth_m, vec![1.0, 2.0, 5.0, 6.0]);
        assert_eq!(c.meta.intrinsics.cx, s.meta.intrinsics.cx - 1.0);
        c.check_shape().expect("consistent");
        assert!(crop(&s, 3, 0, 2).is_none());
    }

    #[test]
    fn grey_copies_one_channel() {
        let g = grey(&sample(), 1);
        assert_eq!(&g.rgb[..6], &[1, 1, 1, 4, 4, 4]);
    }
}
