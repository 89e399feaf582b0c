//! Instance contours: one-pixel-wide outlines derived from instance ids and depth.
//!
//! Between every pair of 4-neighbours whose instance ids differ, or whose depths
//! jump by more than a relative threshold, the pixel nearer to the camera is
//! marked: the outline lies on the occluding surface, one pixel wide, and every
//! visible object is outlined by a closed curve.

/// Value of a contour pixel in the contour map.
pub const CONTOUR: u8 = 255;

fn nearer(a: usize, b: usize, depth_m: &[f32]) -> usize {
    let (da, db) = (depth_m[a], depth_m[b]);
    match (da > 0.0, db > 0.0) {
        (true, false) => a,
        (false, true) => b,
        _ if db < da => b,
        _ => a,
    }
}

/// The contour map (255 on contour pixels, else 0) of a `width × height` view.
///
/// `depth_threshold` is relative: neighbours at depths `d1 < d2` with
/// `d2 - d1 > depth_threshold · d1` are a depth discontinuity.
pub fn contours(
    instance: &[u16],
    depth_m: &[f32],
    width: usize,
    height: usize,
    depth_threshold: f32,
) -> Vec<u8> {
    let mut out = vec![0u8; width * height];
    let jump = |a: usize, b: usize| {
        let (da, db) = (depth_m[a], depth_m[b]);
        if da <= 0.0 || db <= 0.0 {
            return false;
        }
        (da - db).abs() > depth_threshold * da.min(db)
    };
    for y in 0..height {
        for x in 0..width {
            let p = y * width + x;
            let mut neighbours = [None, None];
            if x + 1 < width {
                neighbours[0] = Some(p + 1);
            }
            if y + 1 < height {
                neighbours[1] = Some(p + width);
            }
            for q in neighbours.into_iter().flatten() {
                if instance[p] != instance[q] || jump(p, q) {
                    out[nearer(p, q, depth_m)] = CONTOUR;
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A square object (id 2, depth 1) on a floor (id 1, depth 2).
    fn square_scene(w: usize, h: usize) -> (Vec<u16>, Vec<f32>) {
        let mut inst = vec![1u16; w * h];
        let mut depth = vec![2.0f32; w * h];
        for y in 3..9 {
            for x in 4..12 {
                inst[y * w + x] = 2;
                depth[y * w + x] = 1.0;
            }
        }
        (inst, depth)
    }

    #[test]
    fn outline_lies_on_the_nearer_object_and_is_one_pixel_wide() {
        let (w, h) = (16, 12);
        let (inst, depth) = square_scene(w, h);
        let c = contours(&inst, &depth, w, h, 0.1);
        for y in 0..h {
            for x in 0..w {
                let on_border = (3..9).contains(&y)
                    && (4..12).contains(&x)
                    && (y == 3 || y == 8 || x == 4 || x == 11);
                assert_eq!(c[y * w + x] == CONTOUR, on_border, "pixel ({x},{y})");
            }
        }
    }

    #[test]
    fn depth_jump_within_one_instance_is_a_contour() {
        let (w, h) = (8, 1);
        let inst = vec![1u16; w];
        let depth = vec![1.0, 1.0, 1.0, 1.0, 3.0, 3.0, 3.0, 3.0];
        let c = contours(&inst, &depth, w, h, 0.1);
        assert_eq!(c, vec![0, 0, 0, 255, 0, 0, 0, 0]);
        // A smooth slope below the threshold is not.
        let depth: Vec<f32> = (0..w).map(|i| 1.0 + 0.05 * i as f32).collect();
        assert!(contours(&inst, &depth, w, h, 0.1).iter().all(|&v| v == 0));
    }

    #[test]
    fn no_surface_never_gets_marked() {
        let inst = vec![0u16, 0, 5, 5];
        let depth = vec![0.0, 0.0, 1.0, 1.0];
        assert_eq!(contours(&inst, &depth, 4, 1, 0.1), vec![0, 0, 255, 0]);
    }
}
