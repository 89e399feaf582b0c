//! Pixel correspondences between two rendered views of one scene, from
//! their depth, intrinsics and `world_from_camera`: a cell of view `a`'s
//! grid and the cell of view `b` that sees the same 3-D point, where `b`
//! sees it (in its frame, in front of it, and not behind another surface).
//! The dense-geometry task's positives.

use engine::Sample;
use engine::sample::Intrinsics;

/// One view's camera and depth, kept on the host beside a batch.
#[derive(Clone, Debug, PartialEq)]
pub struct ViewGeometry {
    /// The scene the view shows (views of one scene share it).
    pub scene_seed: u64,
    /// Pinhole intrinsics of the image (OpenCV: pixel centres at integers).
    pub intrinsics: Intrinsics,
    /// Camera pose: OpenCV camera frame to world, row-major.
    pub world_from_camera: [[f64; 4]; 4],
    /// Image width, pixels.
    pub width: usize,
    /// Image height, pixels.
    pub height: usize,
    /// Planar depth per pixel, metres, row-major; 0 = no surface.
    pub depth_m: Vec<f32>,
}

impl ViewGeometry {
    /// The geometry of a (cropped, flipped) sample.
    pub fn of(s: &Sample) -> Self {
        ViewGeometry {
            scene_seed: s.meta.scene_seed,
            intrinsics: s.meta.intrinsics,
            world_from_camera: s.meta.world_from_camera,
            width: s.meta.width as usize,
            height: s.meta.height as usize,
            depth_m: s.depth_m.clone(),
        }
    }

    fn depth_at(&self, x: f64, y: f64) -> Option<f64> {
        let (xi, yi) = (x.round(), y.round());
        if xi < 0.0 || yi < 0.0 || xi > (self.width - 1) as f64 || yi > (self.height - 1) as f64 {
            return None;
        }
        let d = f64::from(*self.depth_m.get(yi as usize * self.width + xi as usize)?);
        (d > 0.0).then_some(d)
    }

    /// The world point seen at pixel `(x, y)` with planar depth `d`.
    fn unproject(&self, x: f64, y: f64, d: f64) -> [f64; 3] {
        let k = &self.intrinsics;
        let c = [(x - k.cx) / k.fx * d, (y - k.cy) / k.fy * d, d];
        let m = &self.world_from_camera;
        [0, 1, 2].map(|r| m[r][0] * c[0] + m[r][1] * c[1] + m[r][2] * c[2] + m[r][3])
    }

    /// Pixel and planar depth of world point `p` in this view.
    fn project(&self, p: [f64; 3]) -> Option<(f64, f64, f64)> {
        let m = &self.world_from_camera;
        let t = [p[0] - m[0][3], p[1] - m[1][3], p[2] - m[2][3]];
        // camera_from_world = Rᵀ for a rigid pose.
        let c = [0, 1, 2].map(|col| m[0][col] * t[0] + m[1][col] * t[1] + m[2][col] * t[2]);
        if c[2] <= 1e-6 {
            return None;
        }
        let k = &self.intrinsics;
        Some((k.fx * c[0] / c[2] + k.cx, k.fy * c[1] / c[2] + k.cy, c[2]))
    }
}

/// Pixel position of the centre of cell `i` of `cells` along an axis of `len` pixels.
fn cell_centre(i: usize, cells: usize, len: usize) -> f64 {
    (i as f64 + 0.5) * len as f64 / cells as f64 - 0.5
}

/// For each cell of a `[rows, cols]` grid over view `a` whose centre pixel
/// has depth, the cell of the same grid over view `b` that sees the same
/// point, when `b`'s own depth there agrees with the point's within
/// `tolerance` (a share of the depth) — else the point is hidden from `b`
/// or outside it, and the cell has no partner. Cells are numbered row-major.
pub fn correspondences(
    a: &ViewGeometry,
    b: &ViewGeometry,
    [rows, cols]: [usize; 2],
    tolerance: f64,
) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    if rows == 0 || cols == 0 || a.width == 0 || b.width == 0 {
        return out;
    }
    for gy in 0..rows {
        for gx in 0..cols {
            let (x, y) = (
                cell_centre(gx, cols, a.width),
                cell_centre(gy, rows, a.height),
            );
            let Some(d) = a.depth_at(x, y) else { continue };
            let Some((u, v, z)) = b.project(a.unproject(x, y, d)) else {
                continue;
            };
            let Some(seen) = b.depth_at(u, v) else {
                continue;
            };
            if (seen - z).abs() > tolerance * z {
                continue;
            }
            let bx = (((u + 0.5) * cols as f64 / b.width as f64).floor() as usize).min(cols - 1);
            let by = (((v + 0.5) * rows as f64 / b.height as f64).floor() as usize).min(rows - 1);
            out.push((gy * cols + gx, by * cols + bx));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 32×32 view at `x` (metres along the world's x) looking along +z at
    /// a wall 2 m away, with `occluder` metres of depth over columns 0..8.
    fn view(x: f64, occluder: Option<f32>) -> ViewGeometry {
        let (w, h) = (32, 32);
        let mut depth_m = vec![2.0f32; w * h];
        if let Some(d) = occluder {
            for row in depth_m.chunks_mut(w) {
                row[..8].iter_mut().for_each(|v| *v = d);
            }
        }
        ViewGeometry {
            scene_seed: 1,
            intrinsics: Intrinsics {
                fx: 32.0,
                fy: 32.0,
                cx: 15.5,
                cy: 15.5,
            },
            world_from_camera: [
                [1.0, 0.0, 0.0, x],
                [0.0, 1.0, 0.0, 0.0],
                [0.0, 0.0, 1.0, 0.0],
                [0.0, 0.0, 0.0, 1.0],
            ],
            width: w,
            height: h,
            depth_m,
        }
    }

    #[test]
    fn a_sideways_step_shifts_every_cell_by_the_projected_baseline() {
        // 0.5 m to the right at 2 m and f = 32 px: 8 px, one cell of a 4×4 grid.
        let (a, b) = (view(0.0, None), view(0.5, None));
        let c = correspondences(&a, &b, [4, 4], 0.05);
        // The first column of a leaves b's frame; every other cell moves left one.
        assert_eq!(c.len(), 12);
        for (i, j) in c {
            assert_eq!(i % 4, j % 4 + 1, "{i} -> {j}");
            assert_eq!(i / 4, j / 4);
        }
        // A view matches itself cell for cell.
        let same = correspondences(&a, &a, [4, 4], 0.05);
        assert_eq!(same, (0..16).map(|i| (i, i)).collect::<Vec<_>>());
    }

    #[test]
    fn points_hidden_behind_a_nearer_surface_have_no_partner() {
        // In b, columns 0..8 show an occluder at 1 m in front of the wall: the
        // wall points of a that land there are hidden.
        let (a, b) = (view(0.0, None), view(0.5, Some(1.0)));
        let c = correspondences(&a, &b, [4, 4], 0.05);
        assert_eq!(c.len(), 8);
        assert!(c.iter().all(|&(_, j)| j % 4 != 0));
        // Pixels without depth (the sky) have no partner either.
        let mut empty = view(0.0, None);
        empty.depth_m.iter_mut().for_each(|d| *d = 0.0);
        assert!(correspondences(&empty, &b, [4, 4], 0.05).is_empty());
    }

    #[test]
    fn a_turned_camera_sees_points_where_the_projection_puts_them() {
        // b turned 90° about y (looking along +x) sees nothing of a wall ahead of a.
        let a = view(0.0, None);
        let mut b = view(0.0, None);
        b.world_from_camera = [
            [0.0, 0.0, 1.0, 0.0],
            [0.0, 1.0, 0.0, 0.0],
            [-1.0, 0.0, 0.0, 0.0],
            [0.0, 0.0, 0.0, 1.0],
        ];
        assert!(correspondences(&a, &b, [4, 4], 0.05).is_empty());
    }
}
